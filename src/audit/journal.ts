import { closeSync, fsyncSync, openSync, readSync, statSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { secrets } from '../common/secrets.js';

export type Outcome = 'deleted' | 'already_absent' | 'failed' | 'would_delete';

export interface OrderRecord {
  orderId: string;
  outcome: Outcome;
  httpStatus: number | null;
  attempts: number;
  durationMs: number;
  error?: { code: string; message: string };
}

export interface RetryRecord {
  orderId: string;
  attempt: number;
  httpStatus?: number;
  errorCode?: string;
  delayMs: number;
}

/**
 * The audit log: pino NDJSON appended with a synchronous write(2) per line, so a line is in the file
 * (the kernel's page cache) before the order counts as done, and a SIGKILL can tear at most the line
 * being written. The file is fsync'ed when the run ends. Every line passes through the secret scrubber.
 */
export class AuditJournal {
  private readonly destination: pino.DestinationStream & { flushSync(): void; fd: number; end(): void };
  private readonly log: Logger;

  constructor(
    readonly path: string,
    readonly runId: string,
  ) {
    const tornTail = endsWithoutNewline(path);
    this.destination = pino.destination({ dest: path, sync: true, append: true, mkdir: true }) as never;
    this.log = pino(
      {
        base: { runId },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        hooks: { streamWrite: (line) => secrets.scrub(line) },
      },
      this.destination,
    );
    // A run killed mid-write left a torn last line: end it, so that our first line stays whole.
    if (tornTail) this.destination.write('\n');
  }

  start(fields: Record<string, unknown>): void {
    this.log.info({ event: 'run.start', ...fields }, fields.resumeOf ? `run resumed (resuming ${String(fields.resumeOf)})` : 'run started');
  }

  order(record: OrderRecord): void {
    const level = record.outcome === 'failed' ? 'warn' : 'info';
    this.log[level]({ event: 'order', ...record }, `order ${record.outcome}`);
  }

  retry(record: RetryRecord): void {
    this.log.info({ event: 'order.retry', ...record }, 'order retry scheduled');
  }

  warn(event: string, message: string, fields: Record<string, unknown> = {}): void {
    this.log.warn({ event, ...fields }, message);
  }

  end(fields: Record<string, unknown>): void {
    this.log.info({ event: 'run.end', ...fields }, `run ${String(fields.status)}`);
    this.close();
  }

  private close(): void {
    this.destination.flushSync();
    fsyncSync(this.destination.fd);
    this.destination.end();
  }
}

function endsWithoutNewline(path: string): boolean {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return false;
  }
  if (size === 0) return false;
  const fd = openSync(path, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}
