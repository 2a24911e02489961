import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The path pino loads the terminal format from, in its worker thread (a transport is loaded by
 * path, not imported). Built, it is the compiled .js next to this file in dist/logging; run from
 * the sources (the tests), the .ts itself, which Node loads by stripping its types.
 */
export function prettyLineTarget(): string {
  const compiled = fileURLToPath(new URL('./pretty-line.transport.js', import.meta.url));
  return existsSync(compiled) ? compiled : compiled.replace(/\.js$/, '.ts');
}
