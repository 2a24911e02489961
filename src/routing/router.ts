import type { IncomingMessage } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { UpstreamPool } from '../balancer/upstream-pool.js';
import type { ServicePool } from '../balancer/service-pool.js';
import { ROUTING_CONFIG, type RouteSpec, type RoutingConfig } from '../config/routing-config.js';
import { RouteTable } from './route-table.js';

/** Where a request goes: its route, that route's service, and the target to send (the prefix stripped when asked). */
export interface RoutedRequest {
  readonly route: RouteSpec;
  readonly service: ServicePool;
  readonly path: string;
}

const ROUTED = Symbol('routed');
type RoutableMessage = IncomingMessage & { [ROUTED]?: RoutedRequest };

/**
 * Matches requests to routes, and routes to services. The table is replaced whole by `use` (a new
 * configuration), so a request is matched against one version or the other, never a mix; a request
 * already matched keeps its service.
 */
@Injectable()
export class Router {
  private table: RouteTable;

  constructor(
    @Inject(ROUTING_CONFIG) routing: RoutingConfig,
    private readonly pool: UpstreamPool,
  ) {
    this.table = new RouteTable(routing.routes);
  }

  /** From now on, requests follow these routes (their services must already be in the pool). */
  use(routing: RoutingConfig): void {
    this.table = new RouteTable(routing.routes);
  }

  /** Matches the request once (remembered on it); undefined: no route matches, 404. */
  route(req: IncomingMessage): RoutedRequest | undefined {
    const message = req as RoutableMessage;
    const known = message[ROUTED];
    if (known) return known;
    const match = this.table.match(req.headers.host, req.url ?? '/', req.method ?? 'GET', req.headers);
    if (!match) return undefined;
    const service = this.pool.service(match.route.service);
    if (!service) return undefined;
    const routed: RoutedRequest = { route: match.route, service, path: match.path };
    message[ROUTED] = routed;
    return routed;
  }
}
