import type { IncomingMessage } from 'node:http';
import { Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req, UseGuards } from '@nestjs/common';
import { AdminTokenGuard } from './admin-token.guard.js';
import { readJsonBody } from './json-body.js';
import { type AdminActor, ServiceAdmin } from './service-admin.js';

/** Who made a change: the admin listener's peer (admin clients connect directly, not through proxies). */
function actorOf(req: IncomingMessage): AdminActor {
  return { client: req.socket.remoteAddress ?? '' };
}

/** The admin API on --admin-listen, behind --admin-token: services and their backends, changed live. */
@Controller('admin/services')
@UseGuards(AdminTokenGuard)
export class AdminController {
  constructor(private readonly admin: ServiceAdmin) {}

  @Get()
  list() {
    return { services: this.admin.services() };
  }

  @Post(':service/backends')
  async add(@Param('service') service: string, @Req() req: IncomingMessage) {
    return this.admin.addBackend(service, await readJsonBody(req), actorOf(req));
  }

  /** 202: the backend leaves the rotation now and is closed once its requests in flight are done. */
  @Delete(':service/backends')
  @HttpCode(202)
  remove(@Param('service') service: string, @Query('url') url: unknown, @Req() req: IncomingMessage) {
    this.admin.removeBackend(service, url, actorOf(req));
    return { url, state: 'removing' };
  }

  @Put(':service/backends/state')
  async setState(@Param('service') service: string, @Query('url') url: unknown, @Req() req: IncomingMessage) {
    return this.admin.setState(service, url, await readJsonBody(req), actorOf(req));
  }
}
