import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AuditLog } from './audit-log.js';
import { RootLogger } from './root-logger.js';

/** Provides the RootLogger (and the audit log on it) alone, so nestjs-pino can be configured with it. */
@Module({ providers: [RootLogger, AuditLog], exports: [RootLogger, AuditLog] })
class RootLoggerModule {}

/**
 * Logging: nestjs-pino for Nest's own logs, on the same pino logger as the access log. Requests to
 * the gateway's own endpoints are not logged (probes would flood the log); proxied ones are, by
 * the access log.
 */
@Module({
  imports: [
    RootLoggerModule,
    LoggerModule.forRootAsync({
      imports: [RootLoggerModule],
      inject: [RootLogger],
      useFactory: (root: RootLogger) => ({ pinoHttp: { logger: root.pino, autoLogging: false, quietReqLogger: true } }),
    }),
  ],
  exports: [RootLoggerModule],
})
export class LoggingModule {}
