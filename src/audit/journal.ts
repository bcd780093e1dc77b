import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { secrets } from '../common/secrets.js';
import { usageError } from '../common/errors.js';
import { describeFileError } from '../common/files.js';
import { terminalSafe } from '../common/text.js';
import { AUDIT_RECORD_VERSION, type OrderRecord, type RetryRecord } from '../common/domain.js';
import type { RunEvents, RunOutcome, RunStartFields } from '../engine/events.js';
import type { ThrottleDecision } from '../engine/throttle-decision.js';
import type { ServiceChange } from '../engine/retry-budget.js';

/**
 * The audit log: pino NDJSON appended with a synchronous write(2) per line, so a line is in the file
 * (the kernel's page cache) before the order counts as done, and a SIGKILL can tear at most the line
 * being written. The file is fsync'ed when the run ends. Every line passes through the secret scrubber,
 * and characters that could rewrite a terminal are kept as JSON `\uXXXX` escapes (same values, valid
 * JSON), so that `cat` and `jq -r` of a log are safe. A write that fails (disk full, file size limit) is
 * reported once to `onWriteFailure` and nothing more is written: the run must stop, and the orders whose
 * lines are missing are sent again by the resume (and found already absent).
 */
export class AuditJournal {
  private readonly fd: number;
  private readonly log: Logger;
  private failure: unknown;

  constructor(
    readonly path: string,
    readonly runId: string,
    private readonly onWriteFailure: (error: unknown) => void,
  ) {
    try {
      this.fd = openSync(path, 'a+', 0o644); // appends; readable for the torn-tail check
    } catch (error) {
      throw usageError(`the audit log ${path} cannot be opened: ${describeFileError(error)}; nothing was deleted`);
    }
    this.log = pino(
      {
        base: { runId },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        hooks: { streamWrite: (line) => terminalSafe(secrets.scrub(line)) },
      },
      { write: (line: string) => this.write(line) },
    );
    // A run killed mid-write left a torn last line: end it, so that our first line stays whole.
    if (endsWithoutNewline(this.fd)) this.write('\n');
  }

  /** Whether every line so far reached the file. */
  get healthy(): boolean {
    return this.failure === undefined;
  }

  /**
   * Subscribes to a run's events: the journal is the first subscriber, so an order's line is in the file
   * before anything else hears of the order. Returns whether run.end reached the file, once the run ends.
   */
  attach(events: RunEvents): { ended: () => boolean } {
    let ended = false;
    events
      .on('run.started', ({ fields }) => this.start(fields))
      .on('order.finished', ({ record }) => this.order(record))
      .on('retry.scheduled', ({ record }) => this.retry(record))
      .on('throttle', ({ decision }) => this.throttle(decision))
      .on('pace', ({ rps }) => this.pace(rps))
      .on('service', ({ change }) => this.service(change))
      .on('run.ended', ({ outcome }) => void (ended = this.end(outcome)));
    return { ended: () => ended };
  }

  start(fields: RunStartFields | Record<string, unknown>): void {
    this.log.info({ event: 'run.start', recordVersion: AUDIT_RECORD_VERSION, ...fields }, fields.resumeOf ? `run resumed (resuming ${String(fields.resumeOf)})` : 'run started');
  }

  order(record: OrderRecord): void {
    const level = record.outcome === 'failed' ? 'warn' : 'info';
    this.log[level]({ event: 'order', ...record }, `order ${record.outcome}`);
  }

  retry(record: RetryRecord): void {
    this.log.info({ event: 'order.retry', ...record }, 'order retry scheduled');
  }

  throttle(decision: ThrottleDecision): void {
    const { kind, rateBefore, rateAfter, pauseMs } = decision;
    const rate = (r: number) => (Number.isFinite(r) ? `${round(r)}/s` : 'unpaced');
    const text = kind === 'lift' ? `limit lifted: unpaced from ${rate(rateBefore)}`
      : kind === 'noise' ? `cutting did not lower the share throttled (${Math.round(decision.baseline * 100)}%, now the baseline): the 429s are not about this run's rate; cuts undone, unpaced from ${rate(rateBefore)}`
      : `rate ${kind === 'cut' ? 'cut' : 'stepped back'} from ${rate(rateBefore)} to ${rate(rateAfter)}`;
    this.log.info({ event: 'throttle', ...roundFigures(decision) }, pauseMs > 0 ? `${text}, everyone waits ${pauseMs} ms` : text);
  }

  pace(rps: number): void {
    const rate = Number.isFinite(rps) ? round(rps) : null;
    this.log.info({ event: 'pace', rps: rate }, rate === null ? 'unpaced' : `paced at ${rate}/s`);
  }

  service(change: ServiceChange): void {
    const text = change.state === 'failing'
      ? `the service is failing (${change.failures} of ${change.answers} answers): requests wait, a probe a second`
      : `the service answers again after ${((change.failingMs ?? 0) / 1000).toFixed(1)} s`;
    this.log.warn({ event: 'service', ...change }, text);
  }

  /** Writes run.end and closes the file; false when the log could not take it. */
  end(outcome: Omit<RunOutcome, 'runId' | 'auditLog'> | Record<string, unknown>): boolean {
    const { runId: _runId, auditLog: _auditLog, ...fields } = outcome as Record<string, unknown>;
    this.log.info({ event: 'run.end', ...fields }, `run ${String(fields.status)}`);
    try {
      if (this.healthy) fsyncSync(this.fd);
    } catch (error) {
      this.fail(error);
    }
    closeSync(this.fd);
    return this.healthy;
  }

  private write(line: string): void {
    if (!this.healthy) return;
    const bytes = Buffer.from(line);
    try {
      for (let written = 0; written < bytes.length;) written += writeSync(this.fd, bytes, written);
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    if (!this.healthy) return;
    this.failure = error;
    this.onWriteFailure(error);
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

/** The decision's figures to two decimals (an unpaced rate, Infinity, as null: JSON has no Infinity). */
function roundFigures(decision: ThrottleDecision): Record<string, unknown> {
  return Object.fromEntries(Object.entries(decision).map(([k, v]) => [k, typeof v === 'number' ? (Number.isFinite(v) ? round(v) : null) : v]));
}

function endsWithoutNewline(fd: number): boolean {
  const { size } = fstatSync(fd);
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}
