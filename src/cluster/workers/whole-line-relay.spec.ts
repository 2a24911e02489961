import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WholeLineRelay } from './whole-line-relay.js';

describe(WholeLineRelay.name, () => {
  it('passes several sources on in whole lines, however their writes cut them', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'relay-')), 'out');
    const fd = openSync(path, 'w');
    const relay = new WholeLineRelay(fd);
    const [a, b] = [new PassThrough(), new PassThrough()];
    relay.relay(a);
    relay.relay(b);
    const long = 'x'.repeat(100_000);
    a.write(`{"a":1}\n{"a":"${long.slice(0, 50_000)}`);
    b.write('{"b":1}\n{"b":');
    a.write(`${long.slice(50_000)}"}\n`);
    b.write('2}\n');
    relay.writeLine('{"primary":true}\n');
    await new Promise((resolve) => setImmediate(resolve));
    await relay.flushed();
    closeSync(fd);
    const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line !== '');
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual(
      expect.arrayContaining([{ a: 1 }, { a: long }, { b: 1 }, { b: 2 }, { primary: true }]),
    );
    expect(lines).toHaveLength(5);
  });

  it('ends the half line a source leaves when it closes with a newline of its own', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'relay-')), 'out');
    const fd = openSync(path, 'w');
    const relay = new WholeLineRelay(fd);
    const [a, b] = [new PassThrough(), new PassThrough()];
    relay.relay(a);
    relay.relay(b);
    a.write('{"cut":');
    a.destroy();
    await new Promise((resolve) => a.once('close', resolve));
    b.write('{"b":1}\n');
    await new Promise((resolve) => setImmediate(resolve));
    await relay.flushed();
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).toBe('{"cut":\n{"b":1}\n');
  });
});
