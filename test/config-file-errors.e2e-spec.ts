import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway } from './support/gateway-process.js';

/** A file the gateway would take: each bad one below breaks it in one or two places. */
const GOOD_SERVICES = `services:
  users:
    backends:
      - http://127.0.0.1:8081
      - url: http://127.0.0.1:8082
        weight: 2
`;

interface BadFile {
  readonly name: string;
  readonly text: string;
  /** What each line of stderr says: the place in the file and the value found there, or the parser's complaint. */
  readonly problems: readonly (readonly string[])[];
}

const BAD_FILES: readonly BadFile[] = [
  { name: 'empty.yaml', text: '', problems: [['the file is empty']] },
  {
    name: 'syntax.yaml',
    text: 'services: [unclosed\nroutes:\n  - service: users\n',
    problems: [['not YAML or JSON', 'line 2']],
  },
  {
    name: 'unknown-key.yaml',
    text: `${GOOD_SERVICES}    timeout: 5s\nroutes:\n  - service: users\n`,
    problems: [['services.users.timeout: ', 'unknown key', 'got "5s"']],
  },
  {
    name: 'two-problems.yaml',
    text: `services:
  users:
    backends:
      - http://127.0.0.1:8081
      - url: http://127.0.0.1:8082
        weight: x
routes:
  - service: users
  - match: { pathPrefix: /payments }
    service: payments
`,
    problems: [
      ['services.users.backends[1].weight: ', 'got "x"'],
      ['routes[1].service: ', 'got "payments"'],
    ],
  },
];

describe('a --config file the gateway cannot use, at start', () => {
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-'));
  });

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(BAD_FILES.map((bad) => [bad.name, bad.problems.length, bad] as const))(
    'refuses %s with exit code 2 and %i line(s) on stderr, each naming the file, the place in it and the value',
    async (_name, _count, bad) => {
      const file = path.join(dir, bad.name);
      fs.writeFileSync(file, bad.text);
      const gateway = spawnGateway(['--listen=127.0.0.1:0', `--config=${file}`]);
      gateway.listening.catch(() => {}); // expected to exit without listening
      const code = await gateway.exited;
      const { stdout, stderr } = gateway.output();

      expect(code).toBe(2);
      const lines = stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(bad.problems.length);
      for (const line of lines) expect(line).toMatch(new RegExp(`^invalid --config ${escapeRegExp(JSON.stringify(file))}: `));
      // Each problem on a line of its own.
      for (const parts of bad.problems) expect(lines.filter((line) => parts.every((part) => line.includes(part))), parts.join(' … ')).toHaveLength(1);
      // It stops before Nest starts: nothing logged, nothing listened.
      expect(stdout).toBe('');
    },
  );
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
