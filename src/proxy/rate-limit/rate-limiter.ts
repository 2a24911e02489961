import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { ClientAddressResolver } from '../edge/client-address.js';
import { sendHttpException } from '../edge/error-response.js';
import { SecurityHeaders } from '../edge/security-headers.js';
import type { Consumer } from '../auth/consumer.js';
import type { RouteSpec } from '../../config/routing-config.js';
import { RateLimitedError } from '../proxy-errors.js';
import { requestIdHeader } from '../request-identity.js';

/** Whose limit a request counts against. */
type RateLimitScopeName = 'route' | 'consumer' | 'client' | 'global';

/** The package's index does not export the record type; the interface carries it. */
export type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** A storage that can answer at once, without a promise: the embedded one. */
export interface ImmediateThrottlerStorage extends ThrottlerStorage {
  /** As `increment`, answered now: undefined when the hit is accepted, the refusal's record otherwise. */
  hitNow(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): ThrottlerStorageRecord | undefined;
}

function isImmediate(storage: ThrottlerStorage): storage is ImmediateThrottlerStorage {
  return typeof (storage as Partial<ImmediateThrottlerStorage>).hitNow === 'function';
}

/** The one throttler the gateway configures: `--rate-limit` requests per one-second window. */
export function gatewayThrottlerOptions(config: GatewayConfig, storage?: ThrottlerStorage): ThrottlerModuleOptions {
  return {
    storage,
    throttlers: [
      {
        name: 'default',
        ttl: 1_000,
        limit: config.rateLimitPerSecond,
        // No block period: a refused request is not recorded, so a client sending more than its
        // limit still gets the limit through every second instead of being locked out.
        blockDuration: 0,
      },
    ],
  };
}

/**
 * @nestjs/throttler's storage and options, applied to plain node requests. ThrottlerGuard needs
 * an ExecutionContext and Express, which proxied traffic skips; the 429 carries the headers the
 * guard would send (Retry-After, X-RateLimit-*), in Nest's HttpException JSON shape.
 */
@Injectable()
export class RateLimiter {
  private readonly throttler: { name: string; ttl: number; limit: number; blockDuration: number };
  private readonly clients: ClientAddressResolver;
  private readonly globalScope: boolean;
  /** Each route's part of its counters' keys, made once per route. */
  private readonly routeKeys = new WeakMap<RouteSpec, string>();

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly metrics: MetricsService,
    clients: ClientAddressResolver,
    private readonly security: SecurityHeaders,
  ) {
    const [throttler] = Array.isArray(options) ? options : options.throttlers;
    const { name = 'default', ttl, limit, blockDuration = 0 } = throttler;
    if (typeof ttl !== 'number' || typeof limit !== 'number' || typeof blockDuration !== 'number') {
      throw new TypeError('RateLimiter needs numeric throttler options: there is no ExecutionContext to resolve them with');
    }
    this.throttler = { name, ttl, limit, blockDuration };
    this.clients = clients;
    this.globalScope = config.rateLimitScope === 'global';
  }

  /** Whether limiting is on at all (`--rate-limit=0` turns it off). */
  get enabled(): boolean {
    return this.throttler.limit > 0;
  }

  /**
   * Counts the request against its consumer (with --api-keys: the consumer's own limit, or
   * --rate-limit) or else its client. Nothing means it may go through; otherwise the limiter has
   * answered 429 itself and returns that refusal. A storage that answers at once (the embedded one)
   * is asked synchronously: no promise per request; any other is awaited.
   */
  admit(req: IncomingMessage, res: ServerResponse, consumer?: Consumer, route?: RouteSpec): RateLimitedError | undefined | Promise<RateLimitedError | undefined> {
    if (route?.rateLimitPerSecond !== undefined) return this.admitOnRoute(req, res, route, route.rateLimitPerSecond, consumer);
    const limit = consumer?.rateLimit ?? this.throttler.limit;
    if (limit <= 0) return undefined;
    const scope: RateLimitScopeName = consumer ? 'consumer' : this.globalScope ? 'global' : 'client';
    const key = consumer ? consumer.rateLimitKey : this.globalScope ? 'global' : this.clients.rateLimitKeyOf(req);
    return this.hit(req, res, key, limit, scope);
  }

  /**
   * A route with a `rateLimit` of its own: each client (or consumer) gets that many requests per
   * second on this route, counted apart from the rest of its traffic (Kong's per-route limits).
   */
  private admitOnRoute(req: IncomingMessage, res: ServerResponse, route: RouteSpec, limit: number, consumer: Consumer | undefined): RateLimitedError | undefined | Promise<RateLimitedError | undefined> {
    if (limit <= 0) return undefined;
    let routeKey = this.routeKeys.get(route);
    if (routeKey === undefined) {
      // Stable across reloads: what the route matches, not its place in the file.
      routeKey = `route:${route.host ?? '*'}${route.pathPrefix}:`;
      this.routeKeys.set(route, routeKey);
    }
    return this.hit(req, res, routeKey + (consumer ? consumer.rateLimitKey : this.clients.rateLimitKeyOf(req)), limit, 'route');
  }

  private hit(req: IncomingMessage, res: ServerResponse, key: string, limit: number, scope: RateLimitScopeName): RateLimitedError | undefined | Promise<RateLimitedError | undefined> {
    const { name, ttl, blockDuration } = this.throttler;
    if (isImmediate(this.storage)) {
      const refused = this.storage.hitNow(key, ttl, limit, blockDuration, name);
      return refused === undefined ? undefined : this.refuse(req, res, refused, limit, scope);
    }
    return this.storage.increment(key, ttl, limit, blockDuration, name).then((record) => (record.isBlocked ? this.refuse(req, res, record, limit, scope) : undefined));
  }

  private refuse(req: IncomingMessage, res: ServerResponse, record: ThrottlerStorageRecord, limit: number, scope: RateLimitScopeName): RateLimitedError {
    this.metrics.rateLimited++;
    const retryAfter = Math.max(1, record.timeToBlockExpire);
    const refusal = new RateLimitedError(limit, retryAfter);
    sendHttpException(res, refusal, {
      ...this.security.own,
      ...requestIdHeader(req),
      'retry-after': retryAfter,
      'x-ratelimit-limit': limit,
      'x-ratelimit-remaining': 0,
      'x-ratelimit-reset': retryAfter,
      // Which limit this was: the consumer's (its key's), the client address's, or everyone's.
      'x-ratelimit-scope': scope,
    });
    return refusal;
  }
}
