import { describe, expect, test } from '@jest/globals';
import { readLastChain } from '../src/audit/log-reader.js';
import type { AuditRecord } from '../src/audit/records.js';
import { readResumeState } from '../src/audit/resume-state.js';
import { buildRunReport } from '../src/report/run-report.js';
import { formatRunReport } from '../src/report/report-text.js';
import { storyJson, storyText } from '../src/report/run-story.js';
import { TimelineBuilder } from '../src/report/run-timeline.js';
import { workDir, writeFile } from './helpers/cli.js';
import { SOURCE } from './helpers/records.js';

const T0 = Date.parse('2026-11-28T10:00:00.000Z');
const line = (runId: string, s: number, fields: Record<string, unknown>) =>
  JSON.stringify({ level: 'info', time: new Date(T0 + s * 1000).toISOString(), runId, ...fields });
const start = (runId: string, s: number, resumeOf?: string, count = 4) =>
  line(runId, s, { event: 'run.start', version: '1', baseUrl: 'http://x', source: { ...SOURCE, count }, options: {}, ...(resumeOf ? { resumeOf } : {}) });
const order = (runId: string, s: number, orderId: string, outcome: string) =>
  line(runId, s, { event: 'order', orderId, outcome, httpStatus: outcome === 'failed' ? 409 : 204, attempts: 1, durationMs: 10 });
const end = (runId: string, s: number, status: string, exitCode: number) =>
  line(runId, s, { event: 'run.end', status, exitCode, durationMs: 1000, summary: { throttledMs: 5 } });

/**
 * A log with a run's lines before any fresh start (a resume of a run whose start is not in this log), an
 * earlier chain (a run and its resume), and the last chain (a run, killed, and its resume, killed too).
 */
const LOG = [
  start('x1', 0, 'gone'), order('x1', 1, 'A', 'deleted'),
  start('a1', 10, undefined, 9), order('a1', 11, 'A', 'deleted'), order('a1', 12, 'B', 'failed'), end('a1', 13, 'interrupted', 143),
  start('a2', 20, 'a1', 9), order('a2', 21, 'B', 'deleted'), end('a2', 22, 'completed', 0),
  start('b1', 60), order('b1', 61, 'A', 'failed'), order('b1', 62, 'C', 'deleted'),
  line('b1', 62, { event: 'order.retry', orderId: 'D', attempt: 1, httpStatus: 503, delayMs: 5 }), end('b1', 63, 'interrupted', 143),
  start('b2', 70, 'b1'), order('b2', 71, 'D', 'already_absent'), '{"level":"info","time":"2026-11-28T10:01:12',
].join('\n');

