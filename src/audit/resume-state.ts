import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { usageError } from '../common/errors.js';
import { lineBatches } from '../common/lines.js';

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
  /** --shard, as `index/count`. */
  shard?: string;
}

export interface ResumeState {
  /** The runId of the latest run recorded in the log: the new run's `resumeOf`. */
  resumeOf: string;
  source: SourceRecord;
  baseUrl: string;
  /**
   * Orders whose latest outcome is `deleted` or `already_absent`: never sent again. The value says
   * whether the new run's input has listed the order yet (pass one sets it, to count each skip once).
   */
  finished: Map<string, boolean>;
  /** Lines that are not JSON (a write torn by a kill); skipped. */
  unreadableLines: number[];
}

const FINISHED = new Set(['deleted', 'already_absent']);

const ORDER_EVENT = '"event":"order","orderId":"';
const OUTCOME = '","outcome":"';

/**
 * The fast path for the lines that make up almost all of a log: an `order` line as this tool writes it
 * (`…"event":"order","orderId":"…","outcome":"…",…}`), read without JSON.parse. Anything else — other
 * events, escaped IDs, a torn line — returns undefined and goes through JSON.parse.
 */
function orderLine(line: string): { orderId: string; outcome: string } | undefined {
  const at = line.indexOf(ORDER_EVENT);
  if (at < 0 || !line.endsWith('}')) return undefined;
  const idStart = at + ORDER_EVENT.length;
  const idEnd = line.indexOf(OUTCOME, idStart);
  if (idEnd < 0) return undefined;
  const orderId = line.slice(idStart, idEnd);
  if (orderId.includes('\\') || orderId.includes('"')) return undefined;
  const outcomeStart = idEnd + OUTCOME.length;
  const outcome = line.slice(outcomeStart, line.indexOf('"', outcomeStart));
  return { orderId, outcome };
}

/**
 * A copy of `id` that does not keep its whole line alive: V8 makes substrings of 13 characters and more
 * views into their parent, and a million kept IDs would otherwise keep the whole log in memory.
 */
function detach(id: string): string {
  return ` ${id}`.slice(1);
}

/**
 * Reads an audit log for `run --resume`: the latest `run.start`, and every order's latest outcome.
 * Undefined when no run was recorded yet — the file is missing, or holds nothing but a torn line —
 * which is where a run killed before its `run.start` leaves it: no DELETE is sent before that line.
 */
export async function readResumeState(path: string): Promise<ResumeState | undefined> {
  try {
    await access(path);
  } catch {
    return undefined;
  }
  let readable = 0;
  const finished = new Map<string, boolean>();
  const unreadableLines: number[] = [];
  let start: { runId?: unknown; source?: SourceRecord; baseUrl?: unknown } | undefined;
  let lineNumber = 0;
  for await (const batch of lineBatches(createReadStream(path))) {
    for (const line of batch) {
      lineNumber++;
      if (line === '') continue;
      const order = orderLine(line);
      if (order) {
        readable++;
        if (FINISHED.has(order.outcome)) finished.set(detach(order.orderId), false);
        else finished.delete(order.orderId);
        continue;
      }
      let entry: { event?: unknown; orderId?: unknown; outcome?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        unreadableLines.push(lineNumber);
        continue;
      }
      readable++;
      if (entry.event === 'order' && typeof entry.orderId === 'string') {
        if (FINISHED.has(entry.outcome as string)) finished.set(entry.orderId, false);
        else finished.delete(entry.orderId);
      } else if (entry.event === 'run.start') {
        start = entry as typeof start;
      }
    }
  }
  if (readable === 0) return undefined;
  if (!start || typeof start.runId !== 'string' || !start.source || typeof start.baseUrl !== 'string') {
    throw usageError(`--resume: ${path} holds no run.start line of this tool; it is not a run's audit log`);
  }
  return { resumeOf: start.runId, source: start.source, baseUrl: start.baseUrl, finished, unreadableLines };
}
