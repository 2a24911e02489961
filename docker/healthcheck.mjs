#!/usr/bin/env node
// The container's HEALTHCHECK: GET /health where the running gateway serves it, its --admin-listen
// when set (its own endpoints move there), else its --listen. Exits 0 when the gateway answers 200
// within two seconds, 1 otherwise.
//
// The addresses are read from the gateway process itself, /proc/<pid>/cmdline and /proc/<pid>/environ,
// and parsed by the gateway's own parser: a flag wins over its variable exactly as in the gateway,
// so `LISTEN=:3000` in the image and `--listen=127.0.0.1:3400` in the CMD probes 3400. (The health
// check's own environment alone cannot know the CMD's flags.) Which process: the pid given as the
// one argument (tests), else PID 1 when it runs dist/main.js (the image's CMD), else every process
// running dist/main.js (under an init or npm). Without a gateway process to read, the health check's
// own environment is used, which in a container is the gateway's.
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { parseGatewayConfig } from '../dist/config/parse-gateway-config.js';

/** The gateway's entry point, as node was given it: dist/main.js, ./dist/main.js, /app/dist/main.js. */
const GATEWAY_SCRIPT = /(^|\/)dist\/main\.js$/;

/** What one gateway process was started with, or undefined if `pid` is not a gateway we may read. */
function readGatewayProcess(pid) {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
    // node [node's options] dist/main.js [the gateway's flags]
    const script = argv.findIndex((arg, index) => index > 0 && GATEWAY_SCRIPT.test(arg));
    if (script === -1) return undefined;
    const env = {};
    for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const equals = entry.indexOf('=');
      if (equals > 0) env[entry.slice(0, equals)] = entry.slice(equals + 1);
    }
    return { pid, argv: argv.slice(script + 1), env };
  } catch {
    return undefined; // gone, or another user's
  }
}

function findGatewayProcesses() {
  const given = process.argv[2];
  if (given !== undefined) {
    const gateway = readGatewayProcess(given);
    if (!gateway) fail(`process ${given} is not a gateway (node … dist/main.js) this user can read`);
    return [gateway];
  }
  const init = readGatewayProcess(1);
  if (init) return [init];
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid);
  } catch {
    // no /proc: fall back on the environment
  }
  return pids.map(readGatewayProcess).filter((gateway) => gateway !== undefined);
}

/** Where to GET /health for a config: a wildcard listener is reachable on loopback. */
function healthTarget(config, what) {
  const { host, port } = config.adminListen ?? config.listen;
  if (port === 0) fail(`${what} listens on a port the system chose (:0); there is no address to probe`);
  if (host === undefined || host === '0.0.0.0') return { host: '127.0.0.1', port };
  if (host === '::') return { host: '::1', port };
  return { host, port };
}

function targets() {
  const gateways = findGatewayProcesses();
  const found = gateways.map(({ pid, argv, env }) => healthTarget(parseGatewayConfig(argv, env), `the gateway (pid ${pid})`));
  if (gateways.length === 0) found.push(healthTarget(parseGatewayConfig([], process.env), 'the gateway (configured by this environment)'));
  // Workers of one gateway share its addresses: probe each address once.
  return [...new Map(found.map((target) => [`${target.host} ${target.port}`, target])).values()];
}

function probe({ host, port }) {
  return new Promise((resolve) => {
    const request = http.get({ host, port, path: '/health', timeout: 2_000 }, (response) => {
      response.resume();
      if (response.statusCode !== 200) console.error(`healthcheck: ${host}:${port} answered ${response.statusCode}`);
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', (error) => {
      console.error(`healthcheck: ${host}:${port}: ${error.message}`);
      resolve(false);
    });
  });
}

function fail(message) {
  console.error(`healthcheck: ${message}`);
  process.exit(1);
}

try {
  const results = await Promise.all(targets().map(probe));
  process.exit(results.every(Boolean) ? 0 : 1);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
