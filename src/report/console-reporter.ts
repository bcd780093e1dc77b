import type { RunEvents } from '../engine/events.js';
import type { RunTally } from '../engine/tally.js';
import type { Console } from './console.js';
import { formatNextSteps, nextSteps, type ResumeNeeds } from './next-step.js';
import { formatSummary } from './summary.js';

export interface ConsoleReportContext {
  dryRun: boolean;
  /** Duplicate rows in the input, for the summary. */
  duplicates: () => number;
  /** How the person started the tool, and what a resume needs: the next step is built from them. */
  next: ResumeNeeds & { command: string };
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
      const steps = nextSteps({
        ...context.next, auditLog: outcome.auditLog, reportedLogs: [outcome.auditLog], status: outcome.status, exitCode: outcome.exitCode,
        dryRun: context.dryRun, wouldDelete: summary.wouldDelete, failed: summary.failed,
      });
      if (steps.length > 0) console.say(formatNextSteps(steps));
    });
}
