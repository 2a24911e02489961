import { Injectable } from '@nestjs/common';
import { RootLogger } from './root-logger.js';

/** What an audit line is about. */
export type AuditEvent =
  | 'authentication-failed'
  | 'authentication-throttled'
  | 'access-denied'
  | 'api-keys-reloaded'
  | 'api-keys-rejected'
  | 'certificate-reloaded'
  | 'certificate-rejected'
  | 'backend-added'
  | 'backend-removed'
  | 'backend-drained'
  | 'backend-activated';

export interface AuditFields {
  /** The consumer, when a key named one. */
  readonly consumer?: string;
  /** The client's address. */
  readonly client?: string;
  /** Why, in a few words; never a key. */
  readonly reason: string;
  readonly reqId?: string;
  readonly method?: string;
  readonly url?: string;
  readonly file?: string;
  /** For a change made through the admin API: the service and the backend it changed. */
  readonly service?: string;
  readonly backend?: string;
}

/**
 * Security-relevant events as log lines marked `"audit":true`, so they can be routed and kept apart
 * from the access log: failed and throttled authentication, denied access, configuration and
 * certificate reloads. Keys are never passed here, so they can never appear in a log.
 */
@Injectable()
export class AuditLog {
  constructor(private readonly root: RootLogger) {}

  record(event: AuditEvent, fields: AuditFields): void {
    const level = event.endsWith('reloaded') || event.startsWith('backend-') ? 'info' : 'warn';
    this.root.pino[level]({ audit: true, event, ...fields }, `${event}: ${fields.reason}`);
  }
}
