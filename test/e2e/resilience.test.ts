import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import { seededRandom } from '../../src/fake-exsited/seeded-random.js';
import { DEMO_CLIENT, type FakeExsited } from '../../src/fake-exsited/server.js';
import { type AuditLine, credentialsEnv, FAST, fakeApi, readAudit, runCli, runInProcess, startCli, untilDeletes, workDir, writeFile } from '../helpers/cli.js';

let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** Properties every run must keep, checked on the fake's final state and the audit log. */
function expectExactlyDeleted(api: FakeExsited, targets: string[], untouched: string[]) {
  expect(new Set(api.deleted)).toEqual(new Set(targets));
  for (const id of untouched) expect(api.orders.has(id)).toBe(true);
  expect(api.deletes.every((d) => targets.includes(d.orderId))).toBe(true);
}

/** No DELETE reached the server for an order after the audit log recorded it finished. */
function expectNothingResentAfterRecorded(api: FakeExsited, lines: AuditLine[]) {
  const finishedAt = new Map<string, number>();
  for (const line of lines) {
    if (line.event === 'order' && (line.outcome === 'deleted' || line.outcome === 'already_absent') && !finishedAt.has(line.orderId as string)) {
      finishedAt.set(line.orderId as string, Date.parse(line.time as string));
    }
  }
  const late = api.deletes.filter((d) => d.at > (finishedAt.get(d.orderId) ?? Infinity) + 1);
  const story = late.map((d) => ({ server: api.deletes.filter((e) => e.orderId === d.orderId), log: lines.filter((l) => l.orderId === d.orderId) }));
  expect(story).toEqual([]);
}

function expectOneTerminalLinePerOrderPerRun(lines: AuditLine[]) {
  const seen = new Set<string>();
  for (const line of lines.filter((l) => l.event === 'order')) {
    const key = `${line.runId}/${line.orderId}`;
    expect(seen.has(key)).toBe(false);
    seen.add(key);
  }
}

