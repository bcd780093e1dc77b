import { ExitCode, signalExitCode } from '../common/errors.js';
import type { RunControl } from '../engine/run-control.js';
import type { RunTally } from '../engine/tally.js';
import type { SelectionDeps } from '../planner/selection.js';
import type { RunPlan } from './plan.js';
import type { RecordedRun } from './open.js';
import type { Conclusion } from './recording.js';

/**
 * Phase 4: the deletions (or, for a dry run, each listed order asked for: would_delete or not found), under the engine's concurrency,
 * pace, retries and halt policy; then how the run concludes. A bug is recorded as `crashed` (exit 70),
 * which --auto-resume leaves for a person.
 */
export async function execute(run: RecordedRun, plan: RunPlan, deps: SelectionDeps, tally: RunTally): Promise<Conclusion> {
  const { options } = run;
  try {
    const { executeDeletions } = await import('../engine/executor.js');
    // A dry run of a list of IDs asks for each order (a typo is named, not counted as would_delete); a filter's orders were just listed.
    const checkExists = options.dryRun && plan.input.source.kind !== 'filter';
    await executeDeletions({
      pending: plan.input.scanned.pending, dryRun: options.dryRun, checkExists, concurrency: options.concurrency, haltAfter: options.haltAfter,
    }, { ...deps, tally });
  } catch (error) {
    return { status: 'crashed', exitCode: ExitCode.internal, cause: 'bug', reason: `internal error, a bug in this tool: ${error instanceof Error ? error.message : String(error)}` };
  }
  const concluded = conclude(tally.summary.failed, deps.control);
  const absent = tally.summary.alreadyAbsent;
  if (options.failOnAbsent && absent > 0 && concluded.exitCode === ExitCode.ok) {
    return { status: 'failed', exitCode: ExitCode.someFailed, cause: 'absent_orders', reason: `${absent} listed order${absent === 1 ? ' was' : 's were'} not found (--fail-on-absent)` };
  }
  return concluded;
}

/** How a run that went to its end (or was stopped) concludes: a signal, a halt, failed orders, or done. */
function conclude(failed: number, control: RunControl): Conclusion {
  const stop = control.reason;
  if (stop?.kind === 'signal') return { status: 'interrupted', exitCode: signalExitCode(stop.signal), cause: 'signal', reason: `received ${stop.signal}` };
  if (stop?.kind === 'halt') return { status: stop.exitCode === ExitCode.refused ? 'failed' : 'halted', exitCode: stop.exitCode, cause: stop.cause, reason: stop.message };
  if (failed > 0) return { status: 'failed', exitCode: ExitCode.someFailed, cause: 'failed_orders' };
  return { status: 'completed', exitCode: ExitCode.ok, cause: 'none' };
}

/** A run stopped (a signal, a deadline) before it started: nothing was deleted, and nothing is recorded. Said, and returned with its exit code. */
export function stoppedBeforeStart(control: RunControl, say: (text: string) => void, requested: boolean): { exitCode: ExitCode; reason: string } {
  const signal = control.reason?.kind === 'signal' ? control.reason.signal : undefined;
  // A halt while the orders were still being listed (a deadline, a server refusing this client) says why, and that only a new run goes on:
  // nothing was recorded, so there is nothing to resume (it said "resume to continue").
  const halt = control.reason?.kind === 'halt' ? control.reason : undefined;
  const why = halt ? `: ${halt.message}; nothing was recorded, so run it again${halt.cause === 'deadline' ? ' (with a longer --max-duration)' : halt.cause === 'throttled' ? ' later' : ''}` : '';
  const reason = `Stopped${signal ? ` by ${signal}` : ''} before any order was deleted; ${requested ? 'nothing was deleted' : 'nothing was sent'}${why}.`;
  say(reason);
  return { exitCode: signal ? signalExitCode(signal) : ExitCode.halted, reason };
}
