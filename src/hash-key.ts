// `node dist/main.js hash-key <key>`: prints the line to put in the --api-keys file as keyHash.
// Without <key>, the key is read from stdin (so it stays out of the shell's history):
//   printf %s "$KEY" | node dist/main.js hash-key
import { keyHashOf } from './config/api-keys-file.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is the terminal's (echo), not the key's.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export async function hashKeyCommand(args: readonly string[]): Promise<number> {
  if (args.length > 1) {
    process.stderr.write('usage: node dist/main.js hash-key [key]   (without key: read from stdin)\n');
    return 2;
  }
  const key = args[0] ?? (await readStdin());
  if (key === '') {
    process.stderr.write('hash-key: the key is empty\n');
    return 2;
  }
  process.stdout.write(`${keyHashOf(key)}\n`);
  return 0;
}
