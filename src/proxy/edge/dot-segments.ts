/**
 * The request target with its dot segments removed (RFC 3986 §5.2.4), `%2e` counted as `.` as
 * backends that decode before resolving would count it; the query is left alone. Undefined when the
 * path climbs above the root (`/../x`): joined to a backend's prefix, it would leave it, so it is
 * refused (400, as NGINX does). A target without dot segments, nearly every one, is returned as is
 * after two scans for `/.` and `%2`.
 */
export function withoutDotSegments(target: string): string | undefined {
  const queryAt = target.indexOf('?');
  const pathEnd = queryAt === -1 ? target.length : queryAt;
  // The common case without allocating: no `/.` and no `%2` before the query.
  const dot = target.indexOf('/.');
  const escape = target.indexOf('%2');
  if ((dot === -1 || dot >= pathEnd) && (escape === -1 || escape >= pathEnd)) return target;
  const segments = target.slice(0, pathEnd).split('/');
  // segments[0] is the empty string before the leading '/'.
  const kept: string[] = [];
  let endsInDirectory = false;
  for (let i = 1; i < segments.length; i++) {
    const dots = dotsOf(segments[i]);
    endsInDirectory = dots > 0;
    if (dots === 1) continue;
    if (dots === 2) {
      if (kept.length === 0) return undefined;
      kept.pop();
      continue;
    }
    kept.push(segments[i]);
  }
  // `/a/b/..` is `/a/`: a dot segment at the end leaves the path ending in a slash.
  const normalized = `/${kept.join('/')}${endsInDirectory && kept.length > 0 ? '/' : ''}`;
  return queryAt === -1 ? normalized : normalized + target.slice(queryAt);
}

/** 1 for `.`, 2 for `..` (either written as `%2e`/`%2E`), 0 for any other segment. */
function dotsOf(segment: string): 0 | 1 | 2 {
  if (segment.length === 0 || segment.length > 6) return 0;
  const decoded = segment.replace(/%2e/gi, '.');
  return decoded === '.' ? 1 : decoded === '..' ? 2 : 0;
}
