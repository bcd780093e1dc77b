import type { AxiosInstance } from 'axios';
import type { IdSet } from '../common/id-set.js';
import type { OrderRecord, RetryRecord } from '../common/records.js';
import { ExitCode } from '../common/errors.js';
import { TokenError, tokenLost } from '../exsited/auth.js';
import { dispatch, type Wait } from './dispatch.js';
import type { RunEvents } from './events.js';
import { HaltPolicy } from './halt-policy.js';
import { MemoryGovernor } from './memory-governor.js';
import { checkWithRetry, deleteWithRetry } from './order-deleter.js';
import type { RequestDeps } from './retrying-request.js';
import type { RunTally } from './tally.js';

export interface DeletionDeps extends RequestDeps {
  http: AxiosInstance;
  events: RunEvents;
  tally: RunTally;
  /** The dispatcher's waits (tests on simulated time give their clock's). */
  wait?: Wait;
}

export interface DeletionPlan {
  /** The orders to finish, in input order; each taken out as it is dispatched. */
  pending: IdSet;
  dryRun: boolean;
  /** A dry run asks for each order (GET): would_delete if it is there, already_absent if not found. Otherwise all are would_delete. */
  checkExists?: boolean;
  concurrency: number;
  haltAfter: number;
}

/**
 * Orders under way: at most this many per in-flight slot, of which at most READY_PER_SLOT sending or queued
 * to send; the rest wait out a Retry-After or a backoff, their slot given to another order. Under a fault
 * mix where 3 answers in 10 ask for a retry, four per slot in all kept the slots idle; sixteen do not, and
 * a clean run keeps only twice the slots' worth of orders in memory. Storms are the retry budget's to stop.
 */
const ORDERS_PER_SLOT = 16;
const READY_PER_SLOT = 2;

/**
 * The deletion phase: authenticates, then takes each pending order through the retry policy with at
 * most `concurrency` requests in flight (a dry run asks for each order instead, or records each as would_delete), emitting every outcome
 * and retry as it happens. It stops the run (through RunControl) when the halt policy says so, or when
 * authentication is lost for good: exit 3 if nothing was done yet (the credentials were refused), else 4
 * (and 4 when the token cache cannot be used: another run holds its lock).
 * Returns when every dispatched order has settled.
 */
export async function executeDeletions(plan: DeletionPlan, deps: DeletionDeps): Promise<void> {
  const { control, events, tally } = deps;
  const haltPolicy = new HaltPolicy(plan.haltAfter);
  const memory = new MemoryGovernor();
  const finish = (record: OrderRecord) => {
    events.emit({ type: 'order.finished', record });
    memory.tick();
    const reason = haltPolicy.observe(record);
    if (reason) control.stop({ kind: 'halt', message: reason, exitCode: ExitCode.halted, cause: 'failures' });
  };
  const authenticationLost = (error: TokenError) => {
    if (control.stopping.aborted) return;
    const refused = error.kind === 'rejected' && tally.finished === 0;
    const { message, cause } = tokenLost(error);
    control.stop({ kind: 'halt', message, exitCode: refused ? ExitCode.refused : ExitCode.halted, cause });
  };
  control.deleting = true;
  events.emit({ type: 'deletion.started', total: plan.pending.size, dryRun: plan.dryRun });
  try {
    await deps.tokens.get(control.stopping);
    if (plan.dryRun && !plan.checkExists) {
      for (const orderId of plan.pending.drain()) {
        if (control.stopping.aborted) break;
        finish({ orderId, outcome: 'would_delete', httpStatus: null, attempts: 0, durationMs: 0 });
      }
      return;
    }
    const deleterDeps = { ...deps, haltNear: () => haltPolicy.near(), onRetry: (record: RetryRecord) => events.emit({ type: 'retry.scheduled', record }) };
    const limits = {
      max: plan.concurrency * ORDERS_PER_SLOT,
      ready: (running: number) => running - deps.retry.waiting < plan.concurrency * READY_PER_SLOT,
    };
    await dispatch(plan.pending.drain(), limits, async (orderId) => {
      try {
        const record = await (plan.dryRun ? checkWithRetry : deleteWithRetry)(orderId, deleterDeps);
        if (record) finish(record);
      } catch (error) {
        if (error instanceof TokenError) authenticationLost(error);
        else throw error;
      }
    }, control.stopping, deps.wait);
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    authenticationLost(error);
  }
}
