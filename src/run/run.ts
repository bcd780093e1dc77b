import type { StopCause } from '../common/domain.js';
import { ExitCode } from '../common/errors.js';
import type { RunOptions } from '../config/resolve.js';
import { Cleanup } from './cleanup.js';
import { obtainConsent, refuseWithoutAPerson } from './consent.js';
import type { RunContext } from './context.js';
import { execute, stoppedBeforeStart } from './execute.js';
import { openLog, readRecordedRun } from './open.js';
import { planRun } from './plan.js';
import { RunRecording } from './recording.js';
import { conclusionOf, tellNotStarted, type Unstarted } from './not-started.js';
import { createPace, LazyApi } from './request-deps.js';

export type { RunContext, Terminal } from './context.js';

/**
 * One run, in phases: open (the log chosen, checked and locked; the recorded run read, for a resume) →
 * plan (the orders, validated; the guards) → consent (the credentials checked; the count typed back) →
 * execute (recorded from its start: the deletions) → end. Everything that can be refused is refused
 * before the first DELETE, and before anything is recorded. What each phase set up is undone in reverse
 * order however the run ends (the reports made, the client closed, the lock released).
 */
export async function runCleanup(requested: RunOptions, context: RunContext): Promise<ExitCode> {
  const { control, console } = context;
  control.endedWith = undefined; // --auto-resume: the run it continued first has ended, this one has not
  // Until the run is recorded, what is known of it: a run refused or stopped before it started tells so in its summary files and metrics.
  const unstarted: Unstarted = { options: requested, startedAt: Date.now() };
  const notStarted = async ({ exitCode, reason, cause }: { exitCode: ExitCode; reason: string; cause?: StopCause }) => {
    await tellNotStarted(unstarted, exitCode, reason, context, cause).catch(() => undefined);
    return exitCode;
  };
  let recording: RunRecording | undefined;
  const cleanup = new Cleanup();
  try {
    refuseWithoutAPerson(requested, context.terminal);
    const hooks = { chose: (auditLog: string) => (unstarted.chosenLog = auditLog), checked: () => (unstarted.filesChecked = true) };
    const log = await openLog(requested, context, cleanup, hooks);
    unstarted.auditLog = log.auditLog;
    const run = await readRecordedRun(requested, log, context, hooks);
    Object.assign(unstarted, { options: run.options, host: run.host });
    const pace = createPace(run.options, log.events, control);
    const api = new LazyApi({ ...run, control, events: log.events, pace });
    cleanup.defer(() => api.destroy());
    unstarted.tokens = () => api.current?.tokens.counts;
    const stopped = () => notStarted(stoppedBeforeStart(control, (text) => console.say(text), !!api.current?.tokens.requested));

    const plan = await planRun(run, log, api, context);
    if (!plan) return await stopped();
    recording = new RunRecording(log, run, plan, pace, api, context);
    cleanup.defer(() => recording?.finish());
    // A guard's refusal needs no request: it is recorded (a resume with the limit raised continues from the same selection).
    if (plan.refusal && !run.options.dryRun) {
      await recording.start();
      return recording.end({ status: 'failed', exitCode: ExitCode.refused, cause: 'refused', reason: plan.refusal.reason });
    }
    const deps = await api.make();
    const consent = await obtainConsent(run, plan, deps, log, context);
    if (!consent) return await stopped();
    const tally = await recording.start(consent.waitedMs);
    return recording.end(await execute(run, plan, deps, tally));
  } catch (error) {
    if (!recording?.started) await notStarted(conclusionOf(error));
    throw error;
  } finally {
    await cleanup.run();
  }
}
