import type { ApiKeyConsumer, RouteRule } from '../../config/api-keys-file.js';
import { isUnder } from '../../routing/path-prefix.js';


/** One consumer of the --api-keys file, ready for requests: its name, its own rate limit, what its roles allow. */
export class Consumer {
  readonly name: string;
  /** Requests per second, when the file gives one; else --rate-limit applies. */
  readonly rateLimit: number | undefined;
  /** Whose count the rate limiter keeps for it (made once, not per request). */
  readonly rateLimitKey: string;
  /** Undefined: no roles listed, every route allowed. */
  private readonly rules: readonly RouteRule[] | undefined;

  constructor(entry: ApiKeyConsumer, roles: Readonly<Record<string, readonly RouteRule[]>>) {
    this.name = entry.name;
    this.rateLimit = entry.rateLimit;
    this.rateLimitKey = `consumer:${entry.name}`;
    this.rules = entry.roles?.flatMap((role) => roles[role] ?? []);
  }

  /** Role-based access: some rule of its roles names the method and a prefix of the path. */
  allows(method: string, path: string): boolean {
    const rules = this.rules;
    if (rules === undefined) return true;
    // Plain loops: this runs on every request with a key.
    for (const rule of rules) {
      if (!rule.methods.includes(method)) continue;
      for (const prefix of rule.paths) if (isUnder(path, prefix)) return true;
    }
    return false;
  }
}
