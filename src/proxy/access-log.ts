import { Injectable, Logger } from '@nestjs/common';

/** One line per proxied request, through Nest's logger. */
@Injectable()
export class AccessLog {
  private readonly logger = new Logger('Proxy');

  /** @param status what the client got; 499 when it went away before any answer (nginx's convention). */
  record(method: string, url: string, status: number, backend: string, durationMs: number): void {
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query); // query strings can carry secrets
    this.logger.log(`${method} ${path} ${status} ${backend} ${durationMs.toFixed(1)}ms`);
  }
}
