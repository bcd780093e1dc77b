import { readdir } from 'node:fs/promises';
import { logsAmong } from '../audit/latest-log.js';
import { readLastChain, type ChainGatherer, type OrderOutcome } from '../audit/log-reader.js';
import { parseLine, type AuditRecord } from '../audit/records.js';
import { lockHeldBy } from '../audit/run-lock.js';
import { CleanupError, usageError } from '../common/errors.js';
import { describeFileError } from '../common/files.js';
import { ChainTally, type ChainCounts } from './chain-tally.js';
import { nightsOf, type Night } from './history-nights.js';
import { runPagesAmong } from './history-pages.js';
import { RunLedger, type LedgerRun } from './run-ledger.js';

/** A run of the folder as the history shows it: the ledger's run, when it ended, and its own page, where one exists. */
export interface HistoryRun extends LedgerRun {
  /** Its run.end's time, or its last line's (killed). */
  endedAt: string;
  /** The page that tells this run (`run --html-report`, `report --html`) found in the folder, if any. */
  page?: string;
  /** No run.end yet and its log's lock is there: going as the history is read (not killed). */
  running: boolean;
  /** On its log's last run: the orders of that run's chain, each once by its latest outcome (report/chain-tally). */
  chain?: ChainCounts;
}

/** The runs of an audit folder over the nights: the one model behind `report <folder>` (text, --json, --html). */
export interface History {
  folder: string;
  /** When it was read (ms): the missed nights are counted up to it. */
  builtAt: number;
  /** --expect-every: a run is expected this often (ms); a period without one is a missed night. */
  expectEveryMs?: number;
  /** Every run of every log, oldest first. */
  runs: HistoryRun[];
  /** The runs by night (a period of --expect-every from the first run; without it, a UTC day), oldest first. */
  nights: Night[];
  /** Logs that could not be read as audit logs (named, with why): their runs are not in the history. */
  skipped: Array<{ path: string; problem: string }>;
  /** Lines of the logs that could not be read (torn by a kill, or edits). */
  unreadableLines: number;
}

/**
 * Reads every audit log of `folder` (oldest first), each streamed once and never held: a run is counted as
 * its lines go by (report/run-ledger), its order lines on the fast path (a failed one in full, for its
 * cause), so memory holds the runs, not the orders — a year of million-order nights reads in bounded memory.
 * A log that cannot be read is named and skipped: one bad file never hides the rest of the history.
 */
export async function readHistory(folder: string, options: { expectEveryMs?: number; now?: number; signal?: AbortSignal } = {}): Promise<History> {
  const { signal } = options;
  const builtAt = options.now ?? Date.now();
  const runs: HistoryRun[] = [];
  const skipped: History['skipped'] = [];
  let unreadableLines = 0;
  let names: string[]; // listed once: the logs and the pages are picked from one listing
  try {
    names = await readdir(folder); // a folder that cannot be read is said, never shown as one without logs
  } catch (error) {
    throw usageError(`${folder}: ${describeFileError(error)}`);
  }
  const logs = logsAmong(folder, names).reverse();
  for (const { path } of logs) {
    signal?.throwIfAborted();
    const gatherer = new LogHistory(path);
    try {
      // Every run chain of the log: the same gatherer for each (a log an older run's --audit-log was reused for
      // holds two). Only a regular file: a pipe or a device named like a log is named, never waited on.
      const read = await readLastChain(path, () => gatherer, { outcomesOnly: true, regularOnly: true, signal });
      gatherer.finish();
      if (gatherer.ledger.runs.length === 0) throw usageError('it holds no run.start line: not an audit log of this tool');
      unreadableLines += read.unreadableLines.length + gatherer.unreadable;
      gatherer.ledger.runs.forEach((run, i, all) => runs.push({
        // A run whose start is not a time (an edit) has no end either: lines without one are taken at the last time read.
        ...run, endedAt: (Number.isFinite(Date.parse(run.startedAt)) && isoTime(run.lastAt)) || run.startedAt,
        // No run.end: going if its process holds the log's lock, killed if not (a SIGKILL leaves the lock file behind).
        running: i === all.length - 1 && run.status === null && lockHeldBy(path, run.runId),
        ...(i === all.length - 1 ? { chain: gatherer.chain.counts } : {}),
      }));
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const why = error instanceof CleanupError ? error.message.replace(`${path}: `, '') : describeFileError(error);
      skipped.push({ path, problem: why });
    }
  }
  // By start; a run whose start cannot be read as a time (an edit) first, where it cannot pass for a recent one.
  runs.sort((a, b) => (Date.parse(a.startedAt) || 0) - (Date.parse(b.startedAt) || 0));
  const pages = runPagesAmong(folder, names);
  for (const run of runs) {
    const page = pages.get(run.runId);
    if (page) run.page = page;
  }
  return {
    folder, builtAt, ...(options.expectEveryMs ? { expectEveryMs: options.expectEveryMs } : {}), runs,
    nights: nightsOf(runs, options.expectEveryMs, builtAt), skipped, unreadableLines,
  };
}

/** One log's runs, as its lines go by: the ledger, with what the fast path leaves to it (a failed line's cause, the last line's time). */
class LogHistory implements ChainGatherer<AuditRecord | OrderOutcome> {
  readonly ledger: RunLedger;
  /** The last chain's orders by their latest outcome: what its listing tells. */
  readonly chain = new ChainTally();
  /** The last order line read on the fast path: its time is read only if it turns out to be its run's last. */
  private lastFast: string | undefined;
  /** Failed order lines whose fields cannot be read in full: unreadable, as `report <log>` counts them. */
  unreadable = 0;

  constructor(path: string) {
    this.ledger = new RunLedger(path);
  }

  record(record: AuditRecord | OrderOutcome, line: number, text?: string): void {
    if (!('time' in record)) {
      if (record.outcome === 'failed' && text !== undefined) {
        // A failed order is read in full: its cause is counted (failures are few; the fast path is for the rest).
        const parsed = parseLine(text);
        if (parsed.kind === 'record') return this.record(parsed.record, line);
        this.unreadable++;
        return;
      }
      this.ledger.record(record);
      this.chain.record(record.orderId, record.outcome);
      this.lastFast = text;
      return;
    }
    this.settle();
    this.ledger.record(record);
    if (record.event === 'order') this.chain.record(record.orderId, record.outcome);
    else if (record.event === 'run.start') this.chain.started(record.resumeOf !== undefined);
  }

  /** The end of the log: the time of its last line, if it was an order read on the fast path. */
  finish(): void {
    this.settle();
  }

  private settle(): void {
    if (this.lastFast === undefined) return;
    this.ledger.touch(timeOf(this.lastFast) ?? this.ledger.lastTime ?? 0);
    this.lastFast = undefined;
  }
}

/** A moment as ISO 8601; undefined for one that is not a time (a date from an edited line). */
const isoTime = (ms: number): string | undefined => (Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : undefined);

const TIME_KEY = '"time":"';

/** The time of a line the journal wrote (`{"level":"…","time":"…",…`), without parsing the rest. */
function timeOf(text: string): number | undefined {
  const start = text.indexOf(TIME_KEY);
  if (start < 0) return undefined;
  const at = Date.parse(text.slice(start + TIME_KEY.length, text.indexOf('"', start + TIME_KEY.length)));
  return Number.isFinite(at) ? at : undefined;
}
