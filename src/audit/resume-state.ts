import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { usageError } from '../errors.js';

/** What `run.start` records about the input; a resume reads the same input the same way. */
export interface SourceRecord {
  /** `filter`: the IDs a filter selected, in the manifest CSV at `path`. */
  kind: 'csv' | 'text' | 'filter';
  path: string;
  sha256: string;
  count: number;
  stdin?: boolean;
  column?: string;
  idPattern?: string;
}

export interface ResumeState {
  /** The runId of the latest run recorded in the log: the new run's `resumeOf`. */
  resumeOf: string;
  source: SourceRecord;
  baseUrl: string;
  /** Orders whose latest outcome is `deleted` or `already_absent`: never sent again. */
  finished: Set<string>;
  /** Lines that are not JSON (a write torn by a kill); skipped. */
  unreadableLines: number[];
}

const FINISHED = new Set(['deleted', 'already_absent']);

/** Reads an audit log for `run --resume`: the latest `run.start`, and every order's latest outcome. */
export async function readResumeState(path: string): Promise<ResumeState> {
  try {
    await access(path);
  } catch {
    throw usageError(`--resume: audit log ${path} does not exist`);
  }
  const finished = new Set<string>();
  const unreadableLines: number[] = [];
  let start: { runId?: unknown; source?: SourceRecord; baseUrl?: unknown } | undefined;
  let lineNumber = 0;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    lineNumber++;
    if (line === '') continue;
    let entry: { event?: unknown; orderId?: unknown; outcome?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      unreadableLines.push(lineNumber);
      continue;
    }
    if (entry.event === 'order' && typeof entry.orderId === 'string') {
      if (FINISHED.has(entry.outcome as string)) finished.add(entry.orderId);
      else finished.delete(entry.orderId);
    } else if (entry.event === 'run.start') {
      start = entry as typeof start;
    }
  }
  if (!start || typeof start.runId !== 'string' || !start.source || typeof start.baseUrl !== 'string') {
    throw usageError(`--resume: ${path} holds no run.start line of this tool; it is not a run's audit log`);
  }
  return { resumeOf: start.runId, source: start.source, baseUrl: start.baseUrl, finished, unreadableLines };
}
