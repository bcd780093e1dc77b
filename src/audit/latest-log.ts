import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

const TAIL_BYTES = 64 * 1024;
const FINISHED = new Set(['completed', 'failed']);

/**
 * --auto-resume: the newest log in `dir` (names start with the UTC start time, so they sort by age),
 * when it did not finish: its last line is not a `run.end`, or that `run.end` says interrupted or
 * halted. A `failed` run ended on its own (failed orders, a refused guard) and waits for a person.
 */
export async function latestUnfinishedLog(dir: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.ndjson')).sort();
  } catch {
    return undefined; // no folder yet: nothing to resume
  }
  const latest = names.at(-1);
  if (!latest) return undefined;
  const path = join(dir, latest);
  const last = lastLine(path);
  let entry: { event?: string; status?: string } = {};
  try {
    entry = JSON.parse(last) as typeof entry;
  } catch {
    return path; // torn by a kill
  }
  return entry.event === 'run.end' && FINISHED.has(entry.status ?? '') ? undefined : path;
}

function lastLine(path: string): string {
  const size = statSync(path).size;
  const length = Math.min(size, TAIL_BYTES);
  const buffer = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buffer, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8').trimEnd().split('\n').at(-1) ?? '';
}
