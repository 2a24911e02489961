import { ConfigError, HelpRequested } from './config.error.js';
import { usage } from './flags.js';

/**
 * What the command line does with a configuration that cannot run: --help prints the usage and
 * exits 0, a bad value prints its one line on stderr and exits 2. Anything else is not ours: it returns.
 */
export function exitOnConfigError(error: unknown): void {
  if (error instanceof HelpRequested) {
    process.stdout.write(`${usage()}\n`);
    process.exit(error.exitCode);
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(error.exitCode);
  }
}
