import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, cutRunEnd, fakeApi, onlyLogIn, readAudit, runCli, runInProcess, startCli, untilDeletes, workDir, writeFile } from '../helpers/cli.js';

/** Issue 9: resumes that deleted a different set, counted someone else's work, or crashed on a log. */
let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** A run refused by --max-deletes 0: recorded, nothing deleted, resumable. */
async function refusedRun(args: string[], log: string) {
  const result = await runInProcess(['run', '--yes', ...args, '--audit-log', log, '--max-deletes', '0'], { env: credentialsEnv(fake!) });
  expect(result.code).toBe(3);
}

describe('a resume keeps the set the run started with', () => {
  test('a different --column on the same file is refused (it deleted the parent orders)', async () => {
    const api = await fakeApi(10);
    fake = api.fake;
    const dir = workDir();
    const rows = api.orders.slice(0, 4).map((o, i) => `${o.id},${api.orders[i + 5]?.id}`);
    const input = writeFile(dir, 'x.csv', `order_id,parent_order_id\n${rows.join('\n')}\n`);
    const log = join(dir, 'a.ndjson');
    await refusedRun(['--ids', input], log);

    const changed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--column', 'parent_order_id', '--max-deletes', '100'], { env: credentialsEnv(fake) });

    expect(changed.code).toBe(2);
    expect(changed.log).toContain('--column parent_order_id');
    expect(changed.log).toContain('order_id');
    expect(fake.deletes).toHaveLength(0);
    const same = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--max-deletes', '100'], { env: credentialsEnv(fake) });
    expect(same.code).toBe(0);
    expect(fake.deleted.sort()).toEqual(api.orders.slice(0, 4).map((o) => o.id).sort());
  });

  test('a different --format is refused (it sent DELETE /orders/order_id)', async () => {
    const api = await fakeApi(10);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'x.csv', `order_id\n${api.orders.slice(0, 3).map((o) => o.id).join('\n')}\n`);
    const log = join(dir, 'a.ndjson');
    await refusedRun(['--ids', input], log);

    const changed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--format', 'text', '--max-deletes', '100'], { env: credentialsEnv(fake) });

    expect(changed.code).toBe(2);
    expect(changed.log).toContain('--format text');
    expect(fake.stats.requests).toBe(0);
  });

  test('a filter run resumed with --column is refused (it sent DELETE /orders/KZ558V)', async () => {
    const api = await fakeApi(40);
    fake = api.fake;
    const dir = workDir();
    const filter = writeFile(dir, 'f.json', JSON.stringify({ match: { accountId: ['KZ558V'], createdBy: ['qa-bot', 'csv-loader'] } }));
    const log = join(dir, 'a.ndjson');
    await refusedRun(['--filter', filter], log);

    const changed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--column', 'account_id', '--max-deletes', '100'], { env: credentialsEnv(fake) });

    expect(changed.code).toBe(2);
    expect(fake.deletes).toHaveLength(0);
  });

  test('a different --id-pattern is refused; --force accepts a changed definition', async () => {
    const api = await fakeApi(10);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.slice(0, 3).map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    await refusedRun(['--ids', input], log);

    const changed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--id-pattern', '.+', '--max-deletes', '100'], { env: credentialsEnv(fake) });
    expect(changed.code).toBe(2);
    expect(changed.log).toContain('--id-pattern');
    const forced = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--id-pattern', '.+', '--force', '--max-deletes', '100'], { env: credentialsEnv(fake) });
    expect(forced.code).toBe(0);
    expect(readAudit(log).at(-2)?.event).toBe('order');
  });
});

describe('what a resume says of orders already absent', () => {
  test('a resume names the stopped run\'s requests in flight among the reasons an order is already absent; a fresh run does not (red team: "a typo in the list?")', async () => {
    const api = await fakeApi(4);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.slice(0, 3).map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    await refusedRun(['--ids', input], log);
    // One of its orders deleted meanwhile (as by its requests in flight when it was stopped).
    expect((await runInProcess(['run', '--yes', '--ids', writeFile(dir, 'one.txt', api.orders[0]!.id), '--audit-log', join(dir, 'b.ndjson')], { env: credentialsEnv(fake) })).code).toBe(0);
    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--max-deletes', '10'], { env: credentialsEnv(fake) });
    expect(resumed.code).toBe(0);
    expect(resumed.log).toContain('Already absent: 1 listed order not there to delete (a typo in the list, deleted before, or by the stopped run\'s requests in flight?)');
    const fresh = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'c.ndjson')], { env: credentialsEnv(fake) });
    expect(fresh.log).toContain('Already absent: 3 listed orders not there to delete (a typo in the list, or deleted before?)');
  });
});

