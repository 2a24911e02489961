import { describe, expect, it } from 'vitest';
import { isHttp09RequestLine } from './http09-request-line.js';

describe('isHttp09RequestLine', () => {
  it.each(['GET /', 'GET /index.html\r', 'GET / HTTP/', 'GET / HTTP/1'])('takes %j for HTTP/0.9', (line) => {
    expect(isHttp09RequestLine(line)).toBe(true);
  });

  it.each(['GET / HTTP/1.1\r', 'GET / HTTP/1.0', 'POST /a?b=c HTTP/2.0\r'])('takes %j for a versioned line', (line) => {
    expect(isHttp09RequestLine(line)).toBe(false);
  });
});
