// A floor on another HTTP client: node:http + undici (what fastify's reply-from uses), one pool per
// backend, round robin, streaming both ways. Measures what Node's own http client costs a proxy.
import http from 'node:http';
import { Pool } from 'undici';
import { benchArgs, onStopSignal } from './proxy-args.mjs';

const { host, port, backends } = benchArgs();
const pools = backends.map((url) => new Pool(url, { connections: 128, keepAliveTimeout: 60_000 }));
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);
let next = 0;
const server = http.createServer((req, res) => {
  const pool = pools[(next = (next + 1) % pools.length)];
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  pool.request({ path: req.url, method: req.method, headers: req.headers, body: hasBody ? req : undefined }).then(
    ({ statusCode, headers, body }) => {
      for (const name of HOP_BY_HOP) delete headers[name];
      res.writeHead(statusCode, headers);
      body.pipe(res);
    },
    () => {
      if (!res.headersSent) res.writeHead(502).end();
    },
  );
});
server.listen(port, host, () => console.log(`floor-undici listening on http://${host}:${port}`));
onStopSignal(() => server.close());
