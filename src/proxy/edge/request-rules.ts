import { type IncomingMessage, METHODS } from 'node:http';
import type { HttpException } from '@nestjs/common';
import type { GatewayConfig } from '../../config/gateway-config.js';
import { NEVER_PROXIED_METHODS } from '../../config/request-rules.js';
import { BodyTooLargeError, ContentTypeNotAllowedError, MethodNotAllowedError } from '../proxy-errors.js';
import { hasNoBody } from '../transport/request-body.js';

/** Why a request is not forwarded, and how it is answered. */
export interface RuleRefusal {
  readonly exception: HttpException;
  readonly headers?: Record<string, string>;
  /** Its body is left unread, so the connection cannot carry another request. */
  readonly closes: boolean;
}

/**
 * What a request must be to be proxied (--allowed-methods, --allowed-content-types, a declared
 * --max-body-size), checked on its head alone, before anything of its body is read or forwarded.
 * A chunked body's size is only known as it streams: BodySizeLimit counts that one.
 */
export class RequestRules {
  /** undefined: any method but TRACE and CONNECT. */
  private readonly methods: ReadonlySet<string> | undefined;
  /** The 405 for a method not proxied, with the methods that are in `Allow`. */
  readonly methodRefusal: (method: string) => RuleRefusal;
  private readonly contentTypes: readonly string[];
  private readonly maxBodyBytes: number;

  constructor(config: Pick<GatewayConfig, 'allowedMethods' | 'allowedContentTypes' | 'maxBodyBytes'>) {
    const { allowedMethods } = config;
    const allowed = allowedMethods.any ? METHODS.filter((method) => !NEVER_PROXIED_METHODS.has(method)) : allowedMethods.listed;
    this.methods = allowedMethods.any ? undefined : new Set(allowed);
    const allow = { allow: allowed.join(', ') };
    this.methodRefusal = (method) => ({ exception: new MethodNotAllowedError(method, allowed), headers: allow, closes: false });
    this.contentTypes = config.allowedContentTypes;
    this.maxBodyBytes = config.maxBodyBytes;
  }

  refusalOf(req: IncomingMessage): RuleRefusal | undefined {
    const method = req.method ?? '';
    if (this.methods ? !this.methods.has(method) : NEVER_PROXIED_METHODS.has(method)) return this.methodRefusal(method);
    if (this.contentTypes.length > 0 && !hasNoBody(req) && !this.allowsContentType(req.headers['content-type'])) {
      return { exception: new ContentTypeNotAllowedError(this.contentTypes), closes: true };
    }
    const length = req.headers['content-length'];
    if (this.maxBodyBytes > 0 && length !== undefined && Number(length) > this.maxBodyBytes) {
      return { exception: new BodyTooLargeError(this.maxBodyBytes), closes: true };
    }
    return undefined;
  }

  private allowsContentType(header: string | undefined): boolean {
    if (header === undefined) return false;
    const semicolon = header.indexOf(';');
    const type = (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
    const slash = type.indexOf('/');
    return this.contentTypes.some(
      (allowed) => allowed === type || allowed === '*/*' || (allowed.endsWith('/*') && slash > 0 && allowed.slice(0, -1) === type.slice(0, slash + 1)),
    );
  }
}
