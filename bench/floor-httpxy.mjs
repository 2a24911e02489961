// The same floor without http-proxy-middleware: node:http + httpxy (the engine inside hpm 4),
// keep-alive agent, round robin. Measures what hpm's own per-request work costs.
import http from 'node:http';
import { createProxyServer } from 'httpxy';
import { benchArgs, onStopSignal } from './proxy-args.mjs';

const { host, port, backends } = benchArgs();
const targets = backends.map((url) => new URL(url));
const agent = new http.Agent({ keepAlive: true });
const proxy = createProxyServer({});
proxy.on('error', (_error, _req, res) => {
  if (res && !res.headersSent) res.writeHead(502).end();
});
let next = 0;
const server = http.createServer((req, res) => {
  void proxy.web(req, res, { target: targets[(next = (next + 1) % targets.length)], agent });
});
server.listen(port, host, () => console.log(`floor-httpxy listening on http://${host}:${port}`));
onStopSignal(() => server.close());
