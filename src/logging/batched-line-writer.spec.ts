import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchedLineWriter } from './batched-line-writer.js';

describe(BatchedLineWriter.name, () => {
  let folder: string;
  let file: string;
  let fd: number;

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'line-writer-'));
    file = join(folder, 'out.log');
    fd = openSync(file, 'w');
  });

  afterEach(() => {
    closeSync(fd);
    rmSync(folder, { recursive: true });
  });

  const written = () => readFileSync(file, 'utf8');

  it('holds lines until a batch fills up, then writes them in order without blocking', async () => {
    const writer = new BatchedLineWriter(fd);
    writer.write('{"n":1}\n');
    expect(written()).toBe('');
    const lines = Array.from({ length: 2_000 }, (_, n) => `{"n":${n + 2},"pad":"${'x'.repeat(40)}"}\n`);
    for (const line of lines) writer.write(line);
    await new Promise((resolve) => setTimeout(resolve, 50));
    writer.flushSync();
    expect(written()).toBe(['{"n":1}\n', ...lines].join(''));
  });

  it('writes what is waiting on flush, and everything on flushSync', async () => {
    const writer = new BatchedLineWriter(fd);
    writer.write('first\n');
    writer.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(written()).toBe('first\n');
    writer.write('ünïcode ✓ second\n');
    writer.flushSync();
    expect(written()).toBe('first\nünïcode ✓ second\n');
  });

  it('takes a line longer than its buffers whole', async () => {
    const writer = new BatchedLineWriter(fd);
    const long = `${'y'.repeat(100_000)}\n`;
    writer.write('before\n');
    writer.write(long);
    writer.write('after\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    writer.flushSync();
    expect(written()).toBe(`before\n${long}after\n`);
  });
});