describe('one log, one run', () => {
  test('a fresh run on a log that already holds a run is refused, naming the run and what to do', async () => {
    const api = await fakeApi(10);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.slice(0, 3).map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    expect((await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log], { env: credentialsEnv(fake) })).code).toBe(0);
    const runId = readAudit(log)[0]?.runId as string;

    const again = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log], { env: credentialsEnv(fake) });

    expect(again.code).toBe(2);
    expect(again.log).toContain(`already holds run ${runId}`);
    expect(again.log).toContain('--resume');
    expect(readAudit(log).filter((l) => l.event === 'run.start')).toHaveLength(1);
  });

  test('a resume continues the last run chain only: orders finished by an earlier, unrelated run are not skipped', async () => {
    const api = await fakeApi(150, { faults: { latencyMs: 10 } });
    fake = api.fake;
    const dir = workDir();
    const env = credentialsEnv(fake);
    const ids = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const earlier = join(dir, 'earlier.ndjson');
    expect((await runInProcess(['run', '--yes', '--ids', ids, '--audit-log', earlier], { env })).code).toBe(0);
    // The QA environment is seeded again: the same order IDs exist anew. A fresh run on the same list is
    // killed early; an older version let it append to the first run's log.
    for (const order of api.orders) fake.orders.set(order.id, { ...order });
    const later = join(dir, 'later.ndjson');
    const killed = startCli(['run', '--yes', '--ids', ids, '--audit-log', later, '--concurrency', '1'], { env });
    await untilDeletes(fake, 150 + 10);
    killed.child.kill('SIGKILL');
    await killed.done;
    const log = join(dir, 'both.ndjson');
    writeFileSync(log, readFileSync(earlier, 'utf8') + readFileSync(later, 'utf8'));

    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log], { env });

    expect(fake.orders.size).toBe(0); // it said "skipped 150" and exited 0 while they remained
    expect(resumed.code).toBe(0);
    expect(resumed.log).toContain('also holds 1 earlier, unrelated run(s)');
    expect(resumed.log).not.toMatch(/skipped\s+150/);
  });

  test('the pre-release job can run twice in one workspace', async () => {
    const api = await fakeApi(20);
    fake = api.fake;
    const dir = workDir();
    mkdirSync(join(dir, 'artifacts'));
    writeFile(dir, 'artifacts/test-orders.csv', `order_id\n${api.orders.slice(0, 5).map((o) => o.id).join('\n')}\n`);
    const job = fileURLToPath(new URL('../../jobs/pre-release.json', import.meta.url));
    expect((await runCli(['run', '--yes', '--job', job], { env: credentialsEnv(fake), cwd: dir })).code).toBe(0);
    const second = await runCli(['run', '--yes', '--job', job], { env: credentialsEnv(fake), cwd: dir });
    expect(second.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'artifacts/order-cleanup-summary.json'), 'utf8')).counts).toMatchObject({ alreadyAbsent: 5 });
  });
});

