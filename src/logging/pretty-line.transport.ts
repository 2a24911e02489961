// The terminal's log format, loaded by pino in its worker thread (see RootLogger): one line per
// log, `15:01:02.123 INFO: GET /users 200 3.1ms → http://localhost:8080 (reqId …, client …)` for a
// request, `15:01:02.123 INFO: [Gateway] listening on …` for the rest. pino-pretty alone would
// print each of an access line's fields on a line of its own, thirteen lines per request.
// Only type-erasable syntax here: under the tests, Node loads this file as TypeScript.
import pretty from 'pino-pretty';

/** The messages of AccessLog's lines, whose fields are rendered as one sentence. */
const ACCESS_MESSAGES: ReadonlySet<unknown> = new Set(['request completed', 'request refused']);

/**
 * Fields the line itself says (or that only the JSON log needs), so pino-pretty does not list them
 * under it: `context` and every field of an access line.
 */
const SAID_IN_THE_LINE = [
  'context',
  'reqId',
  'traceId',
  'client',
  'method',
  'url',
  'status',
  'answeredBy',
  'backend',
  'upstreamMs',
  'ms',
  'retries',
  'cause',
  'refused',
  'bytesIn',
  'bytesOut',
];

/** The message part of a terminal line: an access line as one sentence, any other as `[Context] message`. */
export function terminalMessage(log: Record<string, unknown>, messageKey: string): string {
  const message = log[messageKey];
  if (ACCESS_MESSAGES.has(message)) return accessLine(log);
  const text = typeof message === 'string' ? message : message === undefined ? '' : JSON.stringify(message);
  return typeof log.context === 'string' ? `[${log.context}] ${text}` : text;
}

/** `GET /users 502 12.3ms → http://b:8080 [connect ECONNREFUSED, 2 retries, answered by the gateway] (reqId …, client …)` */
function accessLine(log: Record<string, unknown>): string {
  let line = `${String(log.method)} ${String(log.url)} ${String(log.status)} ${String(log.ms)}ms`;
  if (typeof log.backend === 'string') line += ` → ${log.backend}`;
  const notes: string[] = [];
  if (typeof log.cause === 'string') notes.push(log.cause);
  const retries = Number(log.retries ?? 0);
  if (retries > 0) notes.push(`${retries} ${retries === 1 ? 'retry' : 'retries'}`);
  if (typeof log.refused === 'number') notes.push(`${log.refused} refused`);
  if (log.answeredBy === 'gateway') notes.push('answered by the gateway');
  else if (log.answeredBy === null) notes.push('client left');
  if (notes.length > 0) line += ` [${notes.join(', ')}]`;
  return `${line} (reqId ${String(log.reqId)}, client ${String(log.client)})`;
}

/** pino's transport entry point: pino-pretty with the gateway's line format. */
export default function prettyLineTransport(options: pretty.PrettyOptions = {}): pretty.PrettyStream {
  return pretty({
    translateTime: 'SYS:HH:MM:ss.l',
    ...options,
    ignore: ['pid', 'hostname', ...SAID_IN_THE_LINE].join(','),
    messageFormat: terminalMessage,
    // pino-pretty brackets the time; a terminal line needs no more punctuation than it has.
    customPrettifiers: { time: (time) => (typeof time === 'string' ? time : JSON.stringify(time)) },
  });
}
