import { describe, expect, it, vi } from 'vitest';
import { QuietBootstrapLogger } from './quiet-bootstrap.logger.js';

function recordingLogger() {
  return { log: vi.fn(), error: vi.fn(), warn: vi.fn(), debug: vi.fn(), verbose: vi.fn(), fatal: vi.fn() };
}

describe(QuietBootstrapLogger.name, () => {
  it('logs Nest’s bootstrap lines at debug', () => {
    const inner = recordingLogger();
    new QuietBootstrapLogger(inner).log('AppModule dependencies initialized', 'InstanceLoader');
    expect(inner.debug).toHaveBeenCalledWith('AppModule dependencies initialized', 'InstanceLoader');
    expect(inner.log).not.toHaveBeenCalled();
  });

  it('logs the gateway’s own lines at info', () => {
    const inner = recordingLogger();
    new QuietBootstrapLogger(inner).log('listening on http://127.0.0.1:3000', 'Gateway');
    expect(inner.log).toHaveBeenCalledWith('listening on http://127.0.0.1:3000', 'Gateway');
    expect(inner.debug).not.toHaveBeenCalled();
  });

  it('keeps warnings and errors from the bootstrap contexts', () => {
    const inner = recordingLogger();
    const logger = new QuietBootstrapLogger(inner);
    logger.warn('something odd', 'NestApplication');
    logger.error('something wrong', 'RoutesResolver');
    expect(inner.warn).toHaveBeenCalledWith('something odd', 'NestApplication');
    expect(inner.error).toHaveBeenCalledWith('something wrong', 'RoutesResolver');
  });
});
