import { HTTP_TOKEN } from './value-parsers.js';

/** Methods no reverse proxy forwards: TRACE echoes credentials back (cross-site tracing), CONNECT asks for a tunnel. */
export const NEVER_PROXIED_METHODS: ReadonlySet<string> = new Set(['TRACE', 'CONNECT']);

/** Which methods are proxied: the ones listed, or any method Node's parser knows except TRACE and CONNECT. */
export type AllowedMethods = { readonly any: true } | { readonly any: false; readonly listed: readonly string[] };

/** `GET,HEAD,POST` (upper-cased, as methods are case-sensitive and always sent so), or `*`. */
export function parseAllowedMethods(text: string): AllowedMethods {
  if (text.trim() === '*') return { any: true };
  const listed = text.split(',').map((entry) => entry.trim());
  for (const method of listed) {
    if (!HTTP_TOKEN.test(method)) throw new RangeError(`expected methods such as GET,HEAD,POST (or *), got ${JSON.stringify(method)}`);
    if (NEVER_PROXIED_METHODS.has(method.toUpperCase())) throw new RangeError(`${method.toUpperCase()} is never proxied`);
  }
  return { any: false, listed: [...new Set(listed.map((method) => method.toUpperCase()))] };
}

/** A media type (`application/json`) or a range of them (`text/*`), lower-cased; an empty list allows every type. */
export function parseContentTypes(text: string): readonly string[] {
  if (text.trim() === '') return [];
  return text.split(',').map((entry) => {
    const type = entry.trim().toLowerCase();
    if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+\/[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(type) || (type.startsWith('*/') && type !== '*/*')) {
      throw new RangeError(`expected media types such as application/json,text/* , got ${JSON.stringify(entry.trim())}`);
    }
    return type;
  });
}
