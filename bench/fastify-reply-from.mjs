// The best Node peer measured: fastify 5 + @fastify/reply-from over an undici BalancedPool.
//   node bench/fastify-reply-from.mjs --listen=127.0.0.1:9102 --backends=http://127.0.0.1:18080,http://127.0.0.1:18081
import replyFrom from '@fastify/reply-from';
import Fastify from 'fastify';
import { benchArgs, onStopSignal } from './proxy-args.mjs';

const { host, port, backends } = benchArgs();
const app = Fastify({ logger: false });
await app.register(replyFrom, { base: backends, undici: { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 } });
app.all('/*', (request, reply) => reply.from(request.url));
app.all('/', (request, reply) => reply.from(request.url));
await app.listen({ host, port });
console.log(`fastify + reply-from listening on http://${host}:${port}`);
onStopSignal(() => app.close());
