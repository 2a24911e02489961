// The package ships no types; this is the part of its output the tests read.
declare module 'parse-prometheus-text-format' {
  interface ParsedSample {
    /** As written: a number, `+Inf`, `-Inf` or `NaN` (in any case). */
    readonly value?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly buckets?: Readonly<Record<string, string>>;
    readonly count?: string;
    readonly sum?: string;
  }

  interface ParsedFamily {
    readonly name: string;
    /** '' when the family has no `# HELP`. */
    readonly help: string;
    /** Upper-cased; 'UNTYPED' when the family has no `# TYPE`. */
    readonly type: string;
    readonly metrics: readonly ParsedSample[];
  }

  /** @throws InvalidLineError on a line that is not valid text exposition format. */
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
