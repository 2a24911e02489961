// The floor for our proxy library: node:http + http-proxy-middleware 4 with a keep-alive agent,
// round robin, nothing else. A gateway built on hpm cannot be faster than this.
//   node bench/floor.mjs --listen=127.0.0.1:9101 --backends=http://127.0.0.1:18080,http://127.0.0.1:18081
import http from 'node:http';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { benchArgs, onStopSignal } from './proxy-args.mjs';

const { host, port, backends } = benchArgs();
let next = 0;
const proxy = createProxyMiddleware({
  router: () => backends[(next = (next + 1) % backends.length)],
  agent: new http.Agent({ keepAlive: true }),
});
const server = http.createServer((req, res) => proxy(req, res));
server.listen(port, host, () => console.log(`floor listening on http://${host}:${port}`));
onStopSignal(() => server.close());
