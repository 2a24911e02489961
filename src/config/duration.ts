/**
 * Go-style durations (`time.ParseDuration` / `Duration.String`), in milliseconds.
 * The Go proxy's users write `5s`, `1m30s`, `500ms`; we accept exactly what Go accepts
 * (except negative values, which no timeout of ours can mean).
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC Greek mu, which Go accepts too
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const COMPONENT = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/** Parses a Go duration such as `1m30s` into milliseconds; throws a RangeError naming what is wrong. */
export function parseDuration(text: string): number {
  if (text.startsWith('-')) throw new RangeError('a duration cannot be negative');
  let rest = text.startsWith('+') ? text.slice(1) : text;
  if (rest === '0') return 0;
  if (rest === '') throw new RangeError('expected a duration such as 5s or 1m30s');
  let total = 0;
  while (rest !== '') {
    const match = COMPONENT.exec(rest);
    if (!match) {
      throw new RangeError(
        /^[\d.]+$/.test(rest)
          ? `missing unit in duration (use ns, us, ms, s, m or h)`
          : 'expected a duration such as 5s or 1m30s',
      );
    }
    total += Number(match[1]) * UNIT_MS[match[2]];
    rest = rest.slice(match[0].length);
  }
  return total;
}

/**
 * Formats milliseconds the way Go's `Duration.String` does: `0s`, `500ms`, `1.5s`, `2m5s`, `1h0m5s`.
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 0.001) return `${sign}${trimFraction(abs * 1e6)}ns`;
  if (abs < 1) return `${sign}${trimFraction(abs * 1000)}µs`;
  if (abs < 1_000) return `${sign}${trimFraction(abs)}ms`;
  const hours = Math.floor(abs / 3_600_000);
  const minutes = Math.floor((abs % 3_600_000) / 60_000);
  const seconds = trimFraction((abs % 60_000) / 1_000);
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

/** Up to nine decimals, trailing zeros dropped, as Go prints fractional units. */
function trimFraction(value: number): string {
  return String(Number(value.toFixed(9)));
}

/** A duration above zero: a deadline of none would wait forever. */
export function parsePositiveDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms <= 0) throw new RangeError('expected a duration above zero, such as 50ms');
  return ms;
}
