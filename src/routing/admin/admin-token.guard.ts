import { createHash, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type CanActivate, type ExecutionContext, Inject, Injectable, Logger, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import { sourceOf } from '../../config/parse-gateway-config.js';

/** Compared as digests: equal lengths for timingSafeEqual, and no timing that tells how much of a guess was right. */
function digestOf(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The admin API exists only with both --admin-listen and --admin-token (else every path under
 * /admin is 404, as if there were none), and answers only requests that carry the token as a
 * bearer credential (else 401 with `WWW-Authenticate`). The token is compared in constant time.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly tokenDigest: Buffer | undefined;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.tokenDigest = config.adminToken !== undefined && config.adminListen !== undefined ? digestOf(config.adminToken) : undefined;
    if (config.adminToken !== undefined && config.adminListen === undefined) {
      // Not on --listen, where clients connect: the admin API needs a listener of its own.
      new Logger('Admin').warn(`${sourceOf(config, 'adminToken')} is set without ${sourceOf(config, 'adminListen')}: the admin API is off`);
    }
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    if (this.tokenDigest === undefined) {
      // Worded as Express words a path it does not have: an API that is off looks like none.
      const { method, url } = http.getRequest<{ method: string; url: string }>();
      throw new NotFoundException(`Cannot ${method} ${url.split('?')[0]}`);
    }
    const authorization = http.getRequest<{ headers: Record<string, string | undefined> }>().headers.authorization ?? '';
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (match && timingSafeEqual(digestOf(match[1]), this.tokenDigest)) return true;
    http.getResponse<ServerResponse>().setHeader('www-authenticate', 'Bearer realm="gateway-admin"');
    throw new UnauthorizedException(match ? 'Wrong admin token' : 'The admin API needs Authorization: Bearer <--admin-token>');
  }
}
