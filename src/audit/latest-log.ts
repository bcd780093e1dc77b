import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WAITS_FOR_A_PERSON, type RunStatus } from '../common/domain.js';
import { parseLine, type RunEndLine, type RunStartRecord } from './records.js';

const TAIL_BYTES = 64 * 1024;

/** A log in an audit folder, as its first and last lines tell it. */
export interface LogEntry {
  path: string;
  start?: RunStartRecord;
  /** The last line's run.end, if the last line is one. */
  end?: RunEndLine;
  /** No run.end last (killed), or it says interrupted or halted: a resume would continue it. */
  unfinished: boolean;
}

/**
 * The logs in `dir`, newest first: by the start time their run.start records (names start with it too,
 * but older names only to the second), then by name. None when the folder does not exist.
 */
export async function logsIn(dir: string): Promise<LogEntry[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.ndjson'));
  } catch {
    return [];
  }
  const started = (entry: LogEntry) => Date.parse(entry.start?.time ?? '') || 0;
  return names.map((name) => describeLog(join(dir, name)))
    .sort((a, b) => started(b) - started(a) || (a.path < b.path ? 1 : -1));
}

/**
 * --auto-resume and --resume without --audit-log: the newest log in `dir`, when it did not finish. A run
 * that ended on its own (completed, or failed: failed orders, a refused guard) or that a bug stopped
 * (crashed) waits for a person.
 */
export async function latestUnfinishedLog(dir: string): Promise<string | undefined> {
  const [newest] = await logsIn(dir);
  return newest?.unfinished ? newest.path : undefined;
}

function describeLog(path: string): LogEntry {
  let head = '';
  let tail = '';
  try {
    [head, tail] = edges(path);
  } catch {
    return { path, unfinished: true }; // not readable as a log (a folder named *.ndjson?): the resume says what it is
  }
  const first = parseLine(head);
  const last = parseLine(tail);
  const start = first.kind === 'record' && first.record.event === 'run.start' ? first.record : undefined;
  const end = last.kind === 'record' && last.record.event === 'run.end' ? last.record : undefined;
  return { path, start, end, unfinished: !end || !WAITS_FOR_A_PERSON.has(end.status as RunStatus) };
}

/**
 * The first and the last line of a file, reading at most 64 KiB at each end. Opened without blocking: a
 * FIFO named like a log in the folder would otherwise wait for a writer, deaf to Ctrl-C and SIGTERM.
 */
function edges(path: string): [string, string] {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new Error('not a file');
    const { size } = stats;
    const read = (position: number, length: number) => {
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, position);
      return buffer.toString('utf8');
    };
    const length = Math.min(size, TAIL_BYTES);
    return [read(0, length).split('\n')[0] ?? '', read(size - length, length).trimEnd().split('\n').at(-1) ?? ''];
  } finally {
    closeSync(fd);
  }
}
