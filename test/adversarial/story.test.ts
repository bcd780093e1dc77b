import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { buildRunReport } from '../../src/report/run-report.js';
import { storyJson } from '../../src/report/run-story.js';
import { writeSummaryFiles } from '../../src/report/summary-files.js';
import { Console } from '../../src/report/console.js';
import { credentialsEnv, fakeApi, FAST, runCli, runInProcess, startCli, untilDeletes, workDir, writeFile } from '../helpers/cli.js';

/**
 * The red team's round on "one story of a run" (issue 23): the read-back of the audit log as a run ends,
 * and the story told from it, each hole with its test.
 */
let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
/** The console's summary row `label  N`. */
const row = (log: string, label: string) => Number(new RegExp(`^\\s+${label}\\s+(\\d+)`, 'm').exec(log)?.[1]);

describe('the story as a run ends', () => {
  test.each([
    ['a FIFO', (log: string) => execFileSync('mkfifo', [log])],
    ['a device', (log: string) => symlinkSync('/dev/zero', log)],
    ['another run\'s log', (log: string, other: string) => {
      copyFileSync(other, `${log}.new`);
      renameSync(`${log}.new`, log);
    }],
  ])('the log replaced by %s during the run: the run ends with its own exit code and its own counts, never hangs nor tells another story', async (_what, replace) => {
    const api = await fakeApi(80, { faults: { latencyMs: 20 } });
    fake = api.fake;
    const dir = workDir();
    const other = join(dir, 'other.ndjson');
    expect((await runInProcess(['run', '--yes', '--ids', writeFile(dir, 'o.txt', api.orders.slice(0, 3).map((o) => o.id).join('\n')), '--audit-log', other], { env: credentialsEnv(fake) })).code).toBe(0);
    const log = join(dir, 'a.ndjson');
    const summary = writeFile(dir, 's.json', '{"stale": "an earlier run"}');
    const run = startCli(['run', '--yes', '--ids', writeFile(dir, 'ids.txt', api.orders.slice(3).map((o) => o.id).join('\n')), '--audit-log', log,
      '--concurrency', '2', '--summary-json', summary], { env: credentialsEnv(fake) });
    await untilDeletes(fake, 8);
    rmSync(log);
    replace(log, other);
    const result = await run.done;

    expect(result.code).toBe(0);
    expect(result.log).toMatch(/cannot tell this run's story: it was replaced during the run/);
    expect(json(summary)).toMatchObject({ status: 'completed', exitCode: 0, counts: { selected: 77, deleted: row(result.log, 'deleted') } });
  });

  test('an --auto-resume night of an ID list: the new run finds absent what the resumed run deleted; the night still tells them deleted', async () => {
    const api = await fakeApi(120, { faults: { latencyMs: 10 } });
    fake = api.fake;
    const dir = workDir();
    const ids = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const out = join(dir, 's.json');
    const job = writeFile(dir, 'job.json', JSON.stringify({ ids, auditDir: join(dir, 'runs'), autoResume: true, yes: true, concurrency: 2, summaryJson: out }));
    const killed = startCli(['run', '--job', job, ...FAST], { env: credentialsEnv(fake) });
    await untilDeletes(fake, 10);
    killed.child.kill('SIGKILL');
    await killed.done;
    const night = await runCli(['run', '--job', job, ...FAST], { env: credentialsEnv(fake) });

    expect(night.code).toBe(0);
    expect(fake.orders.size).toBe(0);
    const { counts } = json(out);
    // Every order gone; those the killed run deleted without its line are already absent, none of the rest.
    expect(counts.deleted + counts.alreadyAbsent).toBe(120);
    expect(counts.deleted).toBeGreaterThanOrEqual(110);
  });

  test('a dry run, then its resume stopped by SIGTERM: what the dry run found and the resume has not deleted is pending, as the console said', async () => {
    const api = await fakeApi(200, { faults: { latencyMs: 20 } });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    expect((await runInProcess(['run', '--yes', '--dry-run', '--ids', input, '--audit-log', log], { env: credentialsEnv(fake) })).code).toBe(0);
    const out = join(dir, 's.json');
    const resume = startCli(['run', '--yes', '--resume', '--audit-log', log, '--concurrency', '1', '--summary-json', out], { env: credentialsEnv(fake) });
    await untilDeletes(fake, 5);
    resume.child.kill('SIGTERM');
    const result = await resume.done;
    expect(result.code).toBe(143);

    const summary = json(out);
    expect(summary.counts.pending).toBe(row(result.log, 'pending'));
    expect(summary.counts.pending).toBeGreaterThan(0);
    expect(summary.counts.deleted + summary.counts.pending).toBe(200);
    expect(summary.story).toMatch(new RegExp(`^a dry run of 200, then ${summary.counts.deleted} deleted in 1 resume, ${summary.counts.pending} not yet done$`));
    const reported = JSON.parse((await runInProcess(['report', log, '--json'])).stdout) as Record<string, any>;
    expect(reported.counts).toEqual(summary.counts);
  });

  test('the run\'s working time and rate are the console\'s, not its lines\' span', async () => {
    const api = await fakeApi(30);
    fake = api.fake;
    const dir = workDir();
    const log = join(dir, 'a.ndjson');
    const out = join(dir, 's.json');
    const result = await runInProcess(['run', '--yes', '--ids', writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n')), '--audit-log', log, '--summary-json', out],
      { env: credentialsEnv(fake) });
    const end = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>).at(-1)!;
    expect(json(out)).toMatchObject({ durationMs: end.durationMs, counts: { ratePerSecond: end.summary.ratePerSecond } });
    expect(result.log).toContain(`rate           ${(end.summary.ratePerSecond as number).toFixed(1)} orders/s`);
  });
});

describe('the story\'s shapes', () => {
  test('a log whose last line\'s time is not a time: report --json still reports (it crashed with exit 70)', async () => {
    const dir = workDir();
    const log = writeFile(dir, 'a.ndjson', [
      { event: 'run.start', runId: 'r1', time: '2026-12-01T00:00:00.000Z', version: '0.1.0', recordVersion: 2, baseUrl: 'https://api.exsited.com',
        source: { kind: 'text', path: 'ids.txt', sha256: 'a'.repeat(64), count: 1 }, options: { dryRun: false } },
      { event: 'order', runId: 'r1', time: 'yesterday', orderId: 'ORD-1', outcome: 'deleted', httpStatus: 204, attempts: 1, durationMs: 20 },
    ].map((line) => JSON.stringify(line)).join('\n'));
    const result = await runInProcess(['report', log, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ counts: { deleted: 1 }, endedAt: '2026-12-01T00:00:00.000Z' });
  });

  test('a story with more failed orders than a JSON text can hold is listed in part, counted whole; a summary that cannot be made is a warning, never a crash', async () => {
    const dir = workDir();
    const lines = [JSON.stringify({ event: 'run.start', runId: 'r1', time: '2026-12-01T00:00:00.000Z', version: '0.1.0', recordVersion: 2, baseUrl: 'https://api.exsited.com',
      source: { kind: 'text', path: 'ids.txt', sha256: 'a'.repeat(64), count: 60_000 }, options: { dryRun: false } })];
    for (let i = 0; i < 60_000; i++) {
      lines.push(JSON.stringify({ event: 'order', runId: 'r1', time: '2026-12-01T00:00:01.000Z', orderId: `ORD-${i}`, outcome: 'failed', httpStatus: 409, attempts: 1, durationMs: 1,
        error: { code: 'LOCKED', message: 'locked' } }));
    }
    const log = writeFile(dir, 'a.ndjson', lines.join('\n'));
    const report = await buildRunReport([log]);
    const told = storyJson(report);
    expect(told.failedOrders).toHaveLength(50_000);
    expect(told).toMatchObject({ failedOrdersOmitted: 10_000, counts: { failed: 60_000 } });

    // A text too long to make (a RangeError, thrown at once inside the write) is said, and the run's end goes on.
    let said = '';
    const stream = { write: (text: string) => void (said += text) } as never;
    const huge = { ...report, failedOrders: [{ orderId: 'x', httpStatus: 1, code: 'c', message: 'm', toJSON: () => { throw new RangeError('Invalid string length'); } }] };
    await writeSummaryFiles(new Console('human', stream, stream), { json: join(dir, 's.json') }, huge as never, { status: 'failed', exitCode: 1 });
    expect(said).toContain(`--summary-json ${join(dir, 's.json')} could not be written: it would be too large`);
  });

  test('a reason with markdown, HTML and control characters is shown as text in the step summary', async () => {
    const refusals: Record<string, { status: number; message: string }> = {};
    const api = await fakeApi(3, { refusals });
    fake = api.fake;
    const dir = workDir();
    const step = writeFile(dir, 'step.md', '');
    const hostile = '# Owned\n[click](http://evil.example) ![x](http://evil.example/x.png) <img src=x> | cell \u001b[31m';
    writeFileSync(join(dir, 'ids.txt'), api.orders.map((o) => o.id).join('\n'));
    for (const order of api.orders) refusals[order.id] = { status: 409, message: hostile };
    const result = await runInProcess(['run', '--yes', '--ids', join(dir, 'ids.txt'), '--audit-log', join(dir, 'a.ndjson'), '--halt-after', '2', '--retries', '0'],
      { env: { ...credentialsEnv(fake), GITHUB_STEP_SUMMARY: step } });
    expect(result.code).toBe(4);
    const markdown = readFileSync(step, 'utf8');
    const reason = markdown.trim().split('\n').at(-1)!;
    expect(reason).toContain('\\[click\\]');
    expect(reason).toContain('\\<img src=x\\>');
    expect(reason).not.toContain('\u001b');
    expect(markdown.split('\n').filter((line) => line.startsWith('#'))).toEqual([expect.stringMatching(/^### Exsited order cleanup, run /)]);
  });
});