describe('an edited or corrupt audit log', () => {
  /** A log whose run was refused by --max-deletes 0, with its run.start line rewritten by `edit`. */
  async function editedLog(edit: (start: Record<string, any>) => string) {
    const api = await fakeApi(5);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.slice(0, 2).map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    await refusedRun(['--ids', input], log);
    writeFileSync(log, edit(readAudit(log)[0] as Record<string, any>));
    return log;
  }
  const noCrash = (result: { stderr: string }) => expect(result.stderr).not.toMatch(/TypeError|internal error|\n\s+at /);

  const broken: Array<[string, (start: Record<string, any>) => string, string]> = [
    ['run.start with a string source', (start) => `${JSON.stringify({ ...start, source: 'ids.txt' })}\n`, 'source'],
    ['a numeric source.path', (start) => `${JSON.stringify({ ...start, source: { ...start.source, path: 42 } })}\n`, 'source.path'],
    ['no sha256', (start) => `${JSON.stringify({ ...start, source: { ...start.source, sha256: undefined } })}\n`, 'source.sha256'],
    ['a numeric baseUrl after an array line', (start) => `[1,2]\n${JSON.stringify({ ...start, baseUrl: 7 })}\n`, 'baseUrl'],
  ];
  test.each(broken)('%s: resume and report refuse it (exit 2) naming the log, the line and the field; never a TypeError', async (_name, edit, field) => {
    const log = await editedLog(edit);
    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--max-deletes', '10'], { env: credentialsEnv(fake!) });
    const report = await runInProcess(['report', log]);
    for (const result of [resumed, report]) {
      noCrash(result);
      expect(result.code).toBe(2);
      expect(result.log).toContain(log);
      expect(result.log).toContain(field);
    }
    expect(fake!.stats.requests).toBe(0);
  });

  test('a dry run\'s run.start damaged after a resume of it was refused: resume and report refuse the log (exit 2); the orders the dry run never checked are not deleted (red team: all 10 were)', async () => {
    const api = await fakeApi(12);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.slice(0, 10).map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    expect((await runInProcess(['run', '--yes', '--dry-run', '--ids', input, '--audit-log', log], { env: credentialsEnv(fake) })).code).toBe(0);
    // Killed after four checks: its run.start and four order lines.
    writeFileSync(log, `${readFileSync(log, 'utf8').split('\n').slice(0, 5).join('\n')}\n`);
    await refusedRun(['--resume'], log); // a resume refused by --max-deletes: its own run.start (resumeOf the dry run) follows
    const lines = readFileSync(log, 'utf8').split('\n');
    writeFileSync(log, [lines[0]!.slice(0, 120), ...lines.slice(1)].join('\n')); // the dry run's run.start damaged
    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--max-deletes', '100'], { env: credentialsEnv(fake) });
    const report = await runInProcess(['report', log]);
    for (const result of [resumed, report]) {
      noCrash(result);
      expect(result.code).toBe(2);
      expect(result.log).toMatch(new RegExp(`${log} line 6: run \\w+ resumes run \\w+, whose run\\.start is not the last one before it \\(there is none\\): the log was cut or damaged`));
    }
    expect(fake.deletes).toHaveLength(0);
  });

  test('a line that is not a record (null) is skipped with a warning naming it, like a torn one', async () => {
    const log = await editedLog((start) => `null\n${JSON.stringify(start)}\n`);
    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--max-deletes', '10'], { env: credentialsEnv(fake!) });
    noCrash(resumed);
    expect(resumed.code).toBe(0);
    expect(resumed.log).toMatch(/ignored 1 unreadable line\(s\) \(line 1\)/);
    const report = await runInProcess(['report', log]);
    noCrash(report);
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/1 unreadable line/);
  });

  test('a run.start whose filter looks like an order line is never read as one', async () => {
    const api = await fakeApi(30);
    fake = api.fake;
    const dir = workDir();
    const victim = api.orders[0]!;
    const lookalike = { event: 'order', orderId: victim.id, outcome: 'deleted' };
    const filter = writeFile(dir, 'f.json', JSON.stringify({ match: { accountId: [victim.account_id], customAttributes: lookalike } }));
    const log = join(dir, 'a.ndjson');
    expect((await runInProcess(['run', '--yes', '--filter', filter, '--audit-log', log], { env: credentialsEnv(fake) })).code).toBe(0);
    // The listing selected nothing (no order has those attributes); the manifest is edited to hold the victim.
    const manifest = readAudit(log)[0]?.source.path as string;
    writeFileSync(manifest, `order_id\n${victim.id}\n`);

    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--force', '--max-deletes', '10'], { env: credentialsEnv(fake) });

    expect(resumed.code).toBe(0);
    expect(fake.deleted).toEqual([victim.id]); // not skipped as "finished by an earlier run"
  });
});

describe('signals before anything is sent', () => {
  test('SIGTERM while the input is still being read: exit 143 and no request at all, the token request included', async () => {
    const api = await fakeApi(5);
    fake = api.fake;
    const dir = workDir();
    const run = startCli(['run', '--yes', '--ids', '-', '--audit-dir', join(dir, 'runs')], { env: credentialsEnv(fake), stdin: 'open' });
    run.child.stdin.write(`${api.orders[0]?.id}\n`);
    await run.printed(/Reading order IDs from stdin/);
    run.child.kill('SIGTERM');
    run.child.stdin.end(`${api.orders[1]?.id}\n`);
    const result = await run.done;

    expect(result.code).toBe(143);
    expect(fake.stats.requests).toBe(0);
    expect(result.log).toContain('nothing was sent');
    expect(readdirSync(join(dir, 'runs'))).toEqual([]); // no log, no spooled stdin left behind
  });
});

