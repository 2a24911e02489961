import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/** The hook Node's HTTP parser calls after each read it parsed natively (a consumed socket). */
interface NativeParser {
  [hook: number]: ((this: unknown, ...args: unknown[]) => unknown) | undefined;
  getCurrentBuffer?: () => Buffer;
}

/** Node's index of that hook, when this Node exposes it; without it the check is off (and 0.9 lines wait for --read-timeout). */
const ON_EXECUTE: number | undefined = (() => {
  try {
    const { HTTPParser } = createRequire(import.meta.url)('_http_common') as { HTTPParser?: { kOnExecute?: unknown } };
    return typeof HTTPParser?.kOnExecute === 'number' ? HTTPParser.kOnExecute : undefined;
  } catch {
    return undefined;
  }
})();

/** Longer than any first line worth checking: past it, the parser's own limits decide. */
const MAX_LINE_BYTES = 8 * 1024;

/** `METHOD target` with no `HTTP/x.y` after it. */
export function isHttp09RequestLine(line: string): boolean {
  return !/ HTTP\/\d+\.\d+\r?$/.test(line);
}

/**
 * Node's parser takes `GET /\r\n` for an HTTP/0.9 request and then waits for headers that such a
 * client never sends, so the connection would hang until --read-timeout. This watches the first line
 * of each connection as the parser reads it (Node offers no event before the head is complete) and
 * calls `refuse` at once when it names no version; once a line with a version has passed, the hook
 * is handed back to Node and costs nothing more. HTTP/0.9 has no keep-alive, so its request is the first.
 */
export function watchFirstRequestLine(socket: Socket, refuse: (socket: Socket) => void): void {
  const parser = (socket as Socket & { parser?: NativeParser }).parser;
  const hook = ON_EXECUTE;
  const nodeHook = hook === undefined ? undefined : parser?.[hook];
  if (hook === undefined || !parser || typeof nodeHook !== 'function' || !parser.getCurrentBuffer) return;
  const handBack = (self: unknown, args: unknown[]): unknown => {
    parser[hook] = nodeHook;
    return nodeHook.apply(self, args);
  };
  let line = '';
  parser[hook] = function (...args: unknown[]) {
    // A parse error (args[0]) is Node's to answer, as for any other malformed request.
    if (args[0] instanceof Error) return handBack(this, args);
    const chunk = parser.getCurrentBuffer!();
    let start = 0;
    // Blank lines before a request line are allowed (RFC 9112 §2.2): the parser skips them, so does this.
    if (line === '') while (start < chunk.length && (chunk[start] === 0x0d || chunk[start] === 0x0a)) start++;
    const end = chunk.indexOf(0x0a, start);
    line += chunk.toString('latin1', start, end === -1 ? chunk.length : end);
    if (end === -1 && line.length < MAX_LINE_BYTES) return nodeHook.apply(this, args);
    if (end !== -1 && isHttp09RequestLine(line)) {
      parser[hook] = nodeHook;
      refuse(socket);
      return undefined;
    }
    return handBack(this, args);
  };
}
