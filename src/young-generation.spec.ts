import { describe, expect, it } from 'vitest';
import { semiSpaceChosen } from './young-generation.js';

describe(semiSpaceChosen.name, () => {
  it.each<[string[], string | undefined, boolean]>([
    [[], undefined, false],
    [['--enable-source-maps'], '--trace-warnings', false],
    [['--max-semi-space-size=32'], undefined, true],
    [[], '--max-semi-space-size=64', true],
  ])('reads node %j with NODE_OPTIONS %j as having chosen a size: %s', (execArgv, nodeOptions, chosen) => {
    expect(semiSpaceChosen(execArgv, nodeOptions)).toBe(chosen);
  });
});
