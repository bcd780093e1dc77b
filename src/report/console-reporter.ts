import type { RunStatus } from '../common/domain.js';
import { shellQuote } from '../common/text.js';
import type { RunEvents, RunOutcome } from '../engine/events.js';
import type { RunTally } from '../engine/tally.js';
import type { Console } from './console.js';
import { formatSummary } from './summary.js';

/** What the next step of a run is built from. */
interface NextSteps {
  /** How the person started the tool: the printed commands start the same way. */
  command: string;
  auditLog: string;
  options: { allowHost: string[]; yes: boolean; maxDeletes: number };
  /** Why a guard refused the run (recorded, or said by a dry run), and the --max-deletes that would let it through. */
  refusal?: { reason: string; raiseMaxDeletesTo?: number };
}

export interface ConsoleReportContext {
  dryRun: boolean;
  /** Duplicate rows in the input, for the summary. */
  duplicates: () => number;
  next: NextSteps;
}

const SAMPLE = 5;

/** Notices (warnings, steps) as they come: subscribed before the run has its counts. */
export function reportNotices(events: RunEvents, console: Console): void {
  events.on('notice', ({ level, text }) => console.say(text, level));
}

/**
 * What a person reads about a run on the console: where its audit log is, the summary at the end (one
 * line for a run refused before it deleted anything), why it stopped, and the next step, each command on
 * a line of its own. A subscriber to the run's events: it does nothing else.
 */
export function reportToConsole(events: RunEvents, console: Console, tally: RunTally, context: ConsoleReportContext): void {
  const sample: string[] = [];
  events
    .on('run.started', ({ auditLog }) => console.say(`Audit log: ${auditLog}`))
    .on('order.finished', ({ record }) => {
      if (record.outcome === 'would_delete' && sample.length < SAMPLE) sample.push(record.orderId);
    })
    .on('run.ended', ({ outcome }) => {
      const { summary } = outcome;
      const fields = { event: 'run.summary', runId: outcome.runId, status: outcome.status, exitCode: outcome.exitCode, summary };
      if (outcome.exitCode === 3 && tally.finished === 0) {
        console.say(`Refused: ${outcome.reason ?? 'a guard said no'}`, 'warn', fields);
      } else {
        console.say(formatSummary(summary, {
          runId: outcome.runId, status: outcome.status, durationMs: outcome.durationMs, auditLog: outcome.auditLog, duplicates: context.duplicates(),
          dryRun: context.dryRun, causes: tally.causes,
        }), 'info', fields);
        if (outcome.reason) console.say(`Stopped: ${outcome.reason}`, 'warn');
      }
      if (context.dryRun) {
        console.say(`Dry run: ${summary.wouldDelete} orders would be deleted, e.g. ${sample.join(', ') || '(none)'}.` +
          (context.next.refusal ? ` A real run would be refused: ${context.next.refusal.reason}` : ''));
      }
      const step = nextStep(outcome, context);
      if (step) console.say(step);
    });
}

/** What to do next, as commands to copy, each on a line of its own; undefined when there is nothing to do. */
function nextStep(outcome: Pick<RunOutcome, 'status' | 'exitCode'> & { summary: { wouldDelete: number; failed: number } }, context: ConsoleReportContext): string | undefined {
  const { command, auditLog, options, refusal } = context.next;
  const resume = (...extra: string[]) => [
    `${command} run --resume --audit-log ${shellQuote(auditLog)}`,
    ...options.allowHost.map((host) => `--allow-host ${shellQuote(host)}`),
    ...(options.yes ? ['--yes'] : []),
    ...extra,
  ].join(' ');
  const status: RunStatus = outcome.status;
  // Resuming helps past a refusal only where the person can lift the guard (--max-deletes).
  const lift = refusal?.raiseMaxDeletesTo === undefined ? [] : [`--max-deletes ${refusal.raiseMaxDeletesTo}`];
  if (context.dryRun) return outcome.summary.wouldDelete > 0 && (!refusal || lift.length > 0) ? `To delete exactly these:\n  ${resume(...lift)}` : undefined;
  if (outcome.exitCode === 3) return lift.length > 0 ? `If the selection is right, raise the limit and go ahead:\n  ${resume(...lift)}` : undefined;
  if (status === 'failed') {
    return `To try the failed orders again:\n  ${resume()}\nTo list them (as a CSV that --ids takes):\n  ${command} report ${shellQuote(auditLog)} --failed-csv failed.csv`;
  }
  if (status === 'crashed') return `A bug in this tool stopped the run; the audit log is intact. Once it is fixed, the run resumes with:\n  ${resume()}`;
  if (status === 'interrupted' || status === 'halted') return `To resume:\n  ${resume()}`;
  return undefined;
}
