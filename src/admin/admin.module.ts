import { Module } from '@nestjs/common';
import { AdminListener } from './admin-listener.js';

@Module({
  providers: [AdminListener],
  exports: [AdminListener],
})
export class AdminModule {}
