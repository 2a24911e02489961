#!/usr/bin/env node
// `npm run demo`: builds the gateway, then runs two test backends on :8080 and :8081 and the
// gateway on :3000 in front of them. Ctrl+C, or SIGTERM to npm or to this process, stops all three.
// Extra arguments go to the gateway: npm run demo -- --rate-limit=5
//   DEMO_PORTS=3000,8080,8081  other ports: the gateway's, then the two backends'
//   DEMO_SKIP_BUILD=1          run dist/ as it is (the tests build once, before they start)
//
// The npm script is `exec node demo/demo.mjs`, on purpose: npm passes SIGTERM (and SIGINT) to the
// shell it runs the script in, and `exec` makes this process that shell (Debian's dash does not do
// it by itself for a single command), so the signal lands here and is passed on to the children.
// With `nest build && node demo.mjs` the shell stayed in between, died of the signal, and left the
// three processes running. So the build happens here too, and is stopped the same way.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const repository = here('..');

const ports = (process.env.DEMO_PORTS || '3000,8080,8081').split(',');
if (ports.length !== 3 || !ports.every((port) => /^\d{1,5}$/.test(port) && Number(port) <= 65_535)) {
  process.stderr.write(`demo: invalid DEMO_PORTS ${JSON.stringify(process.env.DEMO_PORTS)}: expected three ports, such as 3000,8080,8081\n`);
  process.exit(2);
}
const [gatewayPort, ...backendPorts] = ports;

/** Every child still running, so a signal reaches whichever step we are at. */
const running = new Set();
let stopping = false;

function start(args) {
  const child = spawn(process.execPath, args, { cwd: repository, stdio: 'inherit' });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Stops every child, waits for all of them, then exits with `exitCode`. */
function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  if (running.size === 0) process.exit(exitCode);
  for (const child of running) {
    child.once('exit', () => {
      if (running.size === 0) process.exit(exitCode);
    });
    child.kill('SIGTERM');
  }
}

// Ctrl+C reaches the whole process group; stop everyone once, cleanly, whichever way it comes.
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

/** Runs `nest build`; resolves false if it failed or was stopped (stopAll then exits). */
async function build() {
  const nest = start([here('../node_modules/@nestjs/cli/bin/nest.js'), 'build']);
  const code = await new Promise((resolve) => nest.once('exit', (exitCode) => resolve(exitCode)));
  if (code !== 0 && !stopping) process.exit(code ?? 1);
  return code === 0 && !stopping;
}

function startAll() {
  const children = [
    { name: `backend on :${backendPorts[0]}`, child: start([here('./backend.mjs'), `--port=${backendPorts[0]}`, '--message=Response from server 1']) },
    { name: `backend on :${backendPorts[1]}`, child: start([here('./backend.mjs'), `--port=${backendPorts[1]}`, '--message=Response from server 2']) },
    {
      name: 'gateway',
      child: start([
        here('../dist/main.js'),
        `--listen=:${gatewayPort}`,
        `--backends=${backendPorts.map((port) => `http://localhost:${port}`).join(',')}`,
        ...process.argv.slice(2),
      ]),
    },
  ];
  for (const { name, child } of children) {
    child.once('exit', (code, signal) => {
      if (stopping) return;
      // A child that failed has said why in its own line (a busy port, a bad flag); say only what it could not.
      if (code === 0 || signal) console.error(`demo: the ${name} stopped (${signal ?? `exit code ${code}`}); stopping the others`);
      stopAll(code || 1);
    });
  }
  console.log(`demo: try  curl http://localhost:${gatewayPort}/  ·  curl http://localhost:${gatewayPort}/health  ·  curl http://localhost:${gatewayPort}/metrics`);
}

if (process.env.DEMO_SKIP_BUILD === '1' || (await build())) startAll();
