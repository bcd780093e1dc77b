import type { ExitCode } from '../common/errors.js';
import type { OrderRecord, RetryRecord, RunEndFields, RunStartFields, RunStopFields, ServiceChange } from '../common/records.js';
import type { ThrottleDecision } from './throttle-decision.js';

/** How a run ended: what run.end (its fields), the summary, the summary files and the exit code say. */
export type RunOutcome = RunEndFields & { runId: string; auditLog: string; exitCode: ExitCode };

/**
 * What happens in a run, as it happens. The engine and the run's composition emit these; the audit
 * journal, the console, the progress line and the summary files subscribe (and, later, the report's data
 * and the metrics). Delivery is synchronous and in subscription order, so an order's audit line is
 * written before its worker takes the next order.
 */
export type RunEvent =
  /** Something a person should hear that is not a record: a warning, a step. */
  | { type: 'notice'; level: 'info' | 'warn'; text: string }
  /** A page of a filter's listing was read. */
  | { type: 'selection.page'; pages: number; listed: number; selected: number }
  | { type: 'run.started'; runId: string; auditLog: string; startedAt: number; fields: RunStartFields }
  /** Deletion begins (after the guards): `total` orders to finish. */
  | { type: 'deletion.started'; total: number; dryRun: boolean }
  | { type: 'order.finished'; record: OrderRecord }
  | { type: 'retry.scheduled'; record: RetryRecord }
  /** The rate controller changed the run's pace. */
  | { type: 'throttle'; decision: ThrottleDecision }
  /** The paced rate climbed (or fell) since it was last told, requests/s. */
  | { type: 'pace'; rps: number }
  /** The retry budget found the service failing (requests wait, a probe a second), or answering again. */
  | { type: 'service'; change: ServiceChange }
  /** The run was told to stop (a signal, a halt, the deadline): it drains now. */
  | { type: 'run.stopping'; stop: RunStopFields }
  | { type: 'run.ended'; outcome: RunOutcome };

export type RunEventType = RunEvent['type'];
export type EventOf<K extends RunEventType> = Extract<RunEvent, { type: K }>;

export class RunEvents {
  private readonly handlers = new Map<RunEventType, Array<(event: never) => void>>();

  on<K extends RunEventType>(type: K, handler: (event: EventOf<K>) => void): this {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), handler as (event: never) => void]);
    return this;
  }

  emit(event: RunEvent): void {
    for (const handler of this.handlers.get(event.type) ?? []) handler(event as never);
  }
}
