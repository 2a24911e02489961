import { Controller, Get, Header, ParseEnumPipe, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { STATUS_PAGE_CONTENT_SECURITY_POLICY } from './status.page.js';
import { StatusService } from './status.service.js';
import type { StatusView } from './status-view.js';
import { OWN_PATHS } from '../own-paths.js';

const StatusFormat = { html: 'html', json: 'json' } as const;
type StatusFormat = (typeof StatusFormat)[keyof typeof StatusFormat];

@Controller()
export class StatusController {
  constructor(private readonly status: StatusService) {}

  /** The page by default; `?format=json` is what the page polls, and what scripts can read. */
  @Get(OWN_PATHS.status)
  // Live numbers: a cached copy would show a backend up after it went down.
  @Header('cache-control', 'no-store')
  async read(
    @Query('format', new ParseEnumPipe(StatusFormat, { optional: true })) format: StatusFormat | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StatusView | string> {
    if (format === 'json') return this.status.wholeView();
    res.type('html').setHeader('content-security-policy', STATUS_PAGE_CONTENT_SECURITY_POLICY);
    return this.status.page();
  }
}
