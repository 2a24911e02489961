import type { LoggerService } from '@nestjs/common';

/** Nest's own start-up chatter: each module loaded and each route mapped, about 25 lines. */
const BOOTSTRAP_CONTEXTS: ReadonlySet<string> = new Set(['NestFactory', 'NestApplication', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/**
 * Nest's logger (nestjs-pino's), with Nest's bootstrap lines moved from `info` to `debug`: an
 * operator starting the gateway needs where it listens and what it proxies to, not which modules
 * loaded. `--log-level=debug` shows them again. Warnings and errors from those contexts are kept.
 */
export class QuietBootstrapLogger implements LoggerService {
  constructor(private readonly logger: Required<Pick<LoggerService, 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal'>>) {}

  log(message: unknown, ...optionalParams: unknown[]): void {
    // Nest passes the context last.
    const context = optionalParams.at(-1);
    if (typeof context === 'string' && BOOTSTRAP_CONTEXTS.has(context)) this.logger.debug(message, ...optionalParams);
    else this.logger.log(message, ...optionalParams);
  }

  error(message: unknown, ...optionalParams: unknown[]): void {
    this.logger.error(message, ...optionalParams);
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.logger.warn(message, ...optionalParams);
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.logger.debug(message, ...optionalParams);
  }

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.logger.verbose(message, ...optionalParams);
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.logger.fatal(message, ...optionalParams);
  }
}
