import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { usageError } from '../common/errors.js';
import { humanDuration } from '../common/durations.js';
import { describeFileError } from '../common/files.js';
import { protectFile } from '../common/protected-files.js';
import { scrubbedSafe } from '../common/text.js';
import { AUDIT_RECORD_VERSION } from '../common/domain.js';
import type { OrderRecord, RecordEvent, RecordFields, RetryRecord, RunEndFields, RunStartFields, ServiceChange, ThrottleFields } from '../common/records.js';
import { decisionText, rateText } from '../engine/decision-words.js';
import type { RunEvents } from '../engine/events.js';
import type { ThrottleDecision } from '../engine/throttle-decision.js';
import { orderLineFields } from './order-line.js';

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
    /** Where the file is opened: the log's real path as the run locked it (RunLock.realLog); `path` by default. */
    realPath = path,
  ) {
    try {
      // Appends, readable for the torn-tail check; never through a link put at the real path since the run locked it.
      this.fd = openSync(realPath, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code === 'ELOOP' ? 'a symbolic link was put in its place after the run locked it' : describeFileError(error);
      throw usageError(`the audit log ${path} cannot be opened: ${why}; nothing was deleted`);
    }
    protectFile('the audit log', { path: realPath, fd: this.fd });
    this.log = pino(
      {
        base: { runId },
        timestamp: isoTime,
        formatters: { level: (label) => ({ level: label }) },
        hooks: { streamWrite: scrubbedSafe },
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
      .on('run.stopping', ({ stop }) => this.line('warn', 'run.stop', stop, `run stopping: ${stop.reason}`))
      .on('run.ended', ({ outcome: { runId: _runId, auditLog: _auditLog, ...fields } }) => void (ended = this.end(fields)));
    return { ended: () => ended };
  }

  start(fields: RunStartFields): void {
    this.log.info({ event: 'run.start', recordVersion: AUDIT_RECORD_VERSION, ...fields }, fields.resumeOf ? `run resumed (resuming ${fields.resumeOf})` : 'run started');
  }

  order(record: OrderRecord): void {
    // In the layout the log reader's fast path reads (audit/order-line).
    this.log[record.outcome === 'failed' ? 'warn' : 'info'](orderLineFields(record), `order ${record.outcome}`);
  }

  retry(record: RetryRecord): void {
    this.line('info', 'order.retry', record, 'order retry scheduled');
  }

  throttle(decision: ThrottleDecision): void {
    const text = decisionText(decision);
    this.line('info', 'throttle', throttleFields(decision), decision.pauseMs > 0 ? `${text}, everyone waits ${humanDuration(decision.pauseMs)}` : text);
  }

  pace(rps: number): void {
    const rate = figure(rps);
    this.line('info', 'pace', { rps: rate }, rate === null ? 'unpaced' : `paced at ${rateText(rate)}`);
  }

  service(change: ServiceChange): void {
    const text = change.state === 'failing'
      ? `the service is failing (${change.failures} of ${change.answers} answers): requests wait, a probe a second`
      : `the service answers again after ${humanDuration(change.failingMs ?? 0)}`;
    this.line('warn', 'service', change, text);
  }

  /** Writes run.end and closes the file; false when the log could not take it. */
  end(fields: RunEndFields): boolean {
    this.line('info', 'run.end', fields, `run ${fields.status}`);
    try {
      if (this.healthy) fsyncSync(this.fd);
    } catch (error) {
      this.fail(error);
    }
    closeSync(this.fd);
    return this.healthy;
  }

  /** A record's line: its event's fields as common/records has them, after the journal's own (level, time, runId). */
  private line<E extends RecordEvent>(level: 'info' | 'warn', event: E, fields: RecordFields<E>, msg: string): void {
    const record: object = { event, ...fields };
    this.log[level](record, msg);
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

/** pino's ISO time, made once a millisecond: at full speed several lines share one. */
let timeMs = Number.NaN;
let timeText = '';
function isoTime(): string {
  const now = Date.now();
  if (now !== timeMs) {
    timeMs = now;
    timeText = `,"time":"${new Date(now).toISOString()}"`;
  }
  return timeText;
}

const round = (n: number) => Math.round(n * 100) / 100;
/** A figure to two decimals; an unpaced rate (Infinity) as null: JSON has no Infinity. */
const figure = (n: number) => (Number.isFinite(n) ? round(n) : null);

function throttleFields(d: ThrottleDecision): ThrottleFields {
  return {
    kind: d.kind, windowMs: round(d.windowMs), answers: d.answers, share: round(d.share), baseline: round(d.baseline), acceptedRate: round(d.acceptedRate),
    rateBefore: figure(d.rateBefore), rateAfter: figure(d.rateAfter), ceiling: d.ceiling === null ? null : figure(d.ceiling), pauseMs: round(d.pauseMs),
  };
}

function endsWithoutNewline(fd: number): boolean {
  const { size } = fstatSync(fd);
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}
