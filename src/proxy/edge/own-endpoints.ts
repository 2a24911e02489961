import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { OWN_PATH_METHODS } from '../../own-paths.js';
import { MethodNotAllowedError } from '../proxy-errors.js';
import { sendHttpException } from './error-response.js';
import { SecurityHeaders } from './security-headers.js';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Hands requests for the gateway's own endpoints to Express and Nest's controllers, on whichever
 * listener serves them. Those endpoints only read, so any method but GET and HEAD gets 405 with
 * `Allow` here, in the gateway's JSON shape, rather than Nest's 404 for an unknown route.
 */
@Injectable()
export class OwnEndpoints {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly security: SecurityHeaders,
  ) {}

  readonly serve = (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? 'GET';
    if (!OWN_PATH_METHODS.includes(method)) {
      sendHttpException(res, new MethodNotAllowedError(method, OWN_PATH_METHODS), { ...this.security.own, allow: OWN_PATH_METHODS.join(', ') });
      return;
    }
    for (const [name, value] of Object.entries(this.security.own)) res.setHeader(name, value);
    this.adapterHost.httpAdapter.getInstance<RequestListener>()(req, res);
  };
}
