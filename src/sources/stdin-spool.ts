import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { usageError } from '../common/errors.js';
import { describeFileError } from '../common/files.js';

/**
 * IDs piped on stdin are copied to a file beside the audit log before anything else happens: pass one
 * validates the whole input before the first DELETE, and a resume needs the same input again. When
 * `signal` fires first (a SIGTERM while a person is still typing, or the pipe is still open), the copy
 * is removed and undefined returned: nothing has been sent.
 */
export async function spoolStdin(dest: string, signal: AbortSignal, input: NodeJS.ReadableStream): Promise<string | undefined> {
  await mkdir(dirname(dest), { recursive: true });
  try {
    await pipeline(input, createWriteStream(dest, { flags: 'wx', mode: 0o600 }), { signal });
  } catch (error) {
    await rm(dest, { force: true });
    if (signal.aborted) return undefined;
    throw usageError(`the copy of stdin ${dest} could not be written: ${describeFileError(error)}; nothing was sent`);
  }
  return dest;
}
