import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, FAST, fakeApi, readAudit, runCli, runInProcess, startCli, workDir, writeFile } from '../helpers/cli.js';

let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/**
 * Each of these behaviours once in real time through the built CLI, with bounds a slower machine cannot
 * break. Exactly when the deadline stops the run: test/deletion-timing.test.ts, on simulated time. The
 * request rate (--rps, 429s, limits, outages): test/e2e/rate.test.ts.
 */
describe('halts, deadlines and the run lock', () => {
  test('--halt-after: the same failure on order after order halts the run with exit 4 and the cause', async () => {
    const api = await fakeApi(40);
    const refusals = Object.fromEntries(api.orders.map((o) => [o.id, { status: 403, message: 'Forbidden: missing order delete permission' }]));
    await api.fake.close();
    fake = (await fakeApi(40, { refusals })).fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');

    const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '1', '--halt-after', '5'], { env: credentialsEnv(fake) });

    expect(result.code).toBe(4);
    expect(result.log).toMatch(/5 orders in a row failed with HTTP 403 \(last: /);
    expect(result.log).toMatch(/To resume:\n {2}node \S*dist\/cli\.js run --resume --audit-log/);
    const lines = readAudit(log);
    expect(lines.filter((l) => l.event === 'order')).toHaveLength(5);
    expect(lines.at(-1)).toMatchObject({ status: 'halted', exitCode: 4, summary: { failed: 5, pending: 35 } });
  });

  test('--max-duration stops dispatching at the deadline (exit 4, halted); the resume finishes the work', async () => {
    const api = await fakeApi(150, { faults: { latencyMs: 100 } });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    const env = credentialsEnv(fake);

    // 7.5 s of work; a deadline of 3 s leaves a loaded machine time to start the process and authenticate (2 s did not,
    // once: stopped before the run started, nothing recorded).
    const stopped = await runCli(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '2', '--max-duration', '3s'], { env });

    expect(stopped.code).toBe(4);
    const end = readAudit(log).at(-1);
    expect(end).toMatchObject({ event: 'run.end', status: 'halted', exitCode: 4 });
    expect(end?.reason).toMatch(/--max-duration deadline/);
    expect(end?.durationMs).toBeLessThan(4500);
    expect(fake.orders.size).toBeGreaterThan(0);
    // The resume keeps the run's own deadline unless it is given again: a longer one here.
    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--concurrency', '8', '--max-duration', '1m'], { env });
    expect(resumed.code).toBe(0);
    expect(fake.orders.size).toBe(0);
    expect(fake.deletes).toHaveLength(150);
  });

  test('one run per audit log: a second process is refused with exit 3 naming the holder; a dead holder\'s lock is taken over', async () => {
    const api = await fakeApi(60, { faults: { latencyMs: 30 } });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    const env = credentialsEnv(fake);

    const first = startCli(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '1'], { env });
    await first.printed(/Audit log:/);
    const second = await runInProcess(['run', '--yes', '--resume', '--audit-log', log], { env }); // this test's process
    expect(second.code).toBe(3);
    expect(second.log).toContain(`another run is using this audit log: pid ${first.child.pid} on ${hostname()}`);
    first.child.kill('SIGKILL');
    await first.done;

    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--concurrency', '8', ...FAST], { env });
    expect(resumed.code).toBe(0);
    expect(fake.orders.size).toBe(0);

    writeFileSync(`${log}.lock`, JSON.stringify({ pid: 4_194_999, host: hostname(), startedAt: '2026-01-01T00:00:00Z', runId: 'gone' }));
    expect((await runInProcess(['run', '--yes', '--resume', '--audit-log', log], { env })).code).toBe(0);
    writeFileSync(`${log}.lock`, JSON.stringify({ pid: 1, host: 'other-host', startedAt: '2026-01-01T00:00:00Z', runId: 'far' }));
    const remote = await runInProcess(['run', '--yes', '--resume', '--audit-log', log], { env });
    expect(remote.code).toBe(3);
    expect(remote.log).toContain('pid 1 on other-host');
  });
});