describe('the chain since the last fresh start', () => {
  test('the reader hands over the last chain whole, and counts what came before it', async () => {
    const path = writeFile(workDir(), 'a.ndjson', LOG);
    const read = await readLastChain(path, () => {
      const records: AuditRecord[] = [];
      return { records, record: (record: AuditRecord) => void records.push(record) };
    });
    expect(read.last.records.map((r) => [r.event, r.runId])).toEqual([
      ['run.start', 'b1'], ['order', 'b1'], ['order', 'b1'], ['order.retry', 'b1'], ['run.end', 'b1'], ['run.start', 'b2'], ['order', 'b2'],
    ]);
    expect(read.earlier).toEqual({ chains: 1, runs: 3 });
    expect(read.unreadableLines).toEqual([17]);
  });

  test('a resume whose run.start does not follow the run it resumes (a fresh run.start damaged between them) is refused, never read as a resume of the chain before', async () => {
    const damaged = [start('a1', 0), order('a1', 1, 'A', 'deleted'), end('a1', 2, 'completed', 0),
      '{"level":"info","event":"run.st', start('b2', 20, 'b1'), order('b2', 21, 'B', 'deleted')].join('\n');
    const path = writeFile(workDir(), 'a.ndjson', damaged);
    const message = `${path} line 5: run b2 resumes run b1, whose run.start is not the last one before it (that is run a1): the log was cut or damaged`;
    await expect(readResumeState(path)).rejects.toThrow(message);
    await expect(buildRunReport([path])).rejects.toThrow(message);
    // A later fresh run.start begins a chain of its own: what came before it is not its own, damaged or not.
    const later = writeFile(workDir(), 'c.ndjson', `${damaged}\n${start('c1', 30)}\n${order('c1', 31, 'C', 'deleted')}`);
    expect(await readResumeState(later)).toMatchObject({ resumeOf: 'c1', earlierChains: 1 });
  });

  test('the lines of a run whose fresh run.start was damaged are never taken for the chain before\'s: a dry run\'s finds would have become its resume\'s to delete', async () => {
    const dryStart = (runId: string, s: number) => line(runId, s, { event: 'run.start', version: '1', baseUrl: 'http://x', source: { ...SOURCE, count: 4 }, options: { dryRun: true } });
    const damaged = [dryStart('a1', 0), order('a1', 1, 'A', 'would_delete'), end('a1', 2, 'interrupted', 130),
      '{"level":"info","event":"run.st', order('b1', 11, 'B', 'would_delete'), order('b1', 12, 'C', 'deleted')].join('\n');
    const path = writeFile(workDir(), 'a.ndjson', damaged);
    const message = `${path} line 5: a record of run b1, whose run.start is not in the log before it (the last one is run a1's): the log was cut or damaged`;
    await expect(readResumeState(path)).rejects.toThrow(message);
    await expect(buildRunReport([path])).rejects.toThrow(message);
    // A run's lines after its resume's run.start (a run that outlived its lock) are still the chain's own.
    const late = writeFile(workDir(), 'b.ndjson', [start('a1', 0), order('a1', 1, 'A', 'failed'), start('a2', 10, 'a1'), order('a1', 11, 'A', 'deleted'), order('a2', 12, 'B', 'deleted')].join('\n'));
    expect([...((await readResumeState(late))?.finished ?? [])].sort()).toEqual(['A', 'B']);
  });

  test('a night that continued a dry run, then ran the same list anew: each order counted once, none pending, told as a resume and a new run (red team: 20 orders were told as 32, 12 "not yet done")', async () => {
    const dir = workDir();
    const dry = writeFile(dir, 'a.ndjson', [
      line('d1', 0, { event: 'run.start', version: '1', baseUrl: 'http://x', source: { ...SOURCE, count: 4 }, options: { dryRun: true } }),
      order('d1', 1, 'A', 'would_delete'), // killed after one check
      start('d2', 10, 'd1'), order('d2', 11, 'A', 'deleted'), end('d2', 12, 'completed', 0),
    ].join('\n'));
    const anew = writeFile(dir, 'b.ndjson', [
      start('n1', 20), order('n1', 21, 'A', 'already_absent'), order('n1', 21, 'B', 'deleted'), order('n1', 21, 'C', 'deleted'), order('n1', 21, 'D', 'deleted'),
      end('n1', 22, 'completed', 0),
    ].join('\n'));
    const report = await buildRunReport([dry, anew]);
    expect(report).toMatchObject({ selected: 4, deleted: 4, alreadyAbsent: 0, pending: 0 });
    expect(storyText(report)).toBe('a dry run of 4, then 4 deleted in 1 resume and 1 new run (2 audit logs)');
  });

  test('the orders a dry run of a list never checked are told as not checked, left out by its resume, never as pending or "resume to continue" (red team)', async () => {
    const dir = workDir();
    const dryStart = line('d1', 0, { event: 'run.start', version: '1', baseUrl: 'http://x', source: { ...SOURCE, count: 4 }, options: { dryRun: true } });
    const killed = writeFile(dir, 'a.ndjson', [dryStart, order('d1', 1, 'A', 'would_delete')].join('\n'));
    const notChecked = '  not checked    3 (the dry run stopped before them: its resumes leave them out, a new dry run checks them)';
    const dryOnly = await buildRunReport([killed]);
    expect(dryOnly).toMatchObject({ selected: 4, wouldDelete: 1, pending: 0, notChecked: 3 });
    expect(formatRunReport(dryOnly, 'x')).toContain(notChecked);
    expect(storyJson(dryOnly).counts).toMatchObject({ pending: 0, notChecked: 3 });
    const resumed = writeFile(dir, 'b.ndjson', [dryStart, order('d1', 1, 'A', 'would_delete'), start('d2', 10, 'd1'), order('d2', 11, 'A', 'deleted'), end('d2', 12, 'completed', 0)].join('\n'));
    const report = await buildRunReport([resumed]);
    const text = formatRunReport(report, 'x');
    expect(text).toContain(notChecked);
    expect(text).toContain('  pending        0\n');
    expect(text).not.toContain('resume to continue');
    // One truth for scripts too: the summary JSON's pending is a resume's work, and these are none of it (red team: "229 not yet done").
    expect(storyJson(report)).toMatchObject({ story: 'a dry run of 4, then 1 deleted in 1 resume, 3 not checked', counts: { pending: 0, notChecked: 3 }, unfinished: false });
    // A resume stopped in turn: what the dry run found and the resume did not reach is pending; the unchecked still are not.
    const stopped = writeFile(dir, 'c.ndjson', [dryStart, order('d1', 1, 'A', 'would_delete'), order('d1', 1, 'B', 'would_delete'), start('d2', 10, 'd1'), order('d2', 11, 'A', 'deleted')].join('\n'));
    expect(await buildRunReport([stopped])).toMatchObject({ deleted: 1, pending: 1, notChecked: 2, unfinished: true });
  });

  test('several logs, the last a dry run of a list stopped part way: the first log\'s unfinished orders stay pending, never told as the dry run\'s unchecked (red team)', async () => {
    const dir = workDir();
    const real = writeFile(dir, 'a.ndjson', [start('a1', 0), order('a1', 1, 'A', 'deleted')].join('\n')); // killed: 3 of 4 not reached
    const dry = writeFile(dir, 'b.ndjson', [line('b1', 10, { event: 'run.start', version: '1', baseUrl: 'http://x', source: { ...SOURCE, sha256: 'b'.repeat(64), count: 3 }, options: { dryRun: true } }),
      order('b1', 11, 'E', 'would_delete')].join('\n'));
    expect(await buildRunReport([dry])).toMatchObject({ selected: 3, pending: 0, notChecked: 2 });
    const both = await buildRunReport([real, dry]);
    expect(both).toMatchObject({ selected: 5, deleted: 1, wouldDelete: 0, pending: 4, notChecked: 0 }); // B's find is its resume's work
  });

  test('a run, then a dry resume: what is left is pending, and the chain unfinished, never "every order gone" (red team)', async () => {
    const dryResume = line('a2', 10, { event: 'run.start', version: '1', baseUrl: 'http://x', source: { ...SOURCE, count: 4 }, options: { dryRun: true }, resumeOf: 'a1' });
    const path = writeFile(workDir(), 'a.ndjson', [start('a1', 0), order('a1', 1, 'A', 'deleted'), dryResume, order('a2', 11, 'B', 'would_delete'), end('a2', 12, 'completed', 0)].join('\n'));
    const report = await buildRunReport([path]);
    expect(report).toMatchObject({ deleted: 1, wouldDelete: 0, pending: 3, unfinished: true });
    expect(storyText(report)).toBe('1 of 4 deleted, 3 not yet done, in 2 runs');
  });

  test('an order a run deleted stays deleted whatever a later run heard of it (red team: a later 503 told it as failed)', async () => {
    const dir = workDir();
    const first = writeFile(dir, 'a.ndjson', [start('a1', 0, undefined, 2), order('a1', 1, 'A', 'deleted'), order('a1', 1, 'B', 'deleted'), end('a1', 2, 'completed', 0)].join('\n'));
    const later = writeFile(dir, 'b.ndjson', [start('b1', 10, undefined, 2), order('b1', 11, 'A', 'failed'), order('b1', 11, 'B', 'already_absent'), end('b1', 12, 'failed', 1)].join('\n'));
    expect(await buildRunReport([first, later])).toMatchObject({ selected: 2, deleted: 2, failed: 0, alreadyAbsent: 0 });
  });

  test('a log with two chains is read the same way by the resume, the report and the timeline: the last chain only', async () => {
    const path = writeFile(workDir(), 'a.ndjson', LOG);
    const resume = await readResumeState(path);
    const timeline = new TimelineBuilder();
    const report = await buildRunReport([path], timeline);
    const { segments, latency, series } = timeline.finish();

    expect(resume).toMatchObject({ resumeOf: 'b2', earlierChains: 1, lastEnd: undefined, unreadableLines: [17] });
    expect([...(resume?.finished ?? [])].sort()).toEqual(['C', 'D']); // A failed in this chain; B is another chain's
    expect(report.runs.map((run) => run.runId)).toEqual(['b1', 'b2']);
    expect(report).toMatchObject({ selected: 4, deleted: 1, alreadyAbsent: 1, failed: 1, pending: 1, retries: 1, throttledMs: 5, earlierRuns: 3, unreadableLines: 1 });
    expect(report.failedOrders.map((failed) => failed.orderId)).toEqual(['A']);
    expect(segments.map((segment) => [segment.runId, segment.status])).toEqual([['b1', 'interrupted'], ['b2', null]]);
    expect(latency.orders).toBe(3);
    expect(series.totals).toMatchObject({ deleted: 1, alreadyAbsent: 1, failed: 1 });
  });
});
