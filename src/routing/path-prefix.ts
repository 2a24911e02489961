/** The characters that end a path segment: a prefix matches only up to one of them (or the end). */
const SLASH = 0x2f;
const QUESTION_MARK = 0x3f;

/** Whether `path` is `prefix` or below it, segment-wise: `/orders` covers `/orders`, `/orders/7` and `/orders?x`, not `/ordersX`. */
export function isUnder(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  if (path.length === prefix.length || prefix.endsWith('/')) return true;
  const next = path.charCodeAt(prefix.length);
  return next === SLASH || next === QUESTION_MARK;
}
