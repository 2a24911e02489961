// Process, load and measurement helpers shared by bench/run.mjs and bench/profile.mjs.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
export const CONNS = Number(env.CONNS ?? 50);
export const B1 = 18080;
export const B2 = 18081;
export const BACKENDS = `http://127.0.0.1:${B1},http://127.0.0.1:${B2}`;
export const scratch = join(tmpdir(), `gateway-bench-${process.pid}`);
mkdirSync(scratch, { recursive: true });

const has = (tool) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
export const tools = { nginx: has('nginx'), wrk: has('wrk'), redis: has('redis-server'), openssl: has('openssl'), taskset: has('taskset') && cpus().length > 1 };
// The proxy under test alone on CPU 0; load generator and backends share CPU 1.
export const PROXY_CPU = '0';
export const LOAD_CPU = '1';
export const pinned = (cpu, command) => (tools.taskset ? ['taskset', ['-c', cpu, ...command]] : [command[0], command.slice(1)]);
// This process drains the proxies' logs: it belongs with the load, not on the proxy's CPU, where
// the scheduler would otherwise put it now and then (a chattier log would then look slower).
if (tools.taskset) spawnSync('taskset', ['-pc', LOAD_CPU, String(process.pid)], { stdio: 'ignore' });

export function nginxConfig(template, prefix, values) {
  mkdirSync(prefix, { recursive: true });
  let text = readFileSync(join(root, 'bench', 'nginx', template), 'utf8').replaceAll('@PREFIX@', prefix);
  for (const [key, value] of Object.entries(values)) text = text.replaceAll(`@${key}@`, String(value));
  const file = join(prefix, template);
  writeFileSync(file, text);
  return file;
}

/**
 * The TLS configs' certificate and key: one self-signed EC P-256 pair for 127.0.0.1 (subjectAltName
 * IP:127.0.0.1), made with openssl the first time it is asked for, in this run's scratch directory,
 * and deleted when the run exits. Never in the repository.
 */
