import { existsSync } from 'node:fs';
import type { StopCause } from '../common/domain.js';
import { bySignal, CleanupError, ExitCode } from '../common/errors.js';
import { prepareOutputFile } from '../common/output-files.js';
import { secrets } from '../common/secrets.js';
import type { RunOptions } from '../config/resolve.js';
import { refuseCollisions } from '../guards/file-roles.js';
import { writeNotStartedFiles, type NotStarted } from '../report/summary-files.js';
import type { RunContext } from './context.js';
import { runFiles } from './open.js';

/** What is known of a run that never started: its options; its audit log once chosen, and once opened (written). */
export interface Unstarted {
  options: RunOptions;
  startedAt: number;
  chosenLog?: string;
  auditLog?: string;
  /** Every file of the run passed the collision checks (a resume's recorded input and manifest included). */
  filesChecked?: boolean;
  host?: string;
  /** The tokens obtained so far (the API client's, once made). */
  tokens?: () => { obtained: number; shared: number } | undefined;
}

/**
 * Issue 23, item 4: a run refused (exit 2, 3) or stopped before its first DELETE (a signal, a halt while
 * the orders were listed, a bug) still writes what it was asked to write — --summary-json, the step
 * summary, the metrics — with its status, exit code and reason, so that no file from an earlier run is left
 * looking current and the gateway does not keep showing the last good status. It has no audit log to say
 * it. The files are written only once every file of the run passed its checks (guards/file-roles), a
 * resume's recorded input included: a refusal found before that writes none (an output refused for being
 * the audit log or an input is never written, whatever the refusal); the metrics are pushed whatever the files.
 */
export async function tellNotStarted(run: Unstarted, exitCode: ExitCode, reason: string, context: RunContext, cause?: StopCause): Promise<void> {
  const { options } = run;
  const told: NotStarted = {
    // The log is named only if it exists: one chosen and opened, but never written (nothing was recorded), is none.
    status: statusOf(exitCode), exitCode, cause: cause ?? causeOf(exitCode, context), reason: secrets.scrub(reason), host: run.host, auditLog: run.auditLog && existsSync(run.auditLog) ? run.auditLog : undefined,
    dryRun: options.dryRun, startedAt: run.startedAt, endedAt: Date.now(), tokens: run.tokens?.(),
  };
  // Only once every file of the run passed its checks (a refusal found earlier — nobody at the terminal, a collision, a resume
  // not read yet — writes none: an output might be the input a resume would read); checked again against the log it chose.
  const files = run.filesChecked === true && filesPass(options, run.chosenLog ?? options.auditLog);
  // And each one only if it can be written: one that cannot (a folder, a FIFO nobody reads) was, or would have been, the refusal itself — said once.
  const writable = (path: string | undefined) => (files && path !== undefined && preparable(path) ? path : undefined);
  const metricsFile = writable(options.metricsFile);
  const metrics = options.metricsPush || metricsFile ? await import('../report/metrics.js') : undefined;
  await Promise.all([
    files && writeNotStartedFiles(context.console, { json: writable(options.summaryJson), stepSummary: writable(options.stepSummary) }, told),
    metrics?.reportNotStarted(context.console, {
      push: options.metricsPush, pushToken: options.metricsPushToken, file: metricsFile, job: options.metricsJob,
      shard: options.shard ? `${options.shard.index}_of_${options.shard.count}` : 'all', dryRun: options.dryRun,
    }, told.status, exitCode, told.cause, Math.max(0, told.endedAt - told.startedAt)),
  ]);
}

/** A thrown error's exit code and words: ours as they are; anything else is a bug, told without its raw text. */
export function conclusionOf(error: unknown): { exitCode: ExitCode; reason: string; cause?: StopCause } {
  return error instanceof CleanupError
    ? { exitCode: error.exitCode, reason: error.message, ...(error.stopCause ? { cause: error.stopCause } : {}) }
    : { exitCode: ExitCode.internal, reason: 'internal error, a bug in this tool: nothing was deleted' };
}

/** Why, in the fixed words of common/domain: a halt says its own; otherwise the exit code does. */
function causeOf(exitCode: ExitCode, context: RunContext): StopCause {
  const stop = context.control.reason;
  if (stop?.kind === 'halt') return stop.cause;
  if (stop?.kind === 'signal' || bySignal(exitCode)) return 'signal';
  const byCode: Partial<Record<ExitCode, StopCause>> = { [ExitCode.usage]: 'usage', [ExitCode.refused]: 'refused', [ExitCode.unreachable]: 'unreachable', [ExitCode.halted]: 'service' };
  return byCode[exitCode] ?? 'bug';
}

function statusOf(exitCode: ExitCode): NotStarted['status'] {
  if (exitCode === ExitCode.usage || exitCode === ExitCode.refused) return 'refused';
  if (exitCode === ExitCode.unreachable) return 'unreachable';
  if (bySignal(exitCode)) return 'interrupted';
  return exitCode === ExitCode.halted ? 'halted' : 'crashed';
}

function preparable(path: string): boolean {
  try {
    prepareOutputFile(path, 'an output');
    return true;
  } catch {
    return false;
  }
}

function filesPass(options: RunOptions, auditLog: string | undefined): boolean {
  try {
    refuseCollisions(runFiles(options, auditLog), 'not written');
    return true;
  } catch {
    return false;
  }
}
