import { Module } from '@nestjs/common';
import { GracefulShutdownService } from './graceful-shutdown.service.js';

@Module({
  providers: [GracefulShutdownService],
  exports: [GracefulShutdownService],
})
export class LifecycleModule {}
