#!/usr/bin/env node
// `npm run demo`: two test backends on :8080 and :8081 and the built gateway on :3000 in front of
// them. Ctrl+C stops all three. Extra arguments go to the gateway: npm run demo -- --rate-limit=5
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

const children = [
  spawn(process.execPath, [here('./backend.mjs'), '--port=8080', '--message=Response from server 1'], { stdio: 'inherit' }),
  spawn(process.execPath, [here('./backend.mjs'), '--port=8081', '--message=Response from server 2'], { stdio: 'inherit' }),
  spawn(
    process.execPath,
    [here('../dist/main.js'), '--listen=:3000', '--backends=http://localhost:8080,http://localhost:8081', ...process.argv.slice(2)],
    { stdio: 'inherit' },
  ),
];

let stopping = false;
function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  let running = children.filter((child) => child.exitCode === null).length;
  if (running === 0) process.exit(exitCode);
  for (const child of children) {
    if (child.exitCode === null) {
      child.once('exit', () => {
        if (--running === 0) process.exit(exitCode);
      });
    }
  }
}

// Ctrl+C reaches the whole process group; stop everyone once, cleanly, whichever way it comes.
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));
for (const child of children) {
  child.once('exit', (code) => {
    if (!stopping) {
      console.error(`demo: a process exited (code ${code}); stopping the others`);
      stopAll(code === 0 ? 1 : (code ?? 1));
    }
  });
}
console.log('demo: try  curl http://localhost:3000/  ·  curl http://localhost:3000/health  ·  curl http://localhost:3000/metrics');
