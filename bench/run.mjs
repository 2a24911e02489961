#!/usr/bin/env node
// `npm run bench`: the gateway against the floor of its proxy library, the best Node peer and NGINX,
// over the same two backends, in interleaved rounds. Self-contained: everything it runs is in this
// repository (plus nginx and wrk from Debian when installed: apt-get install -y nginx wrk).
//
// By default: the gateway (default engine, undici), with --redis-url (its own redis-server) and with
// --workers=2, the gateway on http-proxy-middleware, the hpm
// floor, fastify + reply-from and NGINX, then the gateway and NGINX terminating TLS, and the gateway
// checking API keys, in interleaved rounds, the goal's ratios against fastify, what TLS costs each and
// what API-key checking costs the gateway, then a 60 s soak of the gateway alone.
// Knobs (environment): ROUNDS=4 DURATION=10 WARMUP=3 (seconds) CONNS=50
//   CONFIGS="gateway gateway-redis gateway-workers gateway-hpm floor fastify nginx gateway-tls nginx-tls gateway-apikeys"
//   (also available: floor-httpxy and floor-undici, the floor without hpm and on undici instead of node:http's client;
//   gateway-least-request, gateway-hash and gateway-sticky, the balancing strategies, to set against gateway's round robin)
//   gateway-tls and nginx-tls serve https with one self-signed EC P-256 certificate for 127.0.0.1, made
//   with openssl for the run in its scratch directory (deleted at exit); wrk keeps its connections alive,
//   so they measure TLS records per request, the handshakes amortised
//   gateway-apikeys runs the gateway with --api-keys: a file of 100 consumers with random keys (their
//   SHA-256 only), made for the run in its scratch directory (deleted at exit); every request of the load
//   and of the checks carries one consumer's key (Authorization: Bearer), whose role is checked and whose
//   rate limit is the bench's --rate-limit (not binding)
//   SOAK=60  seconds of the soak after the rounds (SOAK=0: none; SOAK_CONFIG=gateway-hpm for the other engine)
//   SOAK_ONLY=1  the soak alone
//   FEATURES=1  instead: the gateway against itself with each default feature turned off, one at a
//               time, in interleaved rounds; writes the cost of each (bench/FEATURE-COSTS.md is made from it)
//   GATEWAY_ARGS="..."  extra flags for the gateway (and the baseline)
//   BASELINE=/path/to/other/checkout/dist/main.js  adds that build as config `baseline` (before/after)
// Output: a table on stdout, and bench/results/<timestamp>/{results.json,summary.md} (+ bench/results/latest.md).
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  apiKeysFile,
  B1,
  B2,
  BACKENDS,
  build,
  checkRoundRobin,
  CONNS,
  groupCpuTicks,
  groupKb,
  load,
  machine,
  nginxConfig,
  LOAD_CPU,
  PROXY_CPU,
  REDIS_PORT,
  root,
  scratch,
  start,
  startBackends,
  startRedisServer,
  stop,
  TICKS,
  tlsPair,
  tools,
  waitForHttp,
} from './harness.mjs';

const env = process.env;
const ROUNDS = Number(env.ROUNDS ?? 4);
const DURATION = Number(env.DURATION ?? 10);
const WARMUP = Number(env.WARMUP ?? 3);
const SOAK = Number(env.SOAK ?? 60);
const SOAK_ONLY = env.SOAK_ONLY === '1';
const FEATURES = env.FEATURES === '1';

/** Each default feature and the flag that turns it off, for FEATURES=1. */
const FEATURE_SWITCHES = {
  'access log': '--access-log=false',
  'rate limiting (not binding)': '--rate-limit=0',
  retries: '--retries=0',
  'active health checks': '--health-check-interval=0',
  'request ids': '--request-ids=false',
  'trace context': '--trace-context=false',
  'circuit breakers': '--breaker-failures=0',
};
const featureConfig = (feature) => `without ${feature}`;

