import { describe, expect, it } from 'vitest';
import { METHOD_LABELS, methodLabel, STATUS_CLASS_LABELS, statusClassLabel } from './request-labels.js';

describe(methodLabel.name, () => {
  it.each(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('keeps %s as it is', (method) => {
    expect(methodLabel(method)).toBe(method);
  });

  it.each(['PURGE', 'PROPFIND', 'CONNECT', 'TRACE', 'get', ''])('files %j as other', (method) => {
    expect(methodLabel(method)).toBe('other');
  });

  it('has one label per index, the common methods then other', () => {
    expect(METHOD_LABELS).toEqual(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'other']);
  });
});

describe(statusClassLabel.name, () => {
  it.each([
    [100, '1xx'],
    [101, '1xx'],
    [199, '1xx'],
    [200, '2xx'],
    [204, '2xx'],
    [301, '3xx'],
    [304, '3xx'],
    [400, '4xx'],
    [429, '4xx'],
    [499, '4xx'],
    [500, '5xx'],
    [502, '5xx'],
    [599, '5xx'],
  ])('files %i under %s', (status, expected) => {
    expect(statusClassLabel(status)).toBe(expected);
  });

  it.each([0, 99, 600, 999])('files %i, outside 100–599, under other rather than a class it is not', (status) => {
    expect(statusClassLabel(status)).toBe('other');
  });

  it('has six labels', () => {
    expect(STATUS_CLASS_LABELS).toEqual(['1xx', '2xx', '3xx', '4xx', '5xx', 'other']);
  });
});
