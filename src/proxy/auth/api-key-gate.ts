import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { AuditLog } from '../../logging/audit-log.js';
import { ClientAddressResolver } from '../edge/client-address.js';
import type { RuleRefusal } from '../edge/request-rules.js';
import { AccessDeniedError, ApiKeyRequiredError, AuthenticationThrottledError } from '../proxy-errors.js';
import { identityOf } from '../request-identity.js';
import { ApiKeys } from './api-keys.js';
import type { Consumer } from './consumer.js';
import { FailedAuthentications } from './failed-authentications.js';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** The key of `Authorization: Bearer <key>`; the common exact form without a regular expression. */
function bearerKey(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  if (authorization.startsWith('Bearer ') && authorization.indexOf(' ', 7) === -1 && authorization.length > 7) return authorization.slice(7);
  return BEARER.exec(authorization)?.[1];
}
const CHALLENGE = { 'www-authenticate': 'Bearer realm="gateway"' };

/**
 * Authentication and access with --api-keys: who the consumer is (a key in `Authorization: Bearer …`
 * or `X-API-Key`), whether its roles allow the request, and what the backend is told: the key is
 * removed, `X-Consumer` names the consumer. A client never sets `X-Consumer` itself.
 */
@Injectable()
export class ApiKeyGate {
  private readonly failures = new FailedAuthentications();

  constructor(
    private readonly apiKeys: ApiKeys,
    private readonly clients: ClientAddressResolver,
    private readonly audit: AuditLog,
  ) {}

  /** The consumer the request is made for, a refusal, or undefined without --api-keys. */
  check(req: IncomingMessage): Consumer | RuleRefusal | undefined {
    const { headers } = req;
    if (headers['x-consumer'] !== undefined) delete headers['x-consumer'];
    if (!this.apiKeys.enabled) return undefined;
    const client = this.clients.addressOf(req);
    const retryAfter = this.failures.retryAfterSeconds(client);
    if (retryAfter > 0) {
      return { exception: new AuthenticationThrottledError(retryAfter), headers: { 'retry-after': String(retryAfter) }, closes: false };
    }
    const bearer = bearerKey(headers.authorization);
    const key = bearer ?? headers['x-api-key'];
    const consumer = typeof key === 'string' ? this.apiKeys.consumerOn(req.socket, key) : undefined;
    if (consumer === undefined) return this.refuseKey(req, client, key === undefined ? 'no API key' : 'unknown API key');
    // The key is the gateway's business, never the backend's.
    if (bearer !== undefined) delete headers.authorization;
    if (headers['x-api-key'] !== undefined) delete headers['x-api-key'];
    const path = req.url ?? '/';
    if (!consumer.allows(req.method ?? '', path)) {
      this.audit.record('access-denied', { consumer: consumer.name, client, reqId: identityOf(req).requestId, method: req.method, url: path, reason: 'no role of the consumer allows this method on this path' });
      return { exception: new AccessDeniedError(req.method ?? ''), closes: false };
    }
    headers['x-consumer'] = consumer.name;
    return consumer;
  }

  private refuseKey(req: IncomingMessage, client: string, reason: string): RuleRefusal {
    const usedUp = this.failures.record(client);
    this.audit.record('authentication-failed', { client, reqId: identityOf(req).requestId, method: req.method, url: req.url, reason });
    if (usedUp) this.audit.record('authentication-throttled', { client, reason: 'too many failed authentications: this address is refused for the rest of the minute' });
    return { exception: new ApiKeyRequiredError(), headers: CHALLENGE, closes: false };
  }
}
