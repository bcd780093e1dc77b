import type { RunStartRecord } from '../audit/records.js';
import type { RunStatus } from '../common/domain.js';
import { holdsControl, shellQuote } from '../common/text.js';
import { guardRefusal, type GuardRefusal } from '../guards/limits.js';

/** What a resume needs besides its log, as the run recorded it: without it, a resume is refused where the run went through. */
export interface ResumeNeeds {
  /** The --allow-host values the run was given: a resume without them is refused on a custom host. */
  allowHosts: readonly string[];
  /** Consent given with --yes: the resume is given it the same way. */
  yes: boolean;
  /** A guard refused the run (or would refuse a real one, for a dry run); `raiseMaxDeletesTo` when --max-deletes can let it through. */
  refusal?: GuardRefusal;
  /**
   * The run recorded its input file as a path with a control character (an older version did): a resume
   * never opens it as it is, and asks for the same file again with --ids.
   */
  idsAgain?: boolean;
}

/** What the next step is decided from: the console's run as it ends, or the report's latest run as its log tells it. */
export interface NextStepFacts extends ResumeNeeds {
  /** How the person started this tool: the commands start the same way. */
  command: string;
  /** The log a resume continues. */
  auditLog: string;
  /** The logs whose failed orders --failed-csv lists: the report's, or the run's own. */
  reportedLogs: readonly string[];
  /** How the latest run ended; null: it has no run.end (killed). */
  status: RunStatus | null;
  exitCode: number | null;
  dryRun: boolean;
  /** The latest run is a resume: a dry resume's finds are not what the real resume deletes (that was decided when the run began). */
  resumed?: boolean;
  wouldDelete: number;
  failed: number;
  /** Of the failed, those whose check failed in a dry run of a list: its resumes leave them out. */
  failedChecksLeftOut?: number;
  /** Orders a resume would take (the report's: after a dry resume its finds are pending, not "would delete"). */
  pending?: number;
}

/** One step: what it does, and the command that does it. */
export interface NextStep {
  what: string;
  command: string;
}

/** What a resume of the run that `start` recorded needs (logs written before `yes` was recorded: without it). */
export function resumeNeedsOf(start: RunStartRecord): ResumeNeeds {
  const { allowHosts, yes, maxDeletes } = start.options;
  const pending = start.source.count - (start.skipped ?? 0);
  let host = start.baseUrl;
  try {
    host = new URL(start.baseUrl).host;
  } catch {
    // An edited log: the host as written.
  }
  const refusal = typeof maxDeletes === 'number' ? guardRefusal(start.source, host, pending, maxDeletes) : undefined;
  return {
    allowHosts: Array.isArray(allowHosts) ? allowHosts.filter((h): h is string => typeof h === 'string') : [],
    yes: yes === true,
    ...(refusal ? { refusal } : {}),
    ...(start.source.kind !== 'filter' && holdsControl(start.source.path) ? { idsAgain: true } : {}),
  };
}

/**
 * What to do next, if anything, each step a command to copy: the console's at a run's end, the text
 * report's and the HTML page's, all from the same facts. The resume carries what the run was given
 * (--allow-host, --yes), and --max-deletes where a guard refused it and raising the limit lets it through.
 */
export function nextSteps(f: NextStepFacts): NextStep[] {
  const steps = stepsOf(f);
  return f.idsAgain
    ? steps.map((step) => (step.command.endsWith(' --ids FILE') ? { ...step, what: `${step.what} (FILE: the run's input file, named again: the run recorded its path with a control character; its sha256 is checked)` } : step))
    : steps;
}

function stepsOf(f: NextStepFacts): NextStep[] {
  const resume = (...extra: string[]) => [
    `${f.command} run --resume --audit-log ${shellQuote(f.auditLog)}`,
    ...f.allowHosts.map((host) => `--allow-host ${shellQuote(host)}`),
    ...(f.yes ? ['--yes'] : []),
    ...extra,
    // FILE: the person names it (the resume checks its sha256); said beside the step.
    ...(f.idsAgain ? ['--ids FILE'] : []),
  ].join(' ');
  // Resuming helps past a refusal only where the person can lift the guard (--max-deletes).
  const lift = f.refusal?.raiseMaxDeletesTo === undefined ? [] : [`--max-deletes ${f.refusal.raiseMaxDeletesTo}`];
  if (f.dryRun && f.resumed) {
    // Its failed checks too: the real resume sends those orders (red team: no step, and --auto-resume deleted them).
    return f.wouldDelete + (f.pending ?? 0) + f.failed > 0 && (!f.refusal || lift.length > 0)
      ? [{ what: 'To go on with the run (it deletes what the run set out to delete and has not finished — after a dry run of a list, what that dry run found —, whatever this dry resume checked)', command: resume(...lift) }] : [];
  }
  if (f.dryRun) return f.wouldDelete > 0 && (!f.refusal || lift.length > 0) ? [{ what: 'To delete exactly these', command: resume(...lift) }] : [];
  if (f.exitCode === 3) return lift.length > 0 ? [{ what: 'If the selection is right, raise the limit and go ahead', command: resume(...lift) }] : [];
  if (f.status === 'crashed') return [{ what: 'A bug in this tool stopped the run; the audit log is intact. Once it is fixed, the run resumes with', command: resume() }];
  if (f.status === null || f.status === 'interrupted' || f.status === 'halted') return [{ what: 'To resume', command: resume() }];
  if (f.failed > 0) {
    // A failed check of a list's dry run is left out by its resumes (never confirmed): a resume would not try it again (red team).
    const checks = f.failedChecksLeftOut ?? 0;
    const list = { what: 'To list them (as a CSV that --ids takes)', command: failedCsvCommand(f.command, f.reportedLogs) };
    if (checks === f.failed) return [{ ...list, what: `Their checks failed in the dry run, and its resumes leave them out: to list them (as a CSV that --ids takes), for a new dry run` }];
    return [
      { what: checks > 0 ? `To try the failed deletions again (the ${checks} whose check failed in the dry run are left out)` : 'To try the failed orders again', command: resume() },
      list,
    ];
  }
  return [];
}

/** The command that writes the failed orders of `logs` as a CSV that --ids takes. */
export const failedCsvCommand = (command: string, logs: readonly string[]): string => `${command} report ${logs.map(shellQuote).join(' ')} --failed-csv failed.csv`;

/** The steps as the console and the text report print them: each command on a line of its own. */
export const formatNextSteps = (steps: readonly NextStep[]): string => steps.map((s) => `${s.what}:\n  ${s.command}`).join('\n');
