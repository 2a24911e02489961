import type { AddressInfo, Server } from 'node:net';
import { formatListenAddress, type ListenAddress } from '../config/listen-address.js';
import { ListenError } from './listen-error.js';

/**
 * Starts `server` on `address`; resolves with the bound address.
 * @param source where the address came from (`--listen`, `LISTEN`…), for the error's one line
 * @throws ListenError when the address cannot be bound (in use, not ours, not allowed)
 */
export function listenOn(server: Server, address: ListenAddress, source: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => reject(new ListenError(source, formatListenAddress(address), error));
    server.once('error', fail);
    server.listen(address.port, address.host, () => {
      server.off('error', fail);
      resolve(server.address() as AddressInfo);
    });
  });
}
