import { existsSync } from 'node:fs';
import { GOAL_REACHED } from '../common/domain.js';
import { usageError } from '../common/errors.js';
import { IdSet } from '../common/id-set.js';
import type { SourceRecord } from '../common/records.js';
import { readLastChain, type ChainGatherer, type OrderOutcome } from './log-reader.js';
import type { AuditRecord, RunEndLine, RunStartRecord } from './records.js';

export interface ResumeState {
  /** The runId of the latest run of the chain: the new run's `resumeOf`. */
  resumeOf: string;
  /** The latest run.start of the chain: the input, host and options a resume continues. */
  start: RunStartRecord;
  source: SourceRecord;
  baseUrl: string;
  /** How the chain's latest run ended, if it did. */
  lastEnd: RunEndLine | undefined;
  /**
   * Orders whose latest outcome in this chain is `deleted` or `already_absent`: never sent again. Pass one
   * marks each as the new run's input lists it, to count each skip once.
   */
  finished: IdSet;
  /**
   * A chain that began with a dry run of a list of IDs: the orders it found there (would_delete). Only
   * these are ever deleted by its resumes — an order whose check failed, or that the dry run never reached
   * (stopped first), was not confirmed, and is left out. Undefined for other chains.
   */
  reviewed: IdSet | undefined;
  /** Lines that are not records (a write torn by a kill, an edit); skipped. */
  unreadableLines: number[];
  /** Earlier, unrelated runs in the same log (written before fresh runs were refused on a used log). */
  earlierChains: number;
}


/**
 * Reads an audit log for `run --resume`: the last run chain (from its last fresh run.start), its latest
 * run.start, and every order's latest outcome within the chain. Undefined when no run was recorded yet —
 * the file is missing, or holds nothing but a torn line — which is where a run killed before its
 * run.start leaves it: no DELETE is sent before that line. A file with more in it but no run.start is
 * not an audit log (an ID list given as --audit-log by mistake): refused, never appended to.
 */
export async function readResumeState(path: string): Promise<ResumeState | undefined> {
  if (!existsSync(path)) return undefined;
  const read = await readLastChain(path, () => new ChainState(), { outcomesOnly: true });
  const { start, lastEnd, finished, reviewed, records } = read.last;
  if (!start && (records > 0 || read.unreadableLines.length > 1)) {
    throw usageError(`${path} holds no run.start line of this tool: it is not a run's audit log (a list of IDs? those go in --ids); nothing was sent`);
  }
  if (!start) return undefined;
  return {
    resumeOf: start.runId, start, source: start.source, baseUrl: start.baseUrl, lastEnd, finished, reviewed,
    unreadableLines: read.unreadableLines, earlierChains: read.earlier.chains,
  };
}

/** A run chain as a resume needs it: its latest run.start and run.end, and every order's latest outcome. */
class ChainState implements ChainGatherer<AuditRecord | OrderOutcome> {
  readonly finished = new IdSet();
  reviewed: IdSet | undefined;
  start: RunStartRecord | undefined;
  lastEnd: RunEndLine | undefined;
  records = 0;

  record(record: AuditRecord | OrderOutcome): void {
    this.records++;
    if (record.event === 'order') {
      if (GOAL_REACHED.has(record.outcome)) this.finished.add(record.orderId);
      else this.finished.delete(record.orderId);
      if (record.outcome === 'would_delete') this.reviewed?.add(record.orderId);
    } else if (record.event === 'run.start') {
      // The chain's first run a dry run of a list (a filter's dry run has its manifest for a selection): its finds, and only those, go on.
      if (!this.start && record.options.dryRun === true && record.source.kind !== 'filter') this.reviewed = new IdSet();
      this.start = record;
      this.lastEnd = undefined;
    } else if (record.event === 'run.end') {
      this.lastEnd = record;
    }
  }
}