describe('faults, tokens, kills and resumes', () => {
  test('every fault class at once, with 1-second tokens: all deleted, nothing else touched, bounds kept', async () => {
    const api = await fakeApi(240, {
      tokenTtlS: 1,
      faults: {
        seed: 3, latencyMs: 3, statuses: { 500: 0.04, 502: 0.03, 503: 0.04, 504: 0.03, 408: 0.02 }, throttle: 0.01, retryAfterS: 1,
        reset: 0.03, hang: 0.01, deleteThen503: 0.04, unauthorized: 0.03,
      },
    });
    fake = api.fake;
    const dir = workDir();
    const targets = api.orders.slice(0, 200).map((o) => o.id);
    const input = writeFile(dir, 'ids.txt', targets.join('\n'));
    const log = join(dir, 'audit.ndjson');

    const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '6', '--timeout-ms', '400', '--retries', '8', ...FAST], {
      env: credentialsEnv(fake),
    });

    expect(result.code).toBe(0);
    expectExactlyDeleted(fake, targets, api.orders.slice(200).map((o) => o.id));
    expect(fake.stats.maxInFlight).toBeLessThanOrEqual(6);
    const lines = readAudit(log);
    expectOneTerminalLinePerOrderPerRun(lines);
    expectNothingResentAfterRecorded(fake, lines);
    expect(lines.filter((l) => l.event === 'order')).toHaveLength(200);
    expect(lines.some((l) => l.outcome === 'already_absent')).toBe(true);
    const retried = new Set(lines.filter((l) => l.event === 'order.retry').map((l) => l.httpStatus ?? l.errorCode));
    for (const cause of [401, 429, 500, 503, 'ECONNRESET', 'ETIMEDOUT']) expect(retried).toContain(cause);
    expect(fake.tokenRequests.filter((t) => t.status === 200).length).toBeGreaterThan(1);
    // Retry-After: after a 429, the same order is not tried again for at least the time asked for.
    for (const [i, d] of fake.deletes.entries()) {
      if (d.result !== 429) continue;
      const next = fake.deletes.slice(i + 1).find((e) => e.orderId === d.orderId);
      expect(next && next.at - d.at).toBeGreaterThanOrEqual(995);
    }
    const everything = result.stdout + result.stderr + readFileSync(log, 'utf8');
    for (const secret of [DEMO_CLIENT.clientSecret, ...fake.issuedTokens]) expect(everything).not.toContain(secret);
  });

  test('SIGKILL twice, then resumes: every order deleted, none sent again once recorded, torn lines skipped', async () => {
    const api = await fakeApi(200, { faults: { seed: 5, latencyMs: 8, statuses: { 503: 0.05 } } });
    fake = api.fake;
    const dir = workDir();
    const targets = api.orders.slice(0, 180).map((o) => o.id);
    const input = writeFile(dir, 'ids.csv', `order_id\n${targets.join('\n')}\n`);
    const log = join(dir, 'audit.ndjson');
    const env = credentialsEnv(fake);
    const args = ['--audit-log', log, '--concurrency', '4', ...FAST];

    const random = seededRandom(2026); // kill at seeded random moments
    const firstKill = 10 + Math.floor(random() * 60);
    const secondKill = firstKill + 10 + Math.floor(random() * 80);

    const first = startCli(['run', '--yes', '--ids', input, ...args], { env });
    await untilDeletes(fake, firstKill);
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    appendFileSync(log, '{"level":"info","event":"order","orderId":"'); // what a kill in mid-write leaves

    const second = startCli(['run', '--yes', '--resume', ...args], { env });
    await untilDeletes(fake, secondKill);
    second.child.kill('SIGKILL');
    await second.done;

    const third = await runInProcess(['run', '--yes', '--resume', ...args], { env });
    expect(third.code).toBe(0);
    expect(third.log).toMatch(/ignored 1 unreadable line/);
    expectExactlyDeleted(fake, targets, api.orders.slice(180).map((o) => o.id));
    const torn: string[] = [];
    const lines = readAudit(log, torn);
    expect(torn.length).toBeGreaterThanOrEqual(1);
    expect(torn.length).toBeLessThanOrEqual(3); // ours, plus at most one per kill
    expectOneTerminalLinePerOrderPerRun(lines);
    expectNothingResentAfterRecorded(fake, lines);
    const starts = lines.filter((l) => l.event === 'run.start');
    expect(starts).toHaveLength(3);
    expect(starts[1]?.resumeOf).toBe(starts[0]?.runId);
    expect(starts[2]?.resumeOf).toBe(starts[1]?.runId);
    expect(lines.at(-1)).toMatchObject({ event: 'run.end', status: 'completed' });
    expect(lines.at(-1)?.summary.skipped).toBeGreaterThanOrEqual(secondKill - 4); // the kill may beat the log to the last few
  });

  test('SIGHUP twice (a closed terminal: its shell\'s and the kernel\'s) stops as one SIGTERM does: in flight drained and recorded, run.end interrupted, exit 129', async () => {
    const api = await fakeApi(150, { faults: { latencyMs: 30 } });
    fake = api.fake;
    const dir = workDir();
    const log = join(dir, 'audit.ndjson');
    const run = startCli(['run', '--yes', '--ids', writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n')), '--audit-log', log, '--concurrency', '4', ...FAST],
      { env: credentialsEnv(fake) });
    await untilDeletes(fake, 20);
    run.child.kill('SIGHUP');
    await run.printed(/SIGHUP: no new orders will be started/);
    run.child.kill('SIGHUP'); // the second, once the first was heard (two at once are one pending signal)
    const stopped = await run.done;
    expect(stopped.code).toBe(129);
    const lines = readAudit(log);
    expect(lines.at(-1)).toMatchObject({ event: 'run.end', status: 'interrupted', exitCode: 129 });
    expect(lines.filter((l) => l.event === 'order')).toHaveLength(fake.deleted.length); // in flight finished and recorded
    expect(stopped.stderr).not.toMatch(/Assertion|ResetStdio|\n\s+at /);
  });

  test('SIGTERM drains in-flight requests, records interrupted, exits 143; the resume sends nothing twice', async () => {
    const api = await fakeApi(150, { faults: { latencyMs: 30 } });
    fake = api.fake;
    const dir = workDir();
    const targets = api.orders.map((o) => o.id);
    const input = writeFile(dir, 'ids.txt', targets.join('\n'));
    const log = join(dir, 'audit.ndjson');
    const env = credentialsEnv(fake);

    const run = startCli(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '4', ...FAST], { env });
    await untilDeletes(fake, 20);
    const signalledAt = Date.now();
    run.child.kill('SIGTERM');
    const stopped = await run.done;

    expect(stopped.code).toBe(143);
    expect(Date.now() - signalledAt).toBeLessThan(5000);
    expect(stopped.log).toMatch(new RegExp(`To resume:\\n {2}node \\S*dist/cli\\.js run --resume --audit-log ${log} --yes`));
    const firstLines = readAudit(log);
    expect(firstLines.at(-1)).toMatchObject({ event: 'run.end', status: 'interrupted', exitCode: 143 });
    const recorded = firstLines.filter((l) => l.event === 'order').length;
    expect(recorded).toBe(fake.deleted.length); // in-flight requests finished and were recorded
    expect(firstLines.at(-1)?.summary.pending).toBe(150 - recorded);

    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, ...FAST], { env });
    expect(resumed.code).toBe(0);
    expectExactlyDeleted(fake, targets, []);
    expect(fake.deletes).toHaveLength(150);
    expectNothingResentAfterRecorded(fake, readAudit(log));
  });

  test('a run killed before it recorded anything is started afresh by its resume', async () => {
    const api = await fakeApi(10);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'audit.ndjson');
    writeFile(dir, 'audit.ndjson', '{"level":"info","time":"2026-11-2'); // torn in the middle of its run.start

    const noInput = await runInProcess(['run', '--yes', '--resume', '--audit-log', log], { env: credentialsEnv(fake) });
    expect(noInput.code).toBe(2);
    expect(noInput.log).toContain('records no run yet; give --ids or --filter');
    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--ids', input], { env: credentialsEnv(fake) });
    expect(resumed.code).toBe(0);
    expect(resumed.log).toContain('starting afresh');
    expect(fake.orders.size).toBe(0);
    expect(readAudit(log, []).filter((l) => l.event === 'run.start')).toHaveLength(1);
  });

  test('a resume refuses a different input (exit 2) unless --force', async () => {
    const api = await fakeApi(10);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.slice(0, 5).map((o) => o.id).join('\n'));
    const log = join(dir, 'audit.ndjson');
    const env = credentialsEnv(fake);

    expect((await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log, '--retries', '0'], { env })).code).toBe(0);
    const other = writeFile(dir, 'other.txt', api.orders.slice(5).map((o) => o.id).join('\n'));
    const refused = await runInProcess(['run', '--yes', '--resume', '--ids', other, '--audit-log', log], { env });
    expect(refused.code).toBe(2);
    expect(refused.log).toMatch(/is not the input the run started with/);
    expect(fake.orders.size).toBe(5);
    writeFileSync(input, `${readFileSync(input, 'utf8')}\n# edited\n`);
    expect((await runInProcess(['run', '--yes', '--resume', '--audit-log', log], { env })).code).toBe(2);

    const forced = await runInProcess(['run', '--yes', '--resume', '--ids', other, '--force', '--audit-log', log], { env });
    expect(forced.code).toBe(0);
    expect(fake.orders.size).toBe(0);
  });

  test('when the token endpoint stops renewing mid-run, the run halts with exit 4 and resumes later', async () => {
    const client = { ...DEMO_CLIENT };
    const api = await fakeApi(120, { client, tokenTtlS: 1, faults: { latencyMs: 20 } });
    fake = api.fake;
    const dir = workDir();
    const targets = api.orders.map((o) => o.id);
    const input = writeFile(dir, 'ids.txt', targets.join('\n'));
    const log = join(dir, 'audit.ndjson');
    const env = credentialsEnv(fake);

    const run = runInProcess(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '2', ...FAST], { env });
    await untilDeletes(fake, 10);
    client.clientSecret = 'rotated-secret-0000';
    const halted = await run;

    expect(halted.code).toBe(4);
    expect(halted.log).toMatch(/authentication failed: token endpoint answered 401/);
    expect(readAudit(log).at(-1)).toMatchObject({ event: 'run.end', status: 'halted', exitCode: 4 });
    expect(fake.orders.size).toBeGreaterThan(0);

    client.clientSecret = DEMO_CLIENT.clientSecret;
    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, ...FAST], { env });
    expect(resumed.code).toBe(0);
    expectExactlyDeleted(fake, targets, []);
    expectNothingResentAfterRecorded(fake, readAudit(log));
  });
});
