import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WAITS_FOR_A_PERSON } from '../common/domain.js';
import { parseLine } from './records.js';

const TAIL_BYTES = 64 * 1024;

/**
 * --auto-resume: the newest log in `dir` (names start with the UTC start time, so they sort by age),
 * when it did not finish: its last line is not a `run.end`, or that `run.end` says interrupted or
 * halted. A run that ended on its own (completed, or failed: failed orders, a refused guard) or that a
 * bug stopped (crashed) waits for a person.
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
  let text: string;
  try {
    text = lastLine(path);
  } catch {
    return path; // not readable as a log (a folder named *.ndjson?): the resume says what it is
  }
  const last = parseLine(text);
  const finished = last.kind === 'record' && last.record.event === 'run.end' && WAITS_FOR_A_PERSON.has(last.record.status);
  return finished ? undefined : path;
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
