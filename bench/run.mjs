#!/usr/bin/env node
// `npm run bench`: the gateway against the floor of its proxy library, the best Node peer and NGINX,
// over the same two backends, in interleaved rounds. Self-contained: everything it runs is in this
// repository (plus nginx and wrk from Debian when installed: apt-get install -y nginx wrk).
//
// Knobs (environment): ROUNDS=3 DURATION=10 WARMUP=3 (seconds) CONNS=50 CONFIGS="gateway gateway-undici floor fastify nginx"
//   (also available: floor-httpxy and floor-undici, the floor without hpm and on undici instead of node:http's client)
//   SOAK=60  instead of rounds, load the gateway alone for SOAK seconds and sample its RSS every second
//            (SOAK_CONFIG=gateway-undici for the other engine)
//   GATEWAY_ARGS="..."  extra flags for the gateway (and the baseline)
//   BASELINE=/path/to/other/checkout/dist/main.js  adds that build as config `baseline` (before/after)
// Output: a table on stdout, and bench/results/<timestamp>/{results.json,summary.md} (+ bench/results/latest.md).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
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
  PROXY_CPU,
  root,
  scratch,
  start,
  startBackends,
  stop,
  TICKS,
  tools,
  waitForHttp,
} from './harness.mjs';

const env = process.env;
const ROUNDS = Number(env.ROUNDS ?? 3);
const DURATION = Number(env.DURATION ?? 10);
const WARMUP = Number(env.WARMUP ?? 3);
const SOAK = Number(env.SOAK ?? 0);

const gatewayArgs = (env.GATEWAY_ARGS ?? '').split(' ').filter(Boolean);
const ALL_CONFIGS = {
  gateway: {
    what: 'this gateway (node dist/main.js), every default feature on, rate limit not binding',
    port: 9100,
    command: (port) => ['node', 'dist/main.js', `--listen=127.0.0.1:${port}`, `--backends=${BACKENDS}`, '--rate-limit=1000000000', ...gatewayArgs],
  },
  'gateway-undici': {
    what: 'this gateway with --proxy-engine=undici, every default feature on, rate limit not binding',
    port: 9106,
    command: (port) => [
      'node',
      'dist/main.js',
      `--listen=127.0.0.1:${port}`,
      `--backends=${BACKENDS}`,
      '--rate-limit=1000000000',
      '--proxy-engine=undici',
      ...gatewayArgs,
    ],
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
};
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
    command: (port) => ['node', ...nodeFlags, 'dist/main.js', `--listen=127.0.0.1:${port}`, `--backends=${BACKENDS}`, '--rate-limit=1000000000', ...gatewayArgs, ...extra],
  };
}
if (env.BASELINE) {
  ALL_CONFIGS.baseline = {
    what: `another build of the gateway, for before/after comparisons (${env.BASELINE})`,
    port: 9107,
    command: (port) => ['node', env.BASELINE, `--listen=127.0.0.1:${port}`, `--backends=${BACKENDS}`, '--rate-limit=1000000000', ...gatewayArgs],
  };
}
const variantNames = (env.VARIANTS ?? '').split(';').filter(Boolean).map((variant) => variant.split('=')[0]);
const CONFIGS = (env.CONFIGS ?? [`gateway gateway-undici floor fastify nginx${env.BASELINE ? ' baseline' : ''}`, ...variantNames].join(' '))
  .split(' ')
  .filter(Boolean)
  .filter((name) => {
    if (!ALL_CONFIGS[name]) throw new Error(`unknown config ${name}`);
    if (ALL_CONFIGS[name].needs && !tools[ALL_CONFIGS[name].needs]) {
      console.log(`skipping ${name}: ${ALL_CONFIGS[name].needs} is not installed (apt-get install -y nginx wrk)`);
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
  const proc = start(name, PROXY_CPU, config.command(config.port, prefix));
  const url = `http://127.0.0.1:${config.port}/`;
  try {
    await waitForHttp(url, proc);
    await checkRoundRobin(url);
    await load(url, WARMUP);
    const ticksBefore = groupCpuTicks(proc.child.pid);
    const rssSamples = [];
    const sampler = setInterval(() => rssSamples.push(groupKb(proc.child.pid, 'VmRSS')), 500);
    const started = performance.now();
    const result = await load(url, DURATION);
    clearInterval(sampler);
    const cpu = ((groupCpuTicks(proc.child.pid) - ticksBefore) / TICKS / ((performance.now() - started) / 1000)) * 100;
    const peakRssMb = groupKb(proc.child.pid, 'VmHWM') / 1024;
    writeFileSync(join(outDir, `${name}-round${round}.txt`), result.raw);
    return { name, round, rps: result.rps, p50: result.p50, p99: result.p99, errors: result.errors, requests: result.requests, peakRssMb, cpu };
  } finally {
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
    };
  });
}

