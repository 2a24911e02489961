import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** `sha256:<hex>` of a key, as the file stores it and `hash-key` prints it. */
export function keyHashOf(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** An RFC 9110 token: what a method name must be. */
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const routeRule = z
  .object({
    methods: z.array(z.string().regex(METHOD, 'expected a method such as GET').transform((method) => method.toUpperCase())).min(1),
    paths: z.array(z.string().startsWith('/', 'expected a path prefix starting with /')).min(1),
  })
  .strict();

const consumer = z
  .object({
    // It reaches backends as X-Consumer and appears in logs: a header-safe name.
    name: z.string({ error: 'expected a name' }).regex(/^[A-Za-z0-9._@:-]+$/, 'expected a name of letters, digits and . _ @ : -'),
    keyHash: z
      .string({ error: 'expected sha256: and 64 lower-case hex digits, as a string (node dist/main.js hash-key <key> prints it)' })
      .regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256: and 64 lower-case hex digits (node dist/main.js hash-key <key> prints it)'),
    roles: z.array(z.string().min(1)).optional(),
    rateLimit: z.number().int().min(0).optional(),
  })
  .strict();

const apiKeysFile = z
  .object({
    consumers: z.array(consumer),
    roles: z.record(z.string(), z.array(routeRule)).default({}),
  })
  .strict()
  .superRefine((file, context) => {
    const names = new Set<string>();
    const hashes = new Set<string>();
    file.consumers.forEach((entry, index) => {
      if (names.has(entry.name)) context.addIssue({ code: 'custom', path: ['consumers', index, 'name'], message: `${entry.name} is listed twice` });
      if (hashes.has(entry.keyHash)) context.addIssue({ code: 'custom', path: ['consumers', index, 'keyHash'], message: 'the same key is given to two consumers' });
      names.add(entry.name);
      hashes.add(entry.keyHash);
      entry.roles?.forEach((role, roleIndex) => {
        if (!Object.hasOwn(file.roles, role)) context.addIssue({ code: 'custom', path: ['consumers', index, 'roles', roleIndex], message: `no role ${role} in roles` });
      });
    });
  });

/** The --api-keys file, validated: consumers with their key's hash, roles as method + path-prefix rules. */
export type ApiKeysFile = z.infer<typeof apiKeysFile>;
export type ApiKeyConsumer = ApiKeysFile['consumers'][number];
export type RouteRule = z.infer<typeof routeRule>;

/** The file cannot be used; the message names the field (`consumers[0].keyHash: …`). */
export class ApiKeysFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiKeysFileError';
  }
}

/** Reads and validates the file: YAML or JSON (YAML reads both). @throws ApiKeysFileError */
export function readApiKeysFile(path: string): ApiKeysFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ApiKeysFileError((error as Error).message);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new ApiKeysFileError(`not YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  const result = apiKeysFile.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`)).join('');
    throw new ApiKeysFileError(`${where || 'the file'}: ${issue.message}`);
  }
  return result.data;
}
