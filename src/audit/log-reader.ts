import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { usageError } from '../common/errors.js';
import { describeFileError, openInputFile } from '../common/files.js';
import { lineBatches } from '../common/lines.js';
import { fastOrderLine, runIdField } from './order-line.js';
import { newerVersion, parseLine, type AuditRecord, type OrderLine } from './records.js';

/** An order line read on the fast path: its ID and outcome only. */
export type OrderOutcome = Pick<OrderLine, 'event' | 'orderId' | 'outcome'>;

interface ReadOptions {
  /** Order lines on the fast path, as {orderId, outcome}. */
  outcomesOnly?: boolean;
  /** Only a regular file is read (a folder's logs: a pipe or device among them is named, never waited on). */
  regularOnly?: boolean;
  /** Ends the reading (a signal): the read under way stops with an AbortError. */
  signal?: AbortSignal;
}

/** What a reader gathers from one run chain: each of its valid records, in order. */
export interface ChainGatherer<R> {
  /** `text`: the line as written, for a reader that reads more of a fast-path line than its outcome. */
  record(record: R, line: number, text: string): void;
}

export interface LastChain<G> {
  /** What was gathered from the log's last run chain. */
  last: G;
  /** Before it, unrelated to it: run chains (fresh run.start lines), and runs (run.start lines). */
  earlier: { chains: number; runs: number };
  /** Lines that are not records: writes torn by a kill, or edits. Their orders count as not finished. */
  unreadableLines: number[];
}

/**
 * The one reader of audit logs (resume, report): every line validated against the record format
 * (audit/records). A run.start that is not valid stops the reading with a usage error naming the file,
 * the line and the field — what defines a run must never be guessed. So does a last chain with a resume
 * whose run.start does not follow the run it resumes (`resumeOf`): the run.start before it was cut away or
 * damaged, and with it what the chain began as. So does a last chain with a record of a run whose run.start
 * is not in it (a fresh run.start damaged: its run's lines must not be taken for the chain before's). Any
 * other line that is not valid is skipped and counted (a torn line is the normal trace of a kill).
 *
 * Only the last run chain counts: a fresh run.start (one without `resumeOf`) begins a new one, and what
 * came before it belongs to other runs, which a resume or a report must never count as its own. So a
 * chain is gathered by its own gatherer, made by `begin()` when the reading begins and again at each
 * fresh run.start (its first record): the last chain's is returned, the others are dropped.
 * `outcomesOnly` reads order lines on the fast path, as {orderId, outcome}: all a resume needs. The ID is a
 * slice of its line (V8 keeps substrings of 13 characters and more as views into their parent): a gatherer
 * that keeps IDs copies them (the resume's IdSet keeps their bytes).
 */
export async function readLastChain<G extends ChainGatherer<AuditRecord>>(path: string, begin: () => G): Promise<LastChain<G>>;
export async function readLastChain<G extends ChainGatherer<AuditRecord | OrderOutcome>>(path: string, begin: () => G, options: ReadOptions & { outcomesOnly: true }): Promise<LastChain<G>>;
export async function readLastChain<G extends ChainGatherer<AuditRecord | OrderOutcome>>(path: string, begin: () => G, options: ReadOptions = {}): Promise<LastChain<G>> {
  let input: Readable;
  try {
    if ((await stat(path)).isDirectory()) throw Object.assign(new Error('folder'), { code: 'EISDIR' });
    input = openInputFile(path, options.signal, options.regularOnly); // a pipe (`report <(zcat old.ndjson.gz)`) without blocking the process
  } catch (error) {
    throw usageError(`${path}: ${describeFileError(error)}`);
  }
  const read: LastChain<G> = { last: begin(), earlier: { chains: 0, runs: 0 }, unreadableLines: [] };
  let chainStarted = false;
  let runs = 0;
  let lineNumber = 0;
  /** The chain's latest run, which a resume's run.start names as its resumeOf; and why the chain read so far cannot be trusted, if it cannot. */
  let latestRun: string | undefined;
  let latestRunField = '';
  /** The chain's runs: a record of any other run means its run.start was lost. */
  let chainRuns = new Set<string>();
  let broken: string | undefined;
  try {
    for await (const batch of lineBatches(input)) {
      for (const text of batch) {
        lineNumber++;
        if (text === '') continue;
        const fast = options.outcomesOnly && latestRun !== undefined ? fastOrderLine(text, latestRunField) : undefined;
        if (fast) {
          read.last.record({ event: 'order', orderId: fast.orderId, outcome: fast.outcome }, lineNumber, text);
          continue;
        }
        const parsed = parseLine(text);
        if (parsed.kind === 'newer') throw usageError(`${path} line ${lineNumber}: ${newerVersion(parsed.version)}`);
        if (parsed.kind === 'invalid' && parsed.event === 'run.start') {
          throw usageError(`${path} line ${lineNumber}: the run.start record is not valid (${parsed.problem}): the log was edited or is damaged`);
        }
        if (parsed.kind === 'unreadable' || parsed.kind === 'invalid') read.unreadableLines.push(lineNumber);
        if (parsed.kind !== 'record') continue;
        const { record } = parsed;
        if (record.event === 'run.start' && record.resumeOf === undefined) {
          if (chainStarted) read.earlier.chains++;
          chainStarted = true;
          read.earlier.runs += runs;
          runs = 0;
          read.last = begin();
          broken = undefined;
          chainRuns = new Set();
        } else if (record.event === 'run.start' && record.resumeOf !== latestRun) {
          // A resume of a run whose run.start is not the one before it: that line was cut away or damaged, and
          // with it what the chain began as (a dry run's list, the input): never guessed from what is left.
          broken ??= `line ${lineNumber}: run ${record.runId} resumes run ${record.resumeOf}, whose run.start is not the last one before it ` +
            `(${latestRun ? `that is run ${latestRun}` : 'there is none'}): the log was cut or damaged`;
        }
        if (record.event === 'run.start') {
          runs++;
          latestRun = record.runId;
          latestRunField = runIdField(latestRun);
          chainRuns.add(latestRun);
        } else if (latestRun !== undefined && !chainRuns.has(record.runId)) {
          // A fresh run.start damaged: its run's lines are not this chain's (a dry run's finds, deletions), and never counted as such.
          broken ??= `line ${lineNumber}: a record of run ${record.runId}, whose run.start is not in the log before it ` +
            `(the last one is run ${latestRun}'s): the log was cut or damaged`;
        }
        read.last.record(record, lineNumber, text);
      }
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw usageError(`${path}: ${describeFileError(error)}`);
    throw error;
  } finally {
    input.destroy();
  }
  if (broken) throw usageError(`${path} ${broken}`);
  return read;
}

