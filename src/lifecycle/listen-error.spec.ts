import { describe, expect, it } from 'vitest';
import { ListenError } from './listen-error.js';

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

describe(ListenError.name, () => {
  it.each([
    ['EADDRINUSE', 'address already in use'],
    ['EACCES', 'permission denied'],
    ['EADDRNOTAVAIL', 'address not available'],
  ])('says %s in words', (code, words) => {
    const error = new ListenError('--listen', ':3000', errno(code, `listen ${code}: whatever 0.0.0.0:3000`));
    expect(error.message).toBe(`cannot listen on --listen :3000: ${words}`);
  });

  it('keeps Node’s message for any other failure', () => {
    const error = new ListenError('LISTEN', '127.0.0.1:3000', errno('EMFILE', 'listen EMFILE: too many open files'));
    expect(error.message).toBe('cannot listen on LISTEN 127.0.0.1:3000: listen EMFILE: too many open files');
  });

  it('keeps the cause and exits with 1', () => {
    const cause = errno('EADDRINUSE', 'listen EADDRINUSE');
    const error = new ListenError('--admin-listen', ':9000', cause);
    expect(error.cause).toBe(cause);
    expect(error.exitCode).toBe(1);
  });
});
