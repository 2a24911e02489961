import { spawn } from 'node:child_process';

/** What `promtool check metrics` said about an exposition: its exit code and everything it printed. */
export interface PromtoolVerdict {
  readonly exitCode: number | null;
  readonly output: string;
}

/** The one line a machine without promtool gets: a skipped lint test would pass CI while checking nothing. */
export const PROMTOOL_MISSING = 'promtool not found: the metrics lint test needs it. Install it with: sudo apt-get install prometheus';

/**
 * Pipes a scrape into `promtool check metrics`, Prometheus's own linter (exit 0 and no output when
 * clean; 3 with one line per problem when it finds lint problems; 1 when the text does not parse).
 */
export function promtoolCheckMetrics(exposition: string): Promise<PromtoolVerdict> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? new Error(PROMTOOL_MISSING) : error));
    child.on('close', (exitCode) => resolve({ exitCode, output: Buffer.concat(chunks).toString() }));
    // promtool may exit before reading everything (it should not); the 'close' verdict says why.
    child.stdin.on('error', () => {});
    child.stdin.end(exposition);
  });
}
