import fs, { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
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
    vi.restoreAllMocks();
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

  it('keeps a batch a full pipe refused (EAGAIN) whole while the lines after it fill new buffers', async () => {
    const realWrite = fs.write.bind(fs) as (...args: unknown[]) => void;
    let calls = 0;
    vi.spyOn(fs, 'write').mockImplementation(((...args: unknown[]) => {
      const callback = args.at(-1) as (error: NodeJS.ErrnoException | null, written: number) => void;
      calls++;
      // The first write meets a full non-blocking pipe; the retry is slow to reach the thread pool,
      // so the lines written meanwhile land in whatever buffers the writer has to hand.
      if (calls === 1) setImmediate(() => callback(Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' }), 0));
      else if (calls === 2) setTimeout(() => realWrite(...args), 30);
      else realWrite(...args);
    }) as typeof fs.write);
    const writer = new BatchedLineWriter(fd);
    const line = (n: number) => `{"n":${n},"pad":"${'x'.repeat(60)}"}\n`;
    const first = Array.from({ length: 500 }, (_, n) => line(n));
    for (const text of first) writer.write(text);
    await new Promise((resolve) => setImmediate(resolve));
    const after = Array.from({ length: 1_500 }, (_, n) => line(500 + n));
    for (const text of after) writer.write(text);
    await new Promise((resolve) => setTimeout(resolve, 100));
    writer.flushSync();
    expect(written()).toBe([...first, ...after].join(''));
  });

  it('drains at a stop into a pipe whose reader is slow to start, losing no line', async () => {
    // A reader that takes nothing for 1.5 s, then everything: the pipe (64 KiB) refuses the rest meanwhile.
    const reader = spawn(process.execPath, ['-e', `setTimeout(() => { let n = 0; process.stdin.on('data', (d) => (n += d.length)); process.stdin.on('end', () => console.log(n)); }, 1500)`], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const pipeFd = (reader.stdin as unknown as { _handle: { fd: number } })._handle.fd;
    let counted = '';
    reader.stdout.on('data', (data: Buffer) => (counted += data.toString()));
    const ended = new Promise((resolve) => reader.once('close', resolve));
    const writer = new BatchedLineWriter(pipeFd);
    const lines = Array.from({ length: 20_000 }, (_, n) => `{"n":${n},"pad":"${'x'.repeat(60)}"}\n`);
    for (const line of lines) writer.write(line);
    await writer.drain(10_000);
    reader.stdin.end();
    await ended;
    expect(Number(counted)).toBe(Buffer.byteLength(lines.join('')));
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
