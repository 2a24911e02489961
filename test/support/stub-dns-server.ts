import dgram from 'node:dgram';
import { isIP } from 'node:net';

/** A DNS server of the test's own, answering A and AAAA queries from records the test sets. */
export interface StubDnsServer {
  readonly port: number;
  /** 127.0.0.1: `resolverDnsLookup([`${address}:${port}`])` queries it. */
  readonly address: string;
  /** Gives `name` these addresses (IPv4 and IPv6 mixed), replacing its previous ones; `[]`: the name exists with no address. */
  set(name: string, addresses: string[]): void;
  /** Removes the name: its queries get NXDOMAIN. */
  delete(name: string): void;
  /** Queries answered so far (one lookup of both families is two). */
  readonly queries: number;
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const RCODE_NXDOMAIN = 3;

/** The lowercase name (no trailing dot) of the question starting at byte 12, and where the question's name ends. */
function readName(packet: Buffer): { name: string; end: number } | undefined {
  const labels: string[] = [];
  let offset = 12;
  while (offset < packet.length) {
    const length = packet[offset]!;
    if (length === 0) return { name: labels.join('.').toLowerCase(), end: offset + 1 };
    // A question's name is never compressed (0xC0: a pointer); anything else this stub cannot read.
    if (length > 63 || offset + 1 + length > packet.length) return undefined;
    labels.push(packet.toString('latin1', offset + 1, offset + 1 + length));
    offset += 1 + length;
  }
  return undefined;
}

/** An IPv6 address as its 16 bytes (`::` expanded; no embedded IPv4 tail, which the tests do not use). */
function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  const bytes = Buffer.alloc(16);
  [...left, ...zeros, ...right].forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

/** The addresses of `type` among a name's records, as record data. */
function recordData(addresses: readonly string[], type: number): Buffer[] {
  if (type === TYPE_A) return addresses.filter((a) => isIP(a) === 4).map((a) => Buffer.from(a.split('.').map(Number)));
  if (type === TYPE_AAAA) return addresses.filter((a) => isIP(a) === 6).map(ipv6Bytes);
  return [];
}

/**
 * The answer to one query: the header and question echoed back (same id, same spelling of the
 * name), authoritative, with a TTL of 0 so no resolver caches it and each lookup asks again.
 */
function answer(query: Buffer, records: ReadonlyMap<string, string[]>): Buffer | undefined {
  if (query.length < 12 || query.readUInt16BE(4) !== 1 || (query[2]! & 0x80) !== 0) return undefined; // one question, and a query
  const question = readName(query);
  if (!question || question.end + 4 > query.length) return undefined;
  const type = query.readUInt16BE(question.end);
  const known = records.get(question.name);
  const data = known && query.readUInt16BE(question.end + 2) === CLASS_IN ? recordData(known, type) : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0); // id
  // QR (a response), the query's opcode, AA (authoritative), the query's RD; RA 0; the rcode.
  header.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x7900) | 0x0400 | (known ? 0 : RCODE_NXDOMAIN), 2);
  header.writeUInt16BE(1, 4); // QDCOUNT
  header.writeUInt16BE(data.length, 6); // ANCOUNT; NSCOUNT and ARCOUNT stay 0
  const answers = data.map((rdata) => {
    const record = Buffer.alloc(12);
    record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's, at byte 12
    record.writeUInt16BE(type, 2);
    record.writeUInt16BE(CLASS_IN, 4);
    record.writeUInt32BE(0, 6); // TTL
    record.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([record, rdata]);
  });
  // The question as it came (any EDNS record after it is left out: this server does not speak EDNS).
  return Buffer.concat([header, query.subarray(12, question.end + 4), ...answers]);
}

/** Starts a stub authoritative DNS server over UDP on 127.0.0.1, on a free port. */
export async function startStubDnsServer(): Promise<StubDnsServer> {
  const records = new Map<string, string[]>();
  const key = (name: string) => name.toLowerCase().replace(/\.$/, '');
  let queries = 0;
  const socket = dgram.createSocket('udp4');
  socket.on('message', (query, peer) => {
    const response = answer(query, records);
    if (!response) return; // not a query this stub understands: no answer, as a server dropping it
    queries++;
    socket.send(response, peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const { port, address } = socket.address();
  return {
    port,
    address,
    set: (name, addresses) => void records.set(key(name), [...addresses]),
    delete: (name) => void records.delete(key(name)),
    get queries() {
      return queries;
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
