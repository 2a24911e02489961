import type { IncomingMessage } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { UpstreamPool } from '../balancer/upstream-pool.js';
import type { ServicePool } from '../balancer/service-pool.js';
import { ROUTING_CONFIG, type RouteSpec, type RoutingConfig } from '../config/routing-config.js';
import { RouteTable } from './route-table.js';

/** Where a request goes: its route and that route's service (one object per route, made once). */
export interface RoutedRequest {
  readonly route: RouteSpec;
  readonly service: ServicePool;
}

/**
 * Matches requests to routes, and routes to services. The table is replaced whole by `use` (a new
 * configuration), so a request is matched against one version or the other, never a mix. Nothing
 * is allocated or stored on the request per match: the dispatcher, the proxy and the WebSocket
 * tunnel each ask (a one-route table answers in nanoseconds), and a request already sent keeps the
 * service it was sent to.
 */
@Injectable()
export class Router {
  private table: RouteTable;
  private readonly routed = new Map<RouteSpec, RoutedRequest>();

  constructor(
    @Inject(ROUTING_CONFIG) routing: RoutingConfig,
    private readonly pool: UpstreamPool,
  ) {
    this.table = new RouteTable(routing.routes);
  }

  /** From now on, requests follow these routes (their services must already be in the pool). */
  use(routing: RoutingConfig): void {
    this.table = new RouteTable(routing.routes);
    this.routed.clear();
  }

  /** The request's route and service; undefined: no route matches, 404. */
  route(req: IncomingMessage): RoutedRequest | undefined {
    const route = this.table.routeFor(req.headers.host, req.url ?? '/', req.method ?? 'GET', req.headers);
    if (route === undefined) return undefined;
    const known = this.routed.get(route);
    if (known !== undefined) return known;
    const service = this.pool.service(route.service);
    if (service === undefined) return undefined;
    const routed: RoutedRequest = { route, service };
    this.routed.set(route, routed);
    return routed;
  }

  /** The request target to send for a request on this route: the client's, or with the route's prefix stripped. */
  targetOf(routed: RoutedRequest, url: string): string {
    return this.table.targetOf(routed.route, url);
  }
}
