import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { JsonLineEncoder } from '../../logging/json-line-encoder.js';
import { identityOf } from '../request-identity.js';

/** Socket byte counts at the end of the previous request on the same connection. */
const READ_BEFORE = Symbol('gateway.readBefore');
const WRITTEN_BEFORE = Symbol('gateway.writtenBefore');
type CountedSocket = Socket & { [READ_BEFORE]?: number; [WRITTEN_BEFORE]?: number };

/**
 * Bytes this request read on its connection, headers included (as NGINX's $request_length): the
 * socket's count since the previous logged request on it ended. `bytesOut` (after) must follow.
 */
function bytesIn(socket: CountedSocket): number {
  const read = socket.bytesRead;
  const moved = read - (socket[READ_BEFORE] ?? 0);
  socket[READ_BEFORE] = read;
  return moved;
}

/** Bytes this request wrote on its connection, headers included (as NGINX's $bytes_sent). */
function bytesOut(socket: CountedSocket): number {
  const written = socket.bytesWritten;
  const moved = written - (socket[WRITTEN_BEFORE] ?? 0);
  socket[WRITTEN_BEFORE] = written;
  return moved;
}

/** Milliseconds to one decimal, as the log shows them. */
export const round = (ms: number) => Math.round(ms * 10) / 10;

/** Who gave the client its answer: a backend (its own, or one kept from an earlier try), or the gateway itself. */
export type AnsweredBy = 'backend' | 'gateway';

/**
 * One access-log line's fields, in the order they are written: who asked what, then how it went.
 * A class, so every line has the same shape (one object, no copying) on the way to pino.
 */
export class AccessLine {
  readonly reqId: string | undefined;
  readonly traceId: string | undefined;
  readonly client: string;
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly status: number;
  /** Null when nobody answered (the client left first: 499). */
  readonly answeredBy: AnsweredBy | null;
  readonly backend: string | null;
  readonly upstreamMs: number | null;
  readonly ms: number;
  readonly retries: number;
  readonly cause: string | null;
  /** On a 429 line only: the refusals of this client since its previous 429 line, this one included. */
  readonly refused: number | undefined;
  readonly bytesIn: number;
  readonly bytesOut: number;

  // One positional argument per field: a line is made per request.
  constructor(
    req: IncomingMessage,
    client: string,
    status: number,
    answeredBy: AnsweredBy | null,
    backend: string | null,
    upstreamMs: number | null,
    ms: number,
    retries: number,
    cause: string | null,
    refused: number | undefined,
  ) {
    const { requestId, traceId } = identityOf(req);
    // With --request-ids=false the gateway makes no id, yet the client's is still worth logging.
    this.reqId = requestId ?? (req.headers['x-request-id'] as string | undefined);
    this.traceId = traceId;
    this.client = client;
    this.method = req.method;
    this.url = req.url;
    this.status = status;
    this.answeredBy = answeredBy;
    this.backend = backend;
    this.upstreamMs = upstreamMs;
    this.ms = ms;
    this.retries = retries;
    this.cause = cause;
    this.refused = refused;
    this.bytesIn = bytesIn(req.socket);
    this.bytesOut = bytesOut(req.socket);
  }
}

/** Most bytes a line takes besides its strings: field names, numbers, punctuation. */
const FIXED_LINE_BYTES = 320;

/** The most bytes `encodeAccessLine` can write for this line. */
export function maxLineBytes(line: AccessLine, message: string): number {
  const { maxBytes } = JsonLineEncoder;
  return (
    FIXED_LINE_BYTES +
    maxBytes(line.reqId) +
    maxBytes(line.traceId) +
    maxBytes(line.client) +
    maxBytes(line.method) +
    maxBytes(line.url) +
    maxBytes(line.backend) +
    maxBytes(line.cause) +
    maxBytes(message)
  );
}

/** The same line as toJsonLine, written straight into the batch buffer (see JsonLineEncoder). */
export function encodeAccessLine(out: JsonLineEncoder, line: AccessLine, level: number, time: number, message: string): void {
  out.raw('{"level":').integer(level).raw(',"time":').integer(time);
  out.raw(',"reqId":').string(line.reqId).raw(',"traceId":').string(line.traceId);
  out.raw(',"client":').string(line.client).raw(',"method":').string(line.method).raw(',"url":').string(line.url);
  out.raw(',"status":').integer(line.status).raw(',"answeredBy":').string(line.answeredBy).raw(',"backend":').string(line.backend);
  out.raw(',"upstreamMs":').tenths(line.upstreamMs).raw(',"ms":').tenths(line.ms).raw(',"retries":').integer(line.retries);
  out.raw(',"cause":').string(line.cause);
  if (line.refused !== undefined) out.raw(',"refused":').integer(line.refused);
  out.raw(',"bytesIn":').integer(line.bytesIn).raw(',"bytesOut":').integer(line.bytesOut);
  out.raw(',"msg":').string(message).raw('}\n');
}

/** JSON strings need escaping only for these; anything else is written between quotes as it is. */
// oxlint-disable-next-line no-control-regex -- matching control characters is the point: they must be escaped
const NEEDS_ESCAPING = /["\\\u0000-\u001f\u2028\u2029]/;

function jsonString(text: string): string {
  return NEEDS_ESCAPING.test(text) ? JSON.stringify(text) : `"${text}"`;
}

function jsonStringOrNull(text: string | null | undefined): string {
  return text === null || text === undefined ? 'null' : jsonString(text);
}

/**
 * The line as pino would write it (`level`, `time`, the fields, `msg`), built directly: pino's
 * general serializer (a walk over the keys, a lookup of serializers per key, JSON.stringify for
 * every null) was most of an access line's cost.
 */
export function toJsonLine(line: AccessLine, level: number, time: number, message: string): string {
  const refused = line.refused === undefined ? '' : `,"refused":${line.refused}`;
  return (
    `{"level":${level},"time":${time},"reqId":${jsonStringOrNull(line.reqId)},"traceId":${jsonStringOrNull(line.traceId)},` +
    `"client":${jsonString(line.client)},"method":${jsonStringOrNull(line.method)},"url":${jsonStringOrNull(line.url)},` +
    `"status":${line.status},"answeredBy":${jsonStringOrNull(line.answeredBy)},"backend":${jsonStringOrNull(line.backend)},` +
    `"upstreamMs":${line.upstreamMs ?? 'null'},"ms":${line.ms},"retries":${line.retries},"cause":${jsonStringOrNull(line.cause)}${refused},` +
    `"bytesIn":${line.bytesIn},"bytesOut":${line.bytesOut},"msg":${jsonString(message)}}\n`
  );
}
