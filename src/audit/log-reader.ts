import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { usageError } from '../common/errors.js';
import { describeFileError } from '../common/files.js';
import { lineBatches } from '../common/lines.js';
import { fastOrderLine } from './order-line.js';
import { parseLine, type AuditRecord, type OrderLine } from './records.js';

/** An order line read on the fast path: its ID and outcome only. */
export type OrderOutcome = Pick<OrderLine, 'event' | 'orderId' | 'outcome'>;

export interface LogVisitor<R> {
  /**
   * A fresh run.start (one without `resumeOf`) begins a new run chain: whatever was gathered before it
   * belongs to another run, which a resume must never count as its own.
   */
  chain?(): void;
  /** Each valid record in order; return 'stop' to read no further. */
  record(record: R, line: number): void | 'stop';
}

export interface LogRead {
  /** Lines that are not records: writes torn by a kill, or edits. Their orders count as not finished. */
  unreadableLines: number[];
  /** Run chains in the log (fresh run.start lines). */
  chains: number;
}

/**
 * The one reader of audit logs (resume, report, the latest-log finder): every line validated against
 * the record format (audit/records). A run.start that is not valid stops the reading with a usage error
 * naming the file, the line and the field — what defines a run must never be guessed. Any other line
 * that is not valid is skipped and counted (a torn line is the normal trace of a kill).
 * `outcomesOnly` reads order lines on the fast path, as {orderId, outcome}: all a resume needs.
 */
export async function readAuditLog(path: string, visitor: LogVisitor<AuditRecord>): Promise<LogRead>;
export async function readAuditLog(path: string, visitor: LogVisitor<AuditRecord | OrderOutcome>, options: { outcomesOnly: true }): Promise<LogRead>;
export async function readAuditLog(path: string, visitor: LogVisitor<AuditRecord | OrderOutcome>, options: { outcomesOnly?: boolean } = {}): Promise<LogRead> {
  try {
    if ((await stat(path)).isDirectory()) throw Object.assign(new Error('folder'), { code: 'EISDIR' });
  } catch (error) {
    throw usageError(`${path}: ${describeFileError(error)}`);
  }
  const result: LogRead = { unreadableLines: [], chains: 0 };
  let lineNumber = 0;
  const input = createReadStream(path);
  try {
    for await (const batch of lineBatches(input)) {
      for (const text of batch) {
        lineNumber++;
        if (text === '') continue;
        const fast = options.outcomesOnly ? fastOrderLine(text) : undefined;
        if (fast) {
          if (visitor.record({ event: 'order', orderId: detach(fast.orderId), outcome: fast.outcome }, lineNumber) === 'stop') return result;
          continue;
        }
        const parsed = parseLine(text);
        if (parsed.kind === 'invalid' && parsed.event === 'run.start') {
          throw usageError(`${path} line ${lineNumber}: the run.start record is not valid (${parsed.problem}): the log was edited or is damaged`);
        }
        if (parsed.kind === 'unreadable' || parsed.kind === 'invalid') result.unreadableLines.push(lineNumber);
        if (parsed.kind !== 'record') continue;
        const { record } = parsed;
        if (record.event === 'run.start' && record.resumeOf === undefined) {
          result.chains++;
          visitor.chain?.();
        }
        if (visitor.record(record, lineNumber) === 'stop') return result;
      }
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw usageError(`${path}: ${describeFileError(error)}`);
    throw error;
  } finally {
    input.destroy();
  }
  return result;
}

/**
 * A copy of `id` that does not keep its whole line alive: V8 makes substrings of 13 characters and more
 * views into their parent, and a million kept IDs would otherwise keep the whole log in memory.
 */
function detach(id: string): string {
  return ` ${id}`.slice(1);
}