function table(rows) {
  const lines = [
    '| proxy | req/s (median, min–max) | p50 ms | p99 ms | errors | peak RSS MB | proxy CPU % | × floor | × NGINX |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.name} | ${fmt(row.rps)} (${fmt(row.rpsMin)}–${fmt(row.rpsMax)}) | ${fmt(row.p50, 2)} | ${fmt(row.p99, 2)} | ${row.errors} | ${fmt(row.peakRssMb)} | ${fmt(row.cpu)} | ${fmt(row.toFloor, 2)} | ${fmt(row.toNginx, 2)} |`,
    );
  }
  return lines.join('\n');
}

async function soak(seconds, name = env.SOAK_CONFIG ?? 'gateway') {
  const config = ALL_CONFIGS[name];
  const proc = start(name, PROXY_CPU, config.command(config.port));
  const url = `http://127.0.0.1:${config.port}/`;
  try {
    await waitForHttp(url, proc);
    await checkRoundRobin(url);
    const samples = [];
    const sampler = setInterval(() => samples.push(groupKb(proc.child.pid, 'VmRSS') / 1024), 1_000);
    const result = await load(url, seconds);
    clearInterval(sampler);
    // The first seconds are warm-up (JIT, pools); flatness is judged on the rest.
    const settled = samples.slice(Math.min(5, Math.floor(samples.length / 4)));
    const low = Math.min(...settled);
    const high = Math.max(...settled);
    const report = [
      `## Soak: ${name} alone under load for ${seconds} s`,
      '',
      `${machine()}`,
      '',
      `req/s ${fmt(result.rps)}, p99 ${fmt(result.p99, 2)} ms, errors ${result.errors}`,
      `RSS MB after warm-up: first ${fmt(settled[0], 1)}, min ${fmt(low, 1)}, max ${fmt(high, 1)}, last ${fmt(settled.at(-1), 1)}; spread ${fmt(((high - low) / low) * 100, 1)} % (flat means within ±10 %)`,
      `samples (MB, one a second): ${samples.map((s) => s.toFixed(0)).join(' ')}`,
    ].join('\n');
    console.log(`\n${report}\n`);
    writeFileSync(join(outDir, 'soak.md'), `${report}\n`);
  } finally {
    await stop(proc);
  }
}

async function main() {
  console.log(`bench: building…`);
  build();
  console.log(`bench: ${machine()}`);
  console.log(`bench: load generator ${tools.wrk ? 'wrk' : 'autocannon (wrk is not installed; numbers are not comparable with wrk runs)'}`);
  const backends = startBackends();
  console.log(`bench: backends ${tools.nginx ? 'nginx' : 'node test backends'} on :${B1} and :${B2}`);
  const stopAll = async () => {
    for (const proc of backends) await stop(proc);
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    await waitForHttp(`http://127.0.0.1:${B1}/`);
    await waitForHttp(`http://127.0.0.1:${B2}/`);
    if (SOAK > 0) {
      await soak(SOAK);
      return;
    }
    const runs = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order every round so no config always runs first (or last).
      const order = CONFIGS.map((_, i) => CONFIGS[(i + round) % CONFIGS.length]);
      for (const name of order) {
        process.stdout.write(`bench: round ${round + 1}/${ROUNDS} ${name}… `);
        const result = await measure(name, round);
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
    console.log(`bench: results in ${outDir}`);
  } finally {
    await stopAll();
  }
}

await main();
