import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** 1 to 128 visible ASCII characters: what a request id may be before we trust it into logs. */
const USABLE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The request's id: the client's (or an upstream proxy's) `X-Request-Id` when it is usable, else
 * a fresh UUID. An id that is too long or has spaces or control characters is replaced, because it
 * goes into every log line and header about the request.
 */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const incoming = headers['x-request-id'];
  return typeof incoming === 'string' && USABLE_REQUEST_ID.test(incoming) ? incoming : randomUuid();
}

/** W3C trace context: version-traceid-parentid-flags, lower-case hex, ids not all zeros. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZEROS_32 = '0'.repeat(32);
const ZEROS_16 = '0'.repeat(16);

export interface TraceContext {
  /** The `traceparent` to send to the backend. */
  readonly traceparent: string;
  readonly traceId: string;
}

/**
 * The trace this request belongs to. A valid incoming `traceparent` goes to the backend unchanged,
 * trace id intact; without one (or with a malformed one) the gateway starts a trace, sampled, so
 * the backend can join it.
 */
export function traceContextOf(headers: IncomingHttpHeaders): TraceContext {
  const incoming = headers.traceparent;
  if (typeof incoming === 'string') {
    const match = TRACEPARENT.exec(incoming);
    // Version ff is forbidden; version 00 has exactly four fields.
    if (match && match[1] !== 'ff' && match[2] !== ZEROS_32 && match[3] !== ZEROS_16 && !(match[1] === '00' && match[5])) {
      return { traceparent: incoming, traceId: match[2] };
    }
  }
  const traceparent = newTraceparent();
  // A slice of the header's text: no second string.
  return { traceparent, traceId: traceparent.slice(3, 35) };
}

/** Random bytes drawn in batches (as randomUUID does), because a trace is started per request. */
const pool = Buffer.alloc(4_096);
let poolOffset = pool.length;

/** Two ASCII hex digits per byte value. */
const HEX_DIGITS = Buffer.from('0123456789abcdef');
/** Where a UUID's text is put together, so that making one allocates only the string itself. */
const uuidText = Buffer.alloc(36, '-');
/** The text offset of each of a UUID's 16 bytes (the dashes sit at 8, 13, 18 and 23). */
const UUID_OFFSETS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/**
 * A version 4 UUID (RFC 9562) from the random pool, written as text in one go: crypto.randomUUID
 * put its string together from sixteen pieces, a third of a request's garbage in the gateway's
 * own code.
 */
export function randomUuid(): string {
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  for (let i = 0; i < 16; i++) {
    let byte = pool[poolOffset + i];
    if (i === 6) byte = (byte & 0x0f) | 0x40; // version 4
    else if (i === 8) byte = (byte & 0x3f) | 0x80; // variant 10
    const at = UUID_OFFSETS[i];
    uuidText[at] = HEX_DIGITS[byte >> 4];
    uuidText[at + 1] = HEX_DIGITS[byte & 0x0f];
  }
  poolOffset += 16;
  return uuidText.latin1Slice(0, 36);
}

/** Where a new traceparent's text is put together: `00-<trace id>-<parent id>-01`. */
const traceparentText = Buffer.from('00-00000000000000000000000000000000-0000000000000000-01', 'latin1');

/** A new sampled W3C traceparent from the random pool, written as text in one go. */
function newTraceparent(): string {
  writeRandomHex(traceparentText, 3, 16);
  writeRandomHex(traceparentText, 36, 8);
  return traceparentText.latin1Slice(0, traceparentText.length);
}

/** `bytes` random bytes as lower-case hex into `text` at `at`, never all zeros (W3C forbids an all-zero id). */
function writeRandomHex(text: Buffer, at: number, bytes: number): void {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  let allZero = true;
  for (let i = 0; i < bytes; i++) {
    const byte = pool[poolOffset + i];
    if (byte !== 0) allZero = false;
    text[at + 2 * i] = HEX_DIGITS[byte >> 4];
    text[at + 2 * i + 1] = HEX_DIGITS[byte & 0x0f];
  }
  poolOffset += bytes;
  if (allZero) writeRandomHex(text, at, bytes);
}

/** A request's id and trace, fixed once at the edge; undefined where --request-ids or --trace-context is off. */
export interface RequestIdentity {
  readonly requestId: string | undefined;
  readonly traceId: string | undefined;
}

const IDENTITY = Symbol('gateway.identity');
type IdentifiedRequest = { headers: IncomingHttpHeaders; [IDENTITY]?: RequestIdentity };

/** What the gateway does about ids: --request-ids and --trace-context. */
export interface IdentityOptions {
  readonly requestIds: boolean;
  readonly traceContext: boolean;
}

/**
 * Gives the request its id and trace (--request-ids, --trace-context); both go to the backend in
 * the request's headers. Whoever writes the response adds the id to it (with the other headers,
 * not by setHeader, which would put every proxied response on writeHead's slow path). With either
 * switched off, the client's header passes untouched and the gateway makes none.
 */
export function identify(req: IdentifiedRequest, options: IdentityOptions = BOTH): RequestIdentity {
  const cached = req[IDENTITY];
  if (cached) return cached;
  let requestId: string | undefined;
  if (options.requestIds) {
    requestId = requestIdOf(req.headers);
    req.headers['x-request-id'] = requestId;
  }
  let traceId: string | undefined;
  if (options.traceContext) {
    const trace = traceContextOf(req.headers);
    req.headers.traceparent = trace.traceparent;
    traceId = trace.traceId;
  }
  return (req[IDENTITY] = { requestId, traceId });
}

const BOTH: IdentityOptions = { requestIds: true, traceContext: true };

/** The identity `identify` gave this request, or what it would give, without touching any header. */
export function identityOf(req: IdentifiedRequest): RequestIdentity {
  return req[IDENTITY] ?? { requestId: requestIdOf(req.headers), traceId: traceContextOf(req.headers).traceId };
}

/** The response headers that carry the request's id, if it has one. */
export function requestIdHeader(req: IdentifiedRequest): Record<string, string> | undefined {
  const { requestId } = identityOf(req);
  return requestId === undefined ? undefined : { 'x-request-id': requestId };
}
