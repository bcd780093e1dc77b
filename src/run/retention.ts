import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { logsIn, type LogEntry } from '../audit/latest-log.js';
import { lockPathOf } from '../audit/run-lock.js';
import { humanDuration } from '../common/durations.js';
import { describeFileError } from '../common/files.js';
import { manifestPathOf } from '../planner/input.js';
import type { Console } from '../report/console.js';

/**
 * --keep-for: after the run (and its reports), the logs in its audit folder of runs that finished on their
 * own (completed or failed: nothing left for a resume) longer ago than `keepForMs` are deleted, each with
 * its manifest. Never one that a resume or a person may still need: unfinished (killed, interrupted,
 * halted), crashed, a completed dry run (its resume deletes what it reviewed), one whose run is going (its
 * lock), one this process just wrote, or a file that is not a log of this tool. A file that cannot be
 * deleted is said and left; the run's exit code does not change. Returns the paths deleted.
 */
export async function pruneFinishedLogs(dir: string, keepForMs: number, written: readonly string[], console: Console, now = Date.now()): Promise<string[]> {
  const logs = await logsIn(dir);
  const doomed = logs.filter((entry) => prunable(entry, keepForMs, written, now));
  // A kept run may read a pruned run's manifest as its input (--ids runs/X.manifest.csv): that manifest stays.
  const inputs = new Set(logs.filter((entry) => !doomed.includes(entry)).map((entry) => inputOf(entry)).filter((path): path is string => !!path));
  const pruned: string[] = [];
  for (const entry of doomed) {
    try {
      const manifest = manifestPathOf(entry.path);
      if (!inputs.has(resolve(manifest))) rmSync(manifest, { force: true });
      // The IDs a run read from stdin, spooled beside its log (`<log>.<runId>.stdin`): nothing else reads them.
      for (const name of readdirSync(dirname(entry.path))) {
        if (name.startsWith(`${basename(entry.path)}.`) && name.endsWith('.stdin')) rmSync(join(dirname(entry.path), name), { force: true });
      }
      rmSync(entry.path);
      pruned.push(entry.path);
    } catch (error) {
      console.say(`--keep-for: ${entry.path} could not be deleted (${describeFileError(error)}); it is left`, 'warn');
    }
  }
  if (pruned.length > 0) {
    console.say(`--keep-for ${humanDuration(keepForMs)}: deleted ${pruned.length} audit log${pruned.length === 1 ? '' : 's'} of runs that finished before then, with their manifests.`);
  }
  return pruned;
}

/** The input file a log's run read, where it is (relative to the run's working directory). */
function inputOf(entry: LogEntry): string | undefined {
  const path = entry.start?.source.path;
  if (!path) return undefined;
  return resolve(entry.start?.cwd ?? '.', path);
}

function prunable(entry: LogEntry, keepForMs: number, written: readonly string[], now: number): boolean {
  const { start, end } = entry;
  if (!start || !end || written.includes(entry.path)) return false;
  if (end.status !== 'completed' && end.status !== 'failed') return false;
  if ((end.dryRun ?? start.options.dryRun) === true) return false;
  const endedAt = Date.parse(end.time);
  if (!Number.isFinite(endedAt) || now - endedAt <= keepForMs) return false;
  return !existsSync(lockPathOf(entry.path));
}
