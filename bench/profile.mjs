#!/usr/bin/env node
// `npm run bench:profile`: where the gateway's CPU time goes under load. Runs the built gateway with
// V8's --cpu-prof in front of the bench backends, loads it, and summarises the profile: self time by
// area (our code, each package, node internals, GC) and the hottest functions.
//   DURATION=8 GATEWAY_ARGS="--rate-limit=0" npm run bench:profile
//   PROFILE=fastify npm run bench:profile     (the peer, for comparison)
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BACKENDS, build, checkRoundRobin, load, machine, PROXY_CPU, root, scratch, start, startBackends, stop, waitForHttp } from './harness.mjs';

const DURATION = Number(process.env.DURATION ?? 8);
const TOP = Number(process.env.TOP ?? 20);
const gatewayArgs = (process.env.GATEWAY_ARGS ?? '').split(' ').filter(Boolean);

/** Which part of the system a profiled function belongs to. */
function areaOf(frame) {
  const url = frame.url || '';
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  if (url.includes('/dist/')) return `gateway ${relative(join(root, 'dist'), new URL(url).pathname).split('/')[0]}`;
  return url;
}

function summarise(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const busy = [...self].filter(([id]) => byId.get(id).callFrame.functionName !== '(idle)');
  const total = busy.reduce((sum, [, time]) => sum + time, 0);
  const tally = (keyOf) => {
    const sums = new Map();
    for (const [id, time] of busy) {
      const key = keyOf(byId.get(id).callFrame);
      sums.set(key, (sums.get(key) ?? 0) + time);
    }
    return [...sums].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  };
  const pct = (time) => `${((100 * time) / total).toFixed(1).padStart(5)} %`;
  const lines = [`busy CPU sampled: ${(total / 1e6).toFixed(2)} s`, '', 'self time by area:'];
  for (const [area, time] of tally(areaOf)) lines.push(`${pct(time)}  ${area}`);
  lines.push('', 'hottest functions (self time):');
  for (const [name, time] of tally((frame) => `${frame.functionName || '(anonymous)'}  ${areaOf(frame)}:${frame.lineNumber + 1}`)) {
    lines.push(`${pct(time)}  ${name}`);
  }
  return lines.join('\n');
}

build();
const backends = startBackends();
const port = 9110;
const profileDir = join(scratch, 'profile');
// PROFILE=fastify profiles the peer instead, to compare where each spends its time.
const target =
  process.env.PROFILE === 'fastify'
    ? ['bench/fastify-reply-from.mjs', `--listen=127.0.0.1:${port}`, `--backends=${BACKENDS}`]
    : ['dist/main.js', `--listen=127.0.0.1:${port}`, `--backends=${BACKENDS}`, '--rate-limit=1000000000', ...gatewayArgs];
const gateway = start('gateway', PROXY_CPU, ['node', `--cpu-prof`, `--cpu-prof-dir=${profileDir}`, ...target]);
try {
  const url = `http://127.0.0.1:${port}/`;
  await waitForHttp(url, gateway);
  await checkRoundRobin(url);
  const result = await load(url, DURATION);
  console.log(`${machine()}\nunder profiling: ${Math.round(result.rps)} req/s, p99 ${result.p99.toFixed(2)} ms, errors ${result.errors}\n`);
} finally {
  await stop(gateway);
  for (const backend of backends) await stop(backend);
}
const [file] = readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'));
console.log(summarise(join(profileDir, file)));
console.log(`\nprofile: ${join(profileDir, file)} (open it in Chrome DevTools)`);
