/**
 * A flag or variable that cannot be used. Its message is the one line the user sees;
 * the process exits with Go's flag-error status, 2, before anything listens.
 */
export class ConfigError extends Error {
  readonly exitCode = 2;

  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** `--help` (or `-h`) was given: print usage and exit 0, as Go's flag package does. */
export class HelpRequested extends Error {
  readonly exitCode = 0;

  constructor() {
    super('help requested');
    this.name = 'HelpRequested';
  }
}
