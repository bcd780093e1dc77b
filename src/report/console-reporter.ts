import type { RunEvents } from '../engine/events.js';
import type { RunTally } from '../engine/tally.js';
import type { Console } from './console.js';
import { formatSummary } from './summary.js';

export interface ConsoleReportContext {
  /** Duplicate rows in the input, for the summary. */
  duplicates: () => number;
  /** The command that resumes this run, as a person would type it. */
  resumeCommand: string;
  dryRun: boolean;
  /** For a dry run: why a real run would be refused, if it would. */
  wouldBeRefused?: string;
}

const SAMPLE = 5;

/** Notices (warnings, steps) as they come: subscribed before the run has its counts. */
export function reportNotices(events: RunEvents, console: Console): void {
  events.on('notice', ({ level, text }) => console.say(text, level));
}

/**
 * What a person reads about a run on the console: its notices, where its audit log is, the summary at
 * the end, why it stopped, and the next step. A subscriber to the run's events: it does nothing else.
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
      console.say(formatSummary(summary, {
        runId: outcome.runId, status: outcome.status, durationMs: outcome.durationMs, auditLog: outcome.auditLog, duplicates: context.duplicates(),
        firstFailures: tally.firstFailures, failuresNotShown: summary.failed - tally.firstFailures.length,
      }), 'info', { event: 'run.summary', runId: outcome.runId, status: outcome.status, exitCode: outcome.exitCode, summary });
      if (outcome.reason) console.say(`Stopped: ${outcome.reason}`, 'warn');
      if (context.dryRun) {
        console.say(`Dry run: ${summary.wouldDelete} orders would be deleted, e.g. ${sample.join(', ') || '(none)'}.` +
          (context.wouldBeRefused ? ` A real run would be refused: ${context.wouldBeRefused}` : '') +
          ` To delete exactly these: ${context.resumeCommand}`);
      }
      if (outcome.exitCode !== 0) console.say(`To resume: ${context.resumeCommand}`);
    });
}