const gatewayArgs = (env.GATEWAY_ARGS ?? '').split(' ').filter(Boolean);
/** A gateway's command line in the bench: every default feature on, the rate limit not binding, then `extra` flags. */
const gatewayCommand =
  (extra = [], { entry = 'dist/main.js', nodeFlags = [] } = {}) =>
  (port) => ['node', ...nodeFlags, entry, `--listen=127.0.0.1:${port}`, `--backends=${BACKENDS}`, '--rate-limit=1000000000', ...gatewayArgs, ...extra];
/** What the TLS configs say of their load: the same for both. */
const tlsLoad = `wrk keeps its ${CONNS} connections alive, so the handshakes are amortised: this is the cost of TLS records per request`;
const ALL_CONFIGS = {
  gateway: {
    what: 'this gateway (node dist/main.js), every default feature on, rate limit not binding',
    port: 9100,
    command: gatewayCommand(),
  },
  'gateway-redis': {
    what: `this gateway with --redis-url (rate limits, breakers and health checks shared through a local redis-server, one Lua call per request)`,
    port: 9108,
    needs: 'redis',
    command: gatewayCommand([`--redis-url=redis://127.0.0.1:${REDIS_PORT}`]),
  },
  'gateway-workers': {
    what: 'this gateway with --workers=2 (node:cluster; limits shared through the primary), on both CPUs, which the load generator and backends share',
    port: 9109,
    cpu: `${PROXY_CPU},${LOAD_CPU}`,
    command: gatewayCommand(['--workers=2']),
  },
  'gateway-hpm': {
    what: 'this gateway with --proxy-engine=http-proxy-middleware (the design card\'s library), every default feature on, rate limit not binding',
    port: 9106,
    command: gatewayCommand(['--proxy-engine=http-proxy-middleware']),
  },
  floor: {
    what: 'node:http + http-proxy-middleware 4, keep-alive agent (bench/floor.mjs)',
    port: 9101,
    command: (port) => ['node', 'bench/floor.mjs', `--listen=127.0.0.1:${port}`, `--backends=${BACKENDS}`],
  },
  fastify: {
    what: 'fastify 5 + @fastify/reply-from, undici BalancedPool (bench/fastify-reply-from.mjs)',
    port: 9102,
    command: (port) => ['node', 'bench/fastify-reply-from.mjs', `--listen=127.0.0.1:${port}`, `--backends=${BACKENDS}`],
  },
  'floor-httpxy': {
    what: 'node:http + httpxy 0.5 (hpm\'s engine) directly, keep-alive agent (bench/floor-httpxy.mjs)',
    port: 9104,
    command: (port) => ['node', 'bench/floor-httpxy.mjs', `--listen=127.0.0.1:${port}`, `--backends=${BACKENDS}`],
  },
  'floor-undici': {
    what: 'node:http + undici pools, no proxy library (bench/floor-undici.mjs)',
    port: 9105,
    command: (port) => ['node', 'bench/floor-undici.mjs', `--listen=127.0.0.1:${port}`, `--backends=${BACKENDS}`],
  },
  nginx: {
    what: 'NGINX, 1 worker, keep-alive both ways (bench/nginx/proxy.conf)',
    port: 9103,
    needs: 'nginx',
    command: (port, prefix) => ['nginx', '-p', prefix, '-c', nginxConfig('proxy.conf', prefix, { PORT: port, B1: `127.0.0.1:${B1}`, B2: `127.0.0.1:${B2}` })],
  },
  'gateway-tls': {
    what: `this gateway terminating TLS (--tls-cert, --tls-key: the run's self-signed EC P-256 certificate), every default feature on; ${tlsLoad}`,
    port: 9110,
    needs: 'openssl',
    tls: true,
    command: (port) => gatewayCommand([`--tls-cert=${tlsPair().cert}`, `--tls-key=${tlsPair().key}`])(port),
  },
  'gateway-apikeys': {
    what: 'the gateway with --api-keys (100 consumers, roles checked), each request carrying a Bearer key',
    port: 9112,
    // The file (and its key) is made once for the run, in main(), before any measurement.
    apiKeys: true,
    headers: () => apiKeysFile().headers,
    command: (port) => gatewayCommand([`--api-keys=${apiKeysFile().file}`])(port),
  },
  // Balancing strategies (issue 14), each against `gateway` (round robin) in the same run.
  'gateway-least-request': {
    what: 'this gateway with --balance=least-request (power of two choices on requests in flight)',
    port: 9113,
    unevenly: true,
    command: gatewayCommand(['--balance=least-request']),
  },
  'gateway-hash': {
    what: 'this gateway with --balance=consistent-hash --hash-on=path (a ring lookup per request; the load\'s one path lands on one backend)',
    port: 9114,
    unevenly: true,
    command: gatewayCommand(['--balance=consistent-hash', '--hash-on=path']),
  },
  'gateway-sticky': {
    what: 'this gateway with --sticky-cookie=srv, every request carrying the cookie of backend 1 (read and honoured; nothing to set)',
    port: 9115,
    unevenly: true,
    headers: () => ({ cookie: `srv=${createHash('sha256').update(`http://127.0.0.1:${B1}`).digest('hex').slice(0, 16)}` }),
    command: gatewayCommand(['--sticky-cookie=srv']),
  },
  'nginx-tls': {
    what: `NGINX terminating TLS with the same certificate, TLSv1.2 and 1.3, session cache, otherwise as nginx (bench/nginx/proxy-tls.conf); ${tlsLoad}`,
    port: 9111,
    needs: ['nginx', 'openssl'],
    tls: true,
    command: (port, prefix) => [
      'nginx',
      '-p',
      prefix,
      '-c',
      nginxConfig('proxy-tls.conf', prefix, { PORT: port, B1: `127.0.0.1:${B1}`, B2: `127.0.0.1:${B2}`, CERT: tlsPair().cert, KEY: tlsPair().key }),
    ],
  },
};
/** The tools a config needs beyond node (its `needs`: one name or a list). */
const needsOf = (name) => [ALL_CONFIGS[name].needs ?? []].flat();
/** Where a config listens: https for the ones that terminate TLS. */
const urlOf = (config) => `${config.tls ? 'https' : 'http'}://127.0.0.1:${config.port}/`;
/** The headers every request to a config carries, the checks' and the load's (its `headers`, such as an API key). */
const headersOf = (config) => config.headers?.() ?? {};
// VARIANTS="name=flags;name2=flags": more gateway configs in the same interleaved run, e.g. a
// feature turned off: VARIANTS="no-access-log=--access-log=false;no-rate-limit=--rate-limit=0"
// (a word written node:--flag goes to node: VARIANTS="semi8=node:--max-semi-space-size=8").
for (const [index, variant] of (env.VARIANTS ?? '').split(';').filter(Boolean).entries()) {
  const [name, ...flags] = variant.split('=');
  const words = flags.join('=').split(' ').filter(Boolean);
  // Words written node:--flag go to node itself (V8 options), the others to the gateway.
  const nodeFlags = words.filter((word) => word.startsWith('node:')).map((word) => word.slice(5));
  const extra = words.filter((word) => !word.startsWith('node:'));
  ALL_CONFIGS[name] = {
    what: `this gateway with ${words.join(' ')}`,
    port: 9120 + index,
    command: gatewayCommand(extra, { nodeFlags }),
  };
}
if (env.BASELINE) {
  ALL_CONFIGS.baseline = {
    what: `another build of the gateway, for before/after comparisons (${env.BASELINE})`,
    port: 9107,
    command: gatewayCommand([], { entry: env.BASELINE }),
  };
}
if (FEATURES) {
  for (const [index, [feature, flag]] of Object.entries(FEATURE_SWITCHES).entries()) {
    ALL_CONFIGS[featureConfig(feature)] = {
      what: `this gateway with ${flag}`,
      port: 9140 + index,
      command: gatewayCommand([flag]),
    };
  }
}
const variantNames = (env.VARIANTS ?? '').split(';').filter(Boolean).map((variant) => variant.split('=')[0]);
const defaultConfigs = FEATURES
  ? ['gateway', ...Object.keys(FEATURE_SWITCHES).map(featureConfig)]
  : ['gateway', 'gateway-redis', 'gateway-workers', 'gateway-hpm', 'floor', 'fastify', 'nginx', 'gateway-tls', 'nginx-tls', 'gateway-apikeys', ...(env.BASELINE ? ['baseline'] : [])];
const CONFIGS = (env.CONFIGS ? env.CONFIGS.split(' ') : [...defaultConfigs, ...variantNames])
  .filter(Boolean)
  .filter((name) => {
    if (!ALL_CONFIGS[name]) throw new Error(`unknown config ${name}`);
    const missing = needsOf(name).filter((tool) => !tools[tool]);
    if (missing.length) {
      console.log(`skipping ${name}: ${missing.join(' and ')} not installed (apt-get install -y nginx wrk redis-server openssl)`);
      return false;
    }
    return true;
  });

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = join(root, 'bench', 'results', stamp);
mkdirSync(outDir, { recursive: true });

async function measure(name, round) {
  const config = ALL_CONFIGS[name];
  const prefix = join(scratch, `${name}-${round}`);
  const proc = start(name, config.cpu ?? PROXY_CPU, config.command(config.port, prefix));
  const url = urlOf(config);
  const headers = headersOf(config);
  // Cleared in finally too: a load that fails (and is retried) must not leave it keeping the bench alive after its results.
  let sampler;
  try {
    await waitForHttp(url, proc, headers);
    await checkRoundRobin(url, headers, !config.unevenly);
    await load(url, WARMUP, headers);
    const ticksBefore = groupCpuTicks(proc.child.pid);
    const rssSamples = [];
    sampler = setInterval(() => rssSamples.push(groupKb(proc.child.pid, 'VmRSS')), 500);
    const started = performance.now();
    const result = await load(url, DURATION, headers);
    clearInterval(sampler);
    const cpu = ((groupCpuTicks(proc.child.pid) - ticksBefore) / TICKS / ((performance.now() - started) / 1000)) * 100;
    const peakRssMb = groupKb(proc.child.pid, 'VmHWM') / 1024;
    writeFileSync(join(outDir, `${name}-round${round}.txt`), result.raw);
    return { name, round, rps: result.rps, p50: result.p50, p99: result.p99, errors: result.errors, requests: result.requests, peakRssMb, cpu };
  } finally {
    clearInterval(sampler);
    await stop(proc);
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const fmt = (value, digits = 0) => (Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–');

function summarize(runs) {
  const ratioTo = (reference) => (name) => {
    const ratios = [];
    for (let round = 0; round < ROUNDS; round++) {
      const mine = runs.find((r) => r.name === name && r.round === round);
      const theirs = runs.find((r) => r.name === reference && r.round === round);
      if (mine && theirs) ratios.push(mine.rps / theirs.rps);
    }
    return ratios.length ? median(ratios) : NaN;
  };
  const toFloor = ratioTo('floor');
  const toNginx = ratioTo('nginx');
  const toFastify = ratioTo('fastify');
  const toGateway = ratioTo('gateway');
  const toNginxTls = ratioTo('nginx-tls');
  return CONFIGS.map((name) => {
    const mine = runs.filter((r) => r.name === name);
    return {
      name,
      what: ALL_CONFIGS[name].what,
      rps: median(mine.map((r) => r.rps)),
      rpsMin: Math.min(...mine.map((r) => r.rps)),
      rpsMax: Math.max(...mine.map((r) => r.rps)),
      p50: median(mine.map((r) => r.p50)),
      p99: median(mine.map((r) => r.p99)),
      errors: mine.reduce((sum, r) => sum + r.errors, 0),
      peakRssMb: median(mine.map((r) => r.peakRssMb)),
      cpu: median(mine.map((r) => r.cpu)),
      toFloor: toFloor(name),
      toNginx: toNginx(name),
      toFastify: toFastify(name),
      toGateway: toGateway(name),
      toNginxTls: toNginxTls(name),
    };
  });
}

function table(rows) {
  const lines = [
    '| proxy | req/s (median, min–max) | p50 ms | p99 ms | errors | peak RSS MB | proxy CPU % | × floor | × fastify | × NGINX |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.name} | ${fmt(row.rps)} (${fmt(row.rpsMin)}–${fmt(row.rpsMax)}) | ${fmt(row.p50, 2)} | ${fmt(row.p99, 2)} | ${row.errors} | ${fmt(row.peakRssMb)} | ${fmt(row.cpu)} | ${fmt(row.toFloor, 2)} | ${fmt(row.toFastify, 2)} | ${fmt(row.toNginx, 2)} |`,
    );
  }
  return lines.join('\n');
}

/** The goal as the performance issue states it: the gateway against fastify + reply-from in the same run. */
/** The scale-out issue's figures: the shared limiter's cost against the embedded one, and what two workers give. */
function scaleOutLines(rows) {
  const gateway = rows.find((row) => row.name === 'gateway');
  const redis = rows.find((row) => row.name === 'gateway-redis');
  const workers = rows.find((row) => row.name === 'gateway-workers');
  if (!gateway || (!redis && !workers)) return [];
  const lines = ['### Scale out, against the gateway alone (embedded state) in this run', ''];
  if (redis) {
    const cost = (1 - redis.rps / gateway.rps) * 100;
    const p99 = redis.p99 - gateway.p99;
    lines.push(`- --redis-url: ${fmt(cost, 1)} % fewer req/s (goal ≤ 10 %): ${cost <= 10 ? 'met' : 'NOT met'}; p99 ${p99 >= 0 ? '+' : ''}${fmt(p99, 2)} ms (goal ≤ +1 ms): ${p99 <= 1 ? 'met' : 'NOT met'}`);
  }
  if (workers) lines.push(`- --workers=2: ${fmt(workers.rps / gateway.rps, 2)} × the req/s of one process (two cores, shared with the load generator and the backends); p99 ${fmt(workers.p99, 2)} ms`);
  return [...lines, ''];
}

function goalLines(rows) {
  const gateway = rows.find((row) => row.name === 'gateway');
  const fastify = rows.find((row) => row.name === 'fastify');
  if (!gateway || !fastify) return scaleOutLines(rows);
  const mark = (ok) => (ok ? 'met' : 'NOT met');
  return [
    ...scaleOutLines(rows),
    '### The goal, against fastify + reply-from in this run',
    '',
    `- req/s: ${fmt(gateway.toFastify, 2)} × fastify (median of per-round ratios; goal ≥ 1.0): ${mark(gateway.toFastify >= 1)}`,
    `- p99: ${fmt(gateway.p99, 2)} ms against ${fmt(fastify.p99, 2)} ms (goal ≤): ${mark(gateway.p99 <= fastify.p99)}`,
    `- peak RSS under load: ${fmt(gateway.peakRssMb)} MB against ${fmt(fastify.peakRssMb)} MB (goal ≤): ${mark(gateway.peakRssMb <= fastify.peakRssMb)}`,
  ];
}

/** TLS termination: the gateway against NGINX, both over TLS, and what TLS costs each against itself in plain HTTP. */
function tlsLines(rows) {
  const gatewayTls = rows.find((row) => row.name === 'gateway-tls');
  const nginxTls = rows.find((row) => row.name === 'nginx-tls');
  if (!gatewayTls && !nginxTls) return [];
  // Each a median of per-round ratios of req/s; a config not in the run shows –.
  const change = (ratio) => `${ratio >= 1 ? '+' : ''}${fmt((ratio - 1) * 100, 1)} %`;
  const gatewayCost = gatewayTls?.toGateway;
  const nginxCost = nginxTls?.toNginx;
  return [
    '### TLS termination, same certificate, keep-alive clients (handshakes amortised)',
    '',
    `- req/s: gateway-tls / nginx-tls ${fmt(gatewayTls?.toNginxTls, 2)}; TLS cost: gateway-tls / gateway ${fmt(gatewayCost, 2)} (${change(gatewayCost)}), ` +
      `nginx-tls / nginx ${fmt(nginxCost, 2)} (${change(nginxCost)}) (medians of per-round ratios)`,
    // wrk decrypts too, on the CPU it shares with the backends: a proxy that no longer fills its own CPU is held back by the load.
    ...[gatewayTls, nginxTls]
      .filter((row) => row && row.cpu < 80)
      .map((row) => `- ${row.name} used ${fmt(row.cpu)} % of its CPU: the load generator (which decrypts too, beside the backends) limits it, so its TLS cost is overstated`),
    '',
  ];
}

/** API keys: the gateway checking a Bearer key (100 consumers) and its roles on every request, against itself without --api-keys. */
function apiKeyLines(rows) {
  const apiKeys = rows.find((row) => row.name === 'gateway-apikeys');
  if (!apiKeys) return [];
  // A median of per-round ratios of req/s; – when the gateway is not in the run.
  const ratio = apiKeys.toGateway;
  const change = Number.isFinite(ratio) ? ` (${ratio >= 1 ? '+' : '−'}${fmt(Math.abs(ratio - 1) * 100, 1)} %)` : '';
  return [`- API-key checking: gateway-apikeys / gateway = ${fmt(ratio, 2)}${change}`, ''];
}

/** FEATURES=1: what each default feature costs, each measured against the gateway with everything on in the same rounds. */
function featureLines(rows) {
  const gateway = rows.find((row) => row.name === 'gateway');
  const lines = [
    '| feature | turned off with | req/s, all on | req/s, without it | cost (req/s) | p99 ms, all on / without |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const [feature, flag] of Object.entries(FEATURE_SWITCHES)) {
    const without = rows.find((row) => row.name === featureConfig(feature));
    if (!without || !gateway) continue;
    // toGateway is the median of the per-round ratios without/with: 1.05 means the feature costs ~5 %.
    const cost = (1 - 1 / without.toGateway) * 100;
    lines.push(`| ${feature} | \`${flag}\` | ${fmt(gateway.rps)} | ${fmt(without.rps)} | ${fmt(cost, 1)} % | ${fmt(gateway.p99, 2)} / ${fmt(without.p99, 2)} |`);
  }
  return lines;
}

async function soak(seconds, name = env.SOAK_CONFIG ?? 'gateway') {
  const config = ALL_CONFIGS[name];
  const proc = start(name, PROXY_CPU, config.command(config.port));
  const url = urlOf(config);
  const headers = headersOf(config);
  let sampler;
  try {
    await waitForHttp(url, proc, headers);
    await checkRoundRobin(url, headers, !config.unevenly);
    const samples = [];
    sampler = setInterval(() => samples.push(groupKb(proc.child.pid, 'VmRSS') / 1024), 1_000);
    const result = await load(url, seconds, headers);
    clearInterval(sampler);
    // The first seconds are warm-up (JIT, pools); flatness is judged on the rest.
    const settled = samples.slice(Math.min(5, Math.floor(samples.length / 4)));
    const low = Math.min(...settled);
    const high = Math.max(...settled);
    const mean = settled.reduce((sum, sample) => sum + sample, 0) / settled.length;
    const deviation = Math.max(high - mean, mean - low) / mean;
    const report = [
      `## Soak: ${name} alone under load for ${seconds} s`,
      '',
      `${machine()}`,
      '',
      `req/s ${fmt(result.rps)}, p99 ${fmt(result.p99, 2)} ms, errors ${result.errors}`,
      `RSS MB after warm-up: first ${fmt(settled[0], 1)}, min ${fmt(low, 1)}, max ${fmt(high, 1)}, mean ${fmt(mean, 1)}, last ${fmt(settled.at(-1), 1)}; ` +
        `every sample within ±${fmt(deviation * 100, 1)} % of the mean (goal ±5 %: ${deviation <= 0.05 ? 'met' : 'NOT met'})`,
      `samples (MB, one a second): ${samples.map((s) => s.toFixed(0)).join(' ')}`,
    ].join('\n');
    console.log(`\n${report}\n`);
    writeFileSync(join(outDir, 'soak.md'), `${report}\n`);
    return report;
  } finally {
    clearInterval(sampler);
    await stop(proc);
  }
}

async function main() {
  console.log(`bench: building…`);
  build();
  console.log(`bench: ${machine()}`);
  console.log(`bench: load generator ${tools.wrk ? 'wrk' : 'autocannon (wrk is not installed; numbers are not comparable with wrk runs)'}`);
  const backends = startBackends();
  if (CONFIGS.some((name) => needsOf(name).includes('redis'))) backends.push(startRedisServer());
  // The TLS configs' certificate, made once for the whole run, before any measurement.
  if (CONFIGS.some((name) => ALL_CONFIGS[name].tls) || ALL_CONFIGS[env.SOAK_CONFIG]?.tls) tlsPair();
  // Likewise the --api-keys file and the key the load sends.
  if (CONFIGS.some((name) => ALL_CONFIGS[name].apiKeys) || ALL_CONFIGS[env.SOAK_CONFIG]?.apiKeys) apiKeysFile();
  console.log(`bench: backends ${tools.nginx ? 'nginx' : 'node test backends'} on :${B1} and :${B2}`);
  const stopAll = async () => {
    for (const proc of backends) await stop(proc);
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    await waitForHttp(`http://127.0.0.1:${B1}/`);
    await waitForHttp(`http://127.0.0.1:${B2}/`);
    if (SOAK_ONLY) {
      await soak(SOAK || 60);
      return;
    }
    const runs = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order every round so no config always runs first (or last).
      const order = CONFIGS.map((_, i) => CONFIGS[(i + round) % CONFIGS.length]);
      for (const name of order) {
        process.stdout.write(`bench: round ${round + 1}/${ROUNDS} ${name}… `);
        const result = await measure(name, round).catch((error) => {
          // One retry for a measurement that failed on its own (its error is shown); a second failure stops the bench.
          process.stdout.write(`failed (${error.message}), once more… `);
          return measure(name, round);
        });
        runs.push(result);
        console.log(`${fmt(result.rps)} req/s, p99 ${fmt(result.p99, 2)} ms, errors ${result.errors}, peak RSS ${fmt(result.peakRssMb)} MB`);
      }
    }
    const rows = summarize(runs);
    const text = [
      `## Gateway benchmark, ${new Date().toISOString().slice(0, 10)}`,
      '',
      machine(),
      '',
      `${ROUNDS} interleaved rounds; per config: ${WARMUP} s warm-up, then ${DURATION} s with ${CONNS} connections (${tools.wrk ? 'wrk -t1' : 'autocannon'}). Medians; ratios are medians of per-round ratios.`,
      '',
      table(rows),
      '',
      ...rows.map((row) => `- ${row.name}: ${row.what}`),
      '',
      ...(FEATURES ? featureLines(rows) : [...tlsLines(rows), ...apiKeyLines(rows), ...goalLines(rows)]),
    ].join('\n');
    console.log(`\n${text}\n`);
    writeFileSync(join(outDir, 'summary.md'), `${text}\n`);
    writeFileSync(join(outDir, 'results.json'), `${JSON.stringify({ machine: machine(), runs, rows }, null, 2)}\n`);
    writeFileSync(join(root, 'bench', 'results', 'latest.md'), `${text}\n`);
    const failed = rows.filter((row) => row.errors > 0);
    if (failed.length) {
      console.error(`bench: non-2xx responses or socket errors in ${failed.map((row) => row.name).join(', ')}`);
      process.exitCode = 1;
    }
    if (SOAK > 0 && !FEATURES) writeFileSync(join(root, 'bench', 'results', 'latest.md'), `${text}\n\n${await soak(SOAK)}\n`);
    console.log(`bench: results in ${outDir}`);
  } finally {
    await stopAll();
  }
}

await main();