let pair;
export function tlsPair() {
  if (pair) return pair;
  const dir = join(scratch, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '7', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  chmodSync(key, 0o600);
  pair = { cert, key, agent: new Agent({ connect: { ca: readFileSync(cert) } }) };
  return pair;
}

/**
 * The gateway-apikeys config's --api-keys file: 100 consumers, each with a random key (only its
 * SHA-256 in the file), made the first time it is asked for, in this run's scratch directory, and
 * deleted when the run exits. The load's key is one consumer in the middle of the file, with the
 * role `reader` (GET and HEAD anywhere) and no rateLimit of its own, so the bench's --rate-limit
 * applies; the others have one role or two, some a rateLimit, as a real file would.
 * Returns the file and the headers every request of the load (and each check) must carry.
 */
let apiKeys;
export function apiKeysFile() {
  if (apiKeys) return apiKeys;
  const dir = join(scratch, 'api-keys');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const CONSUMERS = 100;
  const LOAD_INDEX = 50;
  const keyHash = (key) => `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
  let key = '';
  const consumers = Array.from({ length: CONSUMERS }, (_, index) => {
    const own = randomBytes(24).toString('base64url');
    if (index === LOAD_INDEX) {
      key = own;
      return { name: 'bench', keyHash: keyHash(own), roles: ['reader'] };
    }
    return {
      name: `consumer-${String(index).padStart(3, '0')}`,
      keyHash: keyHash(own),
      roles: index % 3 === 0 ? ['reader', 'writer'] : ['reader'],
      ...(index % 4 === 0 ? { rateLimit: 100 + index } : {}),
    };
  });
  const roles = {
    reader: [{ methods: ['GET', 'HEAD'], paths: ['/'] }],
    writer: [{ methods: ['POST', 'PUT', 'PATCH', 'DELETE'], paths: ['/api/', '/admin/'] }],
  };
  const file = join(dir, 'api-keys.json');
  writeFileSync(file, `${JSON.stringify({ consumers, roles }, null, 2)}\n`, { mode: 0o600 });
  apiKeys = { file, headers: { authorization: `Bearer ${key}` } };
  return apiKeys;
}

/** fetch, which for an https URL trusts the bench's certificate (and only it): the checks verify what the proxy serves. */
const fetchFrom = (url, init = {}) => fetch(url, url.startsWith('https:') ? { ...init, dispatcher: tlsPair().agent } : init);

/** Starts a command in its own process group, stdout piped and drained (a pipe, as in a container). */
export function start(name, cpu, command) {
  const [bin, args] = pinned(cpu, command);
  // PROXY_STDOUT=null sends the proxies' stdout (the gateway's access log) to /dev/null instead of
  // a pipe this process drains: to tell the log's own cost from the cost of reading it here.
  const stdout = env.PROXY_STDOUT === 'null' ? 'ignore' : 'pipe';
  const child = spawn(bin, args, { cwd: root, detached: true, stdio: ['ignore', stdout, 'pipe'] });
  // The last output only, for error messages: kept as chunks, joined when asked for.
  let chunks = [];
  const keep = (data) => {
    chunks.push(data);
    if (chunks.length > 8) chunks = chunks.slice(-2);
  };
  child.stdout?.on('data', keep);
  child.stderr.on('data', keep);
  child.on('error', (error) => chunks.push(Buffer.from(`\n${error.message}`)));
  return { name, child, tail: () => Buffer.concat(chunks).toString().slice(-4_000) };
}

export async function stop(proc) {
  if (!proc || proc.child.exitCode !== null) return;
  const exited = new Promise((resolve) => proc.child.once('exit', resolve));
  try {
    process.kill(-proc.child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const done = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
  if (!done) {
    try {
      process.kill(-proc.child.pid, 'SIGKILL');
    } catch {}
    await exited;
  }
}

export async function waitForHttp(url, proc, headers = {}) {
  for (let i = 0; i < 100; i++) {
    if (proc && proc.child.exitCode !== null) throw new Error(`${proc.name} exited: ${proc.tail()}`);
    try {
      const response = await fetchFrom(url, { headers, signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`${url} did not answer: ${proc?.tail() ?? ''}`);
}

/** Six GETs (with `headers`, such as an API key) must be 2xx and split 3/3 between the two backends before any load. */
/**
 * Six requests: each must be answered by one of the two backends, three each (round robin); with
 * `evenly` false (strategies that choose otherwise: least-request, hashing, stickiness), any split.
 */
export async function checkRoundRobin(url, headers = {}, evenly = true) {
  const counts = { 1: 0, 2: 0 };
  for (let i = 0; i < 6; i++) {
    const response = await fetchFrom(url, { headers });
    const body = await response.text();
    if (response.status < 200 || response.status > 299) throw new Error(`${url} answered ${response.status}`);
    const server = /server (\d)/.exec(body)?.[1];
    if (!server) throw new Error(`${url} answered an unexpected body: ${body}`);
    counts[server]++;
  }
  if (evenly && (counts[1] !== 3 || counts[2] !== 3)) throw new Error(`round robin broken: ${JSON.stringify(counts)}`);
}

/** All processes of a process group (the proxy and, for nginx, its worker). */
export function groupPids(pgid) {
  const out = execFileSync('ps', ['-eo', 'pid=,pgid='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([pid, group]) => group === pgid && pid)
    .map(([pid]) => pid);
}

function procStatus(pid, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
export const groupKb = (pgid, field) => groupPids(pgid).reduce((sum, pid) => sum + procStatus(pid, field), 0);
export function groupCpuTicks(pgid) {
  return groupPids(pgid).reduce((sum, pid) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      return sum + Number(fields[11]) + Number(fields[12]);
    } catch {
      return sum;
    }
  }, 0);
}
export const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

function toMs(text) {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!match) return NaN;
  return Number(match[1]) * { us: 0.001, ms: 1, s: 1000 }[match[2]];
}

/** Runs the load generator for `seconds`, every request with `headers`, and returns req/s, latency percentiles and errors. */
export async function load(url, seconds, headers = {}) {
  const entries = Object.entries(headers);
  if (tools.wrk) {
    const [bin, args] = pinned(LOAD_CPU, ['wrk', '-t1', `-c${CONNS}`, `-d${seconds}s`, '--latency', ...entries.flatMap(([name, value]) => ['-H', `${name}: ${value}`]), url]);
    const out = await run(bin, args);
    // Seen once: wrk exiting 0 without a word. A run without a result is a failed run, never 0 req/s.
    if (!/Requests\/sec:/.test(out)) throw new Error(`wrk printed no result: ${JSON.stringify(out.slice(-500))}`);
    const number = (pattern) => Number(pattern.exec(out)?.[1] ?? 0);
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    return {
      rps: number(/Requests\/sec:\s+([\d.]+)/),
      p50: toMs(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? ''),
      p99: toMs(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? ''),
      requests: number(/(\d+) requests in/),
      errors: number(/Non-2xx or 3xx responses: (\d+)/) + (socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0),
      raw: out,
    };
  }
  const [bin, args] = pinned(LOAD_CPU, [process.execPath, join(root, 'node_modules', 'autocannon', 'autocannon.js'), '-c', String(CONNS), '-d', String(seconds), ...entries.flatMap(([name, value]) => ['-H', `${name}=${value}`]), '-j', url]);
  const result = JSON.parse(await run(bin, args));
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.non2xx + result.errors + result.timeouts,
    raw: JSON.stringify(result),
  };
}

export function run(bin, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (data) => (out += data));
    child.stderr.on('data', (data) => (out += data));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${bin} exited ${code}: ${out}`))));
  });
}


/** The two backends every proxy forwards to: one nginx worker when installed, else two node test backends. */
/** A Redis of the bench's own (nothing kept on disk), beside the backends, for the shared-state configs. */
export const REDIS_PORT = 16379;
export function startRedisServer() {
  return start('redis', LOAD_CPU, ['redis-server', '--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
}

export function startBackends() {
  return tools.nginx
    ? [start('backends', LOAD_CPU, ['nginx', '-p', join(scratch, 'backends'), '-c', nginxConfig('backends.conf', join(scratch, 'backends'), { P1: B1, P2: B2 })])]
    : [
        start('backend 1', LOAD_CPU, ['node', 'demo/backend.mjs', `--port=${B1}`, '--host=127.0.0.1', '--message=Response from server 1']),
        start('backend 2', LOAD_CPU, ['node', 'demo/backend.mjs', `--port=${B2}`, '--host=127.0.0.1', '--message=Response from server 2']),
      ];
}

/** One line about where the numbers come from. */
export function machine() {
  const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  const nginxVersion = tools.nginx ? ` (${spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim().replace('nginx version: ', '')})` : '';
  return `${cpus().length} × ${cpuModel}, Node ${process.version}, ${tools.wrk ? 'wrk' : 'autocannon'} load, backends: ${tools.nginx ? `nginx, one worker${nginxVersion}` : 'node demo/backend.mjs'}, ${tools.taskset ? `proxy pinned to CPU ${PROXY_CPU}, load and backends on CPU ${LOAD_CPU}` : 'not pinned (one CPU or no taskset)'}`;
}

export function build() {
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
}