describe('a dry resume never promises what the real resume does not do', () => {
  test('after a real run, a dry resume\'s next step is to go on with the run, never "to delete exactly these" (red team: it then deleted more)', async () => {
    const refusals: Record<string, { status: number; message: string }> = {};
    const api = await fakeApi(3, { refusals });
    fake = api.fake;
    refusals[api.orders[2]!.id] = { status: 409, message: 'Order has invoices' };
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    const env = credentialsEnv(fake);
    expect((await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log], { env })).code).toBe(1);
    const dry = await runInProcess(['run', '--yes', '--resume', '--dry-run', '--audit-log', log], { env });
    expect(dry.code).toBe(0);
    const goOn = `To go on with the run (it deletes what the run set out to delete and has not finished — after a dry run of a list, what that dry run found —, whatever this dry resume checked):\n  exsited-order-cleanup run --resume --audit-log ${log} --yes`;
    expect(dry.log).toContain(goOn);
    expect(dry.log).not.toMatch(/exactly these|leaves them out/);
    const report = await runInProcess(['report', log]);
    expect(report.stdout).toContain(goOn);
    expect(report.stdout).not.toContain('exactly these');
  });
});

describe('a dry resume of a run that stopped deleting', () => {
  test('leaves the run unfinished: pending, not "every order gone"; a person\'s check, --auto-resume leaves it to a person (red team)', async () => {
    const refusals: Record<string, { status: number; message: string }> = {};
    const api = await fakeApi(10, { refusals });
    fake = api.fake;
    for (const o of api.orders.slice(0, 3)) refusals[o.id] = { status: 403, message: 'Forbidden' };
    const dir = workDir();
    const runs = join(dir, 'runs');
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const env = credentialsEnv(fake);
    expect((await runInProcess(['run', '--yes', '--ids', input, '--audit-dir', runs, '--concurrency', '1', '--halt-after', '2'], { env })).code).toBe(4);
    for (const id of Object.keys(refusals)) delete refusals[id];
    const json = join(dir, 's.json');
    expect((await runInProcess(['run', '--yes', '--resume', '--dry-run', '--audit-dir', runs, '--summary-json', json, '--html-report', join(dir, 'r.html')], { env })).code).toBe(0);
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    expect(summary).toMatchObject({ unfinished: true, counts: { deleted: 0, wouldDelete: 0, pending: 10 } });
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).not.toContain('every order gone');
    const night = await runInProcess(['run', '--yes', '--ids', input, '--audit-dir', runs, '--auto-resume'], { env });
    expect(night.code).toBe(0);
    expect(night.log).not.toMatch(/Resuming/);
    expect(fake.deleted).toHaveLength(10); // by the night's own new run of the list
  });

  /** A nightly job (its spec: `maxDeletes`, --auto-resume, --yes) over the first `selected` orders of a fake's, with its audit folder. */
  async function nightlyJob(orders: number, selected: number, maxDeletes: number) {
    const api = await fakeApi(orders);
    fake = api.fake;
    const dir = workDir();
    const runs = join(dir, 'runs');
    const input = writeFile(dir, 'ids.txt', api.orders.slice(0, selected).map((o) => o.id).join('\n'));
    const job = writeFile(dir, 'job.json', JSON.stringify({ ids: input, auditDir: runs, yes: true, maxDeletes, autoResume: true }));
    return { api, dir, runs, job, env: credentialsEnv(fake) };
  }

  test('a run refused by --max-deletes, then a person\'s dry resume with the limit raised: the nightly job never deletes past its own limit (red team: 30 deleted past --max-deletes 5)', async () => {
    const { dir, runs, job, env } = await nightlyJob(30, 30, 5);
    expect((await runInProcess(['run', '--job', job], { env })).code).toBe(3);
    const json = join(dir, 's.json');
    expect((await runInProcess(['run', '--yes', '--resume', '--dry-run', '--audit-log', onlyLogIn(runs), '--max-deletes', '100', '--summary-json', json], { env })).code).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({ unfinished: false });
    const night = await runInProcess(['run', '--job', job], { env });
    expect(night.code).toBe(3);
    expect(night.log).not.toMatch(/Resuming/);
    expect(fake!.deleted).toHaveLength(0);
  });

  test('a dry run of the job killed before its end: the nightly job leaves it to a person, never deleting what it found past the job\'s own limit (red team: 300 deleted, limit 5)', async () => {
    const { runs, job, env } = await nightlyJob(30, 30, 5);
    expect((await runInProcess(['run', '--job', job, '--dry-run', '--max-deletes', '100'], { env })).code).toBe(0);
    cutRunEnd(onlyLogIn(runs));
    const night = await runInProcess(['run', '--job', job], { env });
    expect(night.log).not.toMatch(/Resuming/);
    expect(night.log).toContain('its latest run was a dry run, which its resume turns into deletions: only a person continues it');
    expect(night.code).toBe(3); // the night's own run, refused by the job's --max-deletes 5
    expect(fake!.deleted).toHaveLength(0);
  });

  /** The nightly job's folder after a dry run of it, and that run's log. */
  async function reviewedNight(maxDeletes: number) {
    const night = await nightlyJob(20, 10, maxDeletes);
    expect((await runInProcess(['run', '--job', night.job, '--dry-run'], { env: night.env })).code).toBe(0);
    return { ...night, log: onlyLogIn(night.runs) };
  }

  test('a person\'s run of the job with options of their own, killed: the nightly job leaves it to a person (red team: 32 deleted past the job\'s 5)', async () => {
    const { job, log, env } = await reviewedNight(5);
    expect((await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--max-deletes', '100'], { env })).code).toBe(0);
    // Killed before its end; its run.start (the latest) a person's at a terminal.
    cutRunEnd(log, (lines) => {
      const latest = lines.findLastIndex((line) => line.includes('"event":"run.start"'));
      lines[latest] = (lines[latest] as string).replace('"startedBy":"unattended"', '"startedBy":"person"');
    });
    const deleted = fake!.deleted.length;
    const night = await runInProcess(['run', '--job', job], { env });
    expect(night.log).toContain('a person started its latest run, with options of their own: only a person continues it');
    expect(night.log).not.toMatch(/Resuming/);
    expect(fake!.deleted.length).toBe(deleted);
  });

  test('a resume given another input with --force is that input\'s job: the nightly job never finishes it (red team: another file\'s orders deleted)', async () => {
    const { api, dir, job, log, env } = await reviewedNight(50);
    const other = writeFile(dir, 'other.txt', api.orders.slice(10).map((o) => o.id).join('\n'));
    expect((await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--force', '--ids', other], { env })).code).toBe(0);
    cutRunEnd(log); // killed (-9) before its end
    const night = await runInProcess(['run', '--job', job], { env });
    expect(night.log).toContain('its latest run is another job\'s (a resume given another input with --force): only a person continues it');
    expect(night.log).not.toMatch(/Resuming/);
  });

  test('a job\'s --max-deletes lowered since its run was killed binds the night\'s resume of it: the lower of the job\'s and the recorded one', async () => {
    const { api, dir, runs, job, env } = await nightlyJob(30, 30, 100);
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    expect((await runInProcess(['run', '--job', job, '--halt-after', '0'], { env })).code).toBe(0);
    // Killed (-9) with 20 of its orders unrecorded; then the job's limit lowered to 10, its halt-after to 3.
    cutRunEnd(onlyLogIn(runs), (lines) => lines.splice(lines.length - 20, 20));
    writeFile(dir, 'job.json', JSON.stringify({ ids: input, auditDir: runs, yes: true, maxDeletes: 10, haltAfter: 3, autoResume: true }));
    const requests = fake!.deletes.length;
    const night = await runInProcess(['run', '--job', job], { env });
    expect(night.log).toMatch(/Resuming this job's unfinished run/);
    expect(night.log).toContain(`20 orders are selected, more than --max-deletes 10 (--job ${job}: maxDeletes)`);
    expect(night.code).toBe(3);
    expect(fake!.deletes.length).toBe(requests);
    const starts = readAudit(onlyLogIn(runs)).filter((line) => line.event === 'run.start');
    // --halt-after 0 (never) is the most there is: the job's 3 binds; the job's --max-deletes binds too.
    expect(starts.at(-1)).toMatchObject({ options: { maxDeletes: 10, haltAfter: 3 } });
  });
});

describe('--allow-host', () => {
  test('takes host names only: a user and password there is refused, never recorded (red team: written to run.start in clear)', async () => {
    const dir = workDir();
    const result = await runInProcess(['run', '--yes', '--ids', writeFile(dir, 'ids.txt', 'ORD-1'), '--audit-log', join(dir, 'a.ndjson'), '--allow-host', 'bob:Hunter2Hunter2pw@example.org', '--reach-wait', '1s'],
      { env: { EXSITED_ACCESS_TOKEN: 'x'.repeat(24), EXSITED_BASE_URL: 'http://127.0.0.1:9' } }); // never a real host, fix or no fix
    expect(result.code).toBe(2);
    expect(result.log).toContain('--allow-host takes host names (host or host:port), never a URL or credentials');
    expect(result.log).not.toContain('Hunter2');
  });
});

