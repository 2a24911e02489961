// Shared by the bench's comparison proxies: --listen=host:port and --backends=a,b.
import { parseArgs } from 'node:util';

export function benchArgs() {
  const { values } = parseArgs({ options: { listen: { type: 'string' }, backends: { type: 'string' } } });
  const listen = values.listen ?? '127.0.0.1:9100';
  const colon = listen.lastIndexOf(':');
  return {
    host: listen.slice(0, colon) || '127.0.0.1',
    port: Number(listen.slice(colon + 1)),
    backends: (values.backends ?? 'http://127.0.0.1:18080,http://127.0.0.1:18081').split(','),
  };
}

export function onStopSignal(close) {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      void Promise.resolve(close()).finally(() => process.exit(0));
      setTimeout(() => process.exit(0), 2_000).unref();
    });
  }
}
