import { statSync, type Stats } from 'node:fs';
import type { ExitCode } from '../common/errors.js';
import { replacesFile } from '../common/output-files.js';
import type { RunStartFields } from '../common/records.js';
import { VERSION } from '../common/version.js';
import type { RunOptions } from '../config/resolve.js';
import type { RunOutcome } from '../engine/events.js';
import type { KnownEnd, RunReport } from '../report/run-report.js';
import { nightEnd, storyOfEnd, storyText, type StoryEnd } from '../report/run-story.js';
import type { RunContext } from './context.js';

/** The metrics of the run, as report/metrics gives them. */
interface Metrics {
  end: (story: RunReport, end: StoryEnd) => void;
  flush: () => Promise<void>;
}

/** What the telling needs of the recorded run. */
export interface Recorded {
  auditLog: string;
  runId: string;
  startedAt: number;
  options: RunOptions;
  /** A resume: its console sums up the chain. */
  resume: boolean;
  fields: () => RunStartFields;
  metrics: Metrics | undefined;
}

/**
 * Phase 5: a recorded run told (report/run-story). As it ends, at once, its own story from its events — the
 * summary JSON and the metrics — so that a second signal, a read-back cut short or one that cannot be made
 * never leaves an earlier run's file looking current. Then the story of the chain (and of an --auto-resume
 * night) read back once from the audit log(s), only when that log is still the file the journal wrote and
 * ends with this run (a log replaced meanwhile, by a FIFO, a device or another log, tells another story, or
 * none), and the journal wrote it whole: the summary files again, the step summary, the page, the last
 * metrics, and a console line for a chain.
 */
export class RunTelling {
  private early: Promise<void> = Promise.resolve();
  private logFile: Stats | undefined;

  constructor(private readonly run: Recorded, private readonly context: RunContext) {}

  /** When the journal has opened the log: the file the story is read back from must be this one. */
  recording(): void {
    this.logFile = statOf(this.run.auditLog);
  }

  /** As run.end is written: the run's own story, told at once. */
  ended(outcome: RunOutcome): void {
    const story = this.ownStory(outcome);
    const end = { status: outcome.status, exitCode: outcome.exitCode, cause: outcome.stopCause, ...(outcome.reason ? { reason: outcome.reason } : {}) };
    this.run.metrics?.end(story, end);
    const { summaryJson } = this.run.options;
    // A stream's reader (a pipe, /dev/stdout) reads one JSON: it gets the whole story, later, once.
    if (!summaryJson || !replacesFile(summaryJson)) return;
    this.early = import('../report/summary-files.js').then(({ writeSummaryFiles }) => writeSummaryFiles(this.context.console, { json: summaryJson }, story, end));
    this.context.control.summaryWritten = this.early;
  }

  /**
   * The story of the chain and the night, told everywhere. `journalWhole`: every line reached the log (a full
   * disk, a run.end that could not be written: the log undercounts, and the run's own count is told).
   */
  async told(outcome: RunOutcome, ended: KnownEnd, journalWhole: boolean): Promise<void> {
    const { options, auditLog } = this.run;
    const { console, night, control } = this.context;
    const logs = [...(night?.logs ?? []), auditLog];
    // Read back only when something tells it: an output asked for, or a chain of runs (a resume, a night) the console sums up.
    if (!(options.summaryJson || options.stepSummary || options.htmlReport || this.run.metrics || this.run.resume || night)) return;
    const full = this.readBack(logs, ended, journalWhole);
    control.summaryWritten = full.then(() => undefined, () => undefined);
    const { story, end, timeline } = await full.then(async (read) => {
      const story = read?.story ?? this.ownStory(outcome);
      const end = nightEnd(story, ended);
      control.endedWith = end.exitCode as ExitCode; // a night's: the process's from now on
      if (night) Object.assign(night, { logs, story, exitCode: end.exitCode });
      if (story.runs.length > 1) console.say(`All told: ${storyText(story)}.`);
      await this.early; // the early summary is renamed into place first, never after this one
      const { writeSummaryFiles } = await import('../report/summary-files.js');
      // The page is named only when it is made: a log that could not be read back makes none.
      const htmlReport = read?.timeline ? options.htmlReport : undefined;
      await writeSummaryFiles(console, { json: options.summaryJson, stepSummary: options.stepSummary, htmlReport }, story, end);
      return { story, end, timeline: read?.timeline };
    });
    if (options.htmlReport && timeline) {
      const { writeRunPage } = await import('../report/report-files.js');
      await writeRunPage(story, timeline, options.htmlReport, { command: this.context.command, version: VERSION }, console);
    }
    this.run.metrics?.end(story, end);
  }

  /** The logs read back, when they can tell this run: undefined (said) when they cannot. */
  private async readBack(logs: string[], ended: KnownEnd, journalWhole: boolean) {
    const { console } = this.context;
    const { auditLog, runId, options } = this.run;
    const page = options.htmlReport ? ` No page was made (${this.context.command} report ${auditLog} --html makes it once the log is whole).` : '';
    const why = !journalWhole ? 'it could not be written whole'
      : !sameFile(this.logFile, statOf(auditLog)) ? 'it was replaced during the run'
        : logs.slice(0, -1).some((log) => !statOf(log)?.isFile()) ? 'the log of the run resumed first is gone or not a file' : undefined;
    if (why) {
      console.say(`The audit log ${auditLog} cannot tell this run's story: ${why}. The summary files and the metrics tell this run's own counts.${page}`, 'warn');
      return undefined;
    }
    const { readRunStory } = await import('../report/report-files.js');
    const read = await readRunStory(logs, ended, console, options.htmlReport !== undefined);
    if (read && read.story.runs.at(-1)?.runId !== runId) {
      console.say(`The audit log ${auditLog} no longer ends with this run (${runId}): the summary files and the metrics tell this run's own counts.${page}`, 'warn');
      return undefined;
    }
    return read;
  }

  private ownStory(outcome: RunOutcome): RunReport {
    return storyOfEnd(outcome, { at: this.run.startedAt, fields: this.run.fields() });
  }
}

const statOf = (path: string): Stats | undefined => {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
};

const sameFile = (a: Stats | undefined, b: Stats | undefined) => !!a && !!b && b.isFile() && a.dev === b.dev && a.ino === b.ino;
