import type { RunEvents } from '../engine/events.js';
import type { RunTally } from '../engine/tally.js';
import type { Console } from './console.js';
import { formatNextSteps, nextSteps, type ResumeNeeds } from './next-step.js';
import { formatSummary } from './summary.js';

export interface ConsoleReportContext {
  dryRun: boolean;
  /** A dry run that asks for each listed order (not a filter's, whose manifest is its selection): its resume takes only what it found. */
  checksOrders: boolean;
  /** A resume: its run's requests in flight when it stopped may have deleted orders it finds absent. */
  resumed: boolean;
  /** Duplicate rows in the input, for the summary. */
  duplicates: () => number;
  /** How the person started the tool, and what a resume needs: the next step is built from them. */
  next: ResumeNeeds & { command: string };
}

const SAMPLE = 5;
/** Absent orders named on the console; every one is in the audit log. */
const ABSENT_NAMED = 20;

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
  const absent: string[] = [];
  events
    .on('run.started', ({ auditLog }) => console.say(`Audit log: ${auditLog}`))
    .on('order.finished', ({ record }) => {
      if (record.outcome === 'would_delete' && sample.length < SAMPLE) sample.push(record.orderId);
      if (record.outcome === 'already_absent' && absent.length < ABSENT_NAMED) absent.push(record.orderId);
    })
    .on('run.ended', ({ outcome }) => {
      const { summary } = outcome;
      const fields = { event: 'run.summary', runId: outcome.runId, status: outcome.status, exitCode: outcome.exitCode, summary };
      if (outcome.exitCode === 3 && tally.finished === 0) {
        console.say(`Refused: ${outcome.reason ?? 'a guard said no'}`, 'warn', fields);
      } else {
        console.say(formatSummary(summary, {
          runId: outcome.runId, status: outcome.status, durationMs: outcome.durationMs, auditLog: outcome.auditLog, duplicates: context.duplicates(),
          dryRun: context.dryRun, checksOrders: context.checksOrders, causes: tally.causes,
        }), 'info', fields);
        if (outcome.reason) console.say(`${outcome.status === 'failed' ? 'Failed' : 'Stopped'}: ${outcome.reason}`, 'warn');
      }
      if (summary.alreadyAbsent > 0) console.say(absentText(summary.alreadyAbsent, absent, context, outcome.auditLog), 'warn');
      if (context.dryRun) {
        const unconfirmed = summary.failed + summary.pending;
        console.say(`Dry run: ${summary.wouldDelete} orders would be deleted, e.g. ${sample.join(', ') || '(none)'}.` +
          (context.checksOrders && unconfirmed > 0 ? ` ${unconfirmed} not confirmed (a check failed, or the run stopped first) are not among them: its resume leaves them out, a new dry run checks them.` : '') +
          (context.next.refusal ? ` A real run would be refused: ${context.next.refusal.reason}` : ''));
      }
      const steps = nextSteps({
        ...context.next, auditLog: outcome.auditLog, reportedLogs: [outcome.auditLog], status: outcome.status, exitCode: outcome.exitCode,
        dryRun: context.dryRun, resumed: context.resumed, wouldDelete: summary.wouldDelete, failed: summary.failed,
      });
      if (steps.length > 0) console.say(formatNextSteps(steps));
    });
}

/** The listed orders that were not there, named: a typo in a list must not pass for a deletion. */
function absentText(count: number, named: string[], { dryRun, resumed }: ConsoleReportContext, auditLog: string): string {
  const which = count > named.length ? `the first ${named.length}: ` : '';
  // A resume's: also deleted by the run it continues, its requests in flight when it stopped (their answers never recorded).
  const before = resumed ? 'deleted before, or by the stopped run\'s requests in flight' : 'or deleted before';
  return `${dryRun ? 'Not found' : 'Already absent'}: ${count} listed order${count === 1 ? '' : 's'} ${dryRun ? 'not in Exsited' : 'not there to delete'} ` +
    `(a typo in the list, ${before}?): ${which}${named.join(', ')}. Every one is in ${auditLog}, outcome already_absent.`;
}
