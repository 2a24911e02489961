import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { z } from 'zod';
import { UpstreamPool } from '../../balancer/upstream-pool.js';
import { backendIdentity, ConfigFileError, identityOfEntry, urlOfBackendEntry } from '../../config/config-file.js';
import type { RoutingConfig } from '../../config/routing-config.js';
import { AuditLog } from '../../logging/audit-log.js';
import { RunningConfig } from '../running-config.js';

/** Whether a backend takes new requests (`active`) or not (`drained`: it stays configured, its requests in flight finish). */
export type AdminBackendState = 'active' | 'drained';

/** One backend as the admin API lists it. */
export interface AdminBackendView {
  readonly url: string;
  readonly weight: number;
  readonly state: AdminBackendState;
  /** Whether it can take traffic now: active, breaker not open, health checks passing, room under its cap. */
  readonly available: boolean;
  readonly breaker: string;
  readonly health: 'healthy' | 'unhealthy';
  readonly inFlight: number;
}

export interface AdminServiceView {
  readonly name: string;
  readonly balance: string;
  readonly backends: readonly AdminBackendView[];
}

/** Who asked, for the audit line. */
export interface AdminActor {
  readonly client: string;
}

const newBackend = z
  .object({
    url: z.string({ error: 'url: expected a backend URL such as http://10.0.0.5:8080' }),
    weight: z.number({ error: 'weight: expected a whole number ≥ 1' }).int('weight: expected a whole number ≥ 1').min(1, 'weight: expected a whole number ≥ 1').default(1),
  })
  .strict();

const stateChange = z.object({ state: z.enum(['active', 'drained'], { error: 'state: expected "active" or "drained"' }) }).strict();

type DocumentBackend = string | { url: string; weight?: number; drained?: boolean };
interface EditableDocument {
  services: Record<string, { backends: DocumentBackend[] }>;
}

/**
 * The admin API's operations on services: each one edits the running configuration's document (the
 * file's, or the flags') and puts the result in force through RunningConfig, exactly as a reload of
 * an edited file would be: validated the same way, applied in one step, kept backends untouched,
 * a removed one drained. Every change is an audit line. A file reload or a restart replaces the
 * document, and with it what was changed here (unless a shared store keeps the running config).
 */
@Injectable()
export class ServiceAdmin {
  constructor(
    private readonly running: RunningConfig,
    private readonly pool: UpstreamPool,
    private readonly audit: AuditLog,
  ) {}

  services(): readonly AdminServiceView[] {
    return [...this.running.routing.services.values()].map((service) => ({
      name: service.name,
      balance: service.settings.balance,
      backends: service.backends.map(({ url, weight, drained }): AdminBackendView => {
        const upstream = this.pool.upstream(url);
        return {
          url,
          weight,
          state: drained ? 'drained' : 'active',
          available: !drained && (upstream?.isAvailable() ?? false),
          breaker: upstream?.breaker.state ?? 'closed',
          health: upstream?.healthy === false ? 'unhealthy' : 'healthy',
          inFlight: upstream?.inFlight ?? 0,
        };
      }),
    }));
  }

  /** POST /admin/services/{service}/backends */
  addBackend(service: string, body: unknown, actor: AdminActor): AdminBackendView {
    const { url, weight } = parseBody(newBackend, body);
    const document = this.editableDocument(service);
    const identity = backendIdentity(url);
    if (identity === undefined) throw new BadRequestException(`url: ${JSON.stringify(url)} is not an http:// or https:// backend URL without credentials, query or fragment`);
    const owner = this.ownerOf(identity);
    if (owner !== undefined) throw new ConflictException(`${url} is already a backend of service ${owner}`);
    document.services[service].backends.push({ url, weight });
    this.put(document, 'backend-added', service, url, actor);
    return this.viewOf(service, identity)!;
  }

  /** DELETE /admin/services/{service}/backends?url= : out of rotation now, closed once its requests are done. */
  removeBackend(service: string, url: unknown, actor: AdminActor): void {
    const document = this.editableDocument(service);
    const index = this.indexOf(document, service, url);
    const [removed] = document.services[service].backends.splice(index, 1);
    // The running document passed the schema: every entry has its URL.
    this.put(document, 'backend-removed', service, urlOfBackendEntry(removed)!, actor);
  }

  /** PUT /admin/services/{service}/backends/state?url= */
  setState(service: string, url: unknown, body: unknown, actor: AdminActor): AdminBackendView {
    const { state } = parseBody(stateChange, body);
    const document = this.editableDocument(service);
    const index = this.indexOf(document, service, url);
    const backends = document.services[service].backends;
    const entry = backends[index];
    const { drained: _drained, ...rest } = typeof entry === 'string' ? { url: entry } : entry;
    backends[index] = state === 'drained' ? { ...rest, drained: true } : rest;
    this.put(document, state === 'drained' ? 'backend-drained' : 'backend-activated', service, rest.url, actor);
    return this.viewOf(service, backendIdentity(rest.url)!)!;
  }

  /** A copy of the running document to edit; 404 for a service it does not have. */
  private editableDocument(service: string): EditableDocument {
    if (!this.running.routing.services.has(service)) throw new NotFoundException(`No service ${JSON.stringify(service)}`);
    return structuredClone(this.running.routing.document) as EditableDocument;
  }

  private indexOf(document: EditableDocument, service: string, url: unknown): number {
    if (typeof url !== 'string' || url === '') throw new BadRequestException('url: expected the backend URL as the url query parameter');
    const identity = backendIdentity(url);
    const index = identity === undefined ? -1 : document.services[service].backends.findIndex((entry) => identityOfEntry(entry) === identity);
    if (index === -1) throw new NotFoundException(`No backend ${url} in service ${service}`);
    return index;
  }

  private ownerOf(identity: string): string | undefined {
    for (const service of this.running.routing.services.values()) {
      if (service.backends.some(({ url }) => backendIdentity(url) === identity)) return service.name;
    }
    return undefined;
  }

  private viewOf(service: string, identity: string): AdminBackendView | undefined {
    return this.services()
      .find(({ name }) => name === service)
      ?.backends.find(({ url }) => backendIdentity(url) === identity);
  }

  private put(document: EditableDocument, event: 'backend-added' | 'backend-removed' | 'backend-drained' | 'backend-activated', service: string, url: string, actor: AdminActor): RoutingConfig {
    let applied: RoutingConfig;
    try {
      applied = this.running.applyDocument(document, 'admin', 'admin API');
    } catch (error) {
      if (error instanceof ConfigFileError) throw new BadRequestException(error.problems.join('; '));
      throw error;
    }
    this.audit.record(event, { client: actor.client, service, backend: url, reason: `${event.replace('-', ' ')} through the admin API; configuration ${applied.hash}` });
    return applied;
  }
}

/** The body, validated; 400 naming the field otherwise. */
function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) =>
    issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` : issue.message,
  );
  throw new BadRequestException(problems.join('; '));
}
