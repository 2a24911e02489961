#!/usr/bin/env node
// The Go proxy's test_server: answers every request with its message.
//   node demo/backend.mjs --port=8080 --message="Response from server 1"
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    message: { type: 'string', default: 'Hello from the test backend' },
    host: { type: 'string' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`invalid --port ${JSON.stringify(values.port)}: expected a port number\n`);
  process.exit(2);
}

const body = `${values.message}\n`;
const server = http.createServer((req, res) => {
  // Read and discard any request body before answering, as a real service would.
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});

// A busy or forbidden port is the user's to fix, not a crash: one line, exit code 1.
const reasons = { EADDRINUSE: 'address already in use', EACCES: 'permission denied', EADDRNOTAVAIL: 'address not available' };
server.once('error', (error) => {
  const where = values.host === undefined ? `--port ${port}` : `--host ${values.host} --port ${port}`;
  process.stderr.write(`backend ${JSON.stringify(values.message)}: cannot listen on ${where}: ${reasons[error.code] ?? error.message}\n`);
  process.exit(1);
});

server.listen(port, values.host, () => {
  const address = server.address();
  console.log(`backend "${values.message}" listening on http://localhost:${address.port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
