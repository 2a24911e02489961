/** Printable ASCII without `"` and `\`: written between quotes byte for byte, no escaping needed. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * Writes one JSON line straight into a buffer, field by field, instead of building it as a string
 * first: an access line as a template string was a tree of a few dozen string pieces, flattened
 * and copied, per request, and that garbage cost more than everything else about the line.
 * The caller makes room first (BatchedLineWriter.beginLine); `at` is where the next byte goes.
 */
export class JsonLineEncoder {
  buffer!: Buffer;
  at = 0;

  /** Bytes a string can take at most once written (JSON escapes take up to six bytes a character). */
  static maxBytes(this: void, text: string | null | undefined): number {
    return text == null ? 4 : 2 + 6 * text.length;
  }

  /** ASCII the caller knows needs no escaping: field names, punctuation. */
  raw(ascii: string): this {
    this.at += this.buffer.latin1Write(ascii, this.at);
    return this;
  }

  string(text: string | null | undefined): this {
    if (text === null || text === undefined) return this.raw('null');
    if (PLAIN.test(text)) {
      this.buffer[this.at++] = 0x22;
      this.at += this.buffer.latin1Write(text, this.at);
      this.buffer[this.at++] = 0x22;
    } else {
      this.at += this.buffer.utf8Write(JSON.stringify(text), this.at);
    }
    return this;
  }

  /** A whole number of at most 15 digits. */
  integer(value: number): this {
    let n = value;
    if (n < 0) {
      this.buffer[this.at++] = 0x2d;
      n = -n;
    }
    let digits = 1;
    for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    for (let i = this.at + digits - 1; i >= this.at; i--) {
      this.buffer[i] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
    this.at += digits;
    return this;
  }

  /** A non-negative number to one decimal, written as JavaScript writes it (`11.6`, `3`). */
  tenths(value: number | null): this {
    if (value === null) return this.raw('null');
    const tenths = Math.round(value * 10);
    this.integer(Math.floor(tenths / 10));
    const fraction = tenths % 10;
    if (fraction !== 0) {
      this.buffer[this.at++] = 0x2e;
      this.buffer[this.at++] = 0x30 + fraction;
    }
    return this;
  }
}
