import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * IDs piped on stdin are copied to a file beside the audit log before anything else happens: pass one
 * validates the whole input before the first DELETE, and a resume needs the same input again.
 */
export async function spoolStdin(dest: string, input: NodeJS.ReadableStream = process.stdin): Promise<string> {
  await mkdir(dirname(dest), { recursive: true });
  await pipeline(input, createWriteStream(dest, { flags: 'wx', mode: 0o600 }));
  return dest;
}
