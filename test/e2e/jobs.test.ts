import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, readAudit, runCli, runInProcess, startCli, workDir, writeFile } from '../helpers/cli.js';

let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const job = (name: string) => fileURLToPath(new URL(`../../jobs/${name}`, import.meta.url));
const testData = (o: { custom_attributes: Array<{ name: string; value: string }> }) =>
  o.custom_attributes.some((a) => a.name === 'test_data' && a.value === 'yes');

describe('job specs', () => {
  test('nightly-cleanup: test-marked orders older than a day, nothing else', async () => {
    const api = await fakeApi(200);
    fake = api.fake;
    const dir = workDir();
    const result = await runCli(['run', '--yes', '--job', job('nightly-cleanup.json'), '--audit-dir', join(dir, 'runs'), '--rps', '1000'], { env: credentialsEnv(fake), cwd: dir });
    expect(result.code).toBe(0);
    const targets = api.orders.filter(testData).map((o) => o.id); // the seed orders are all older than a day
    expect(new Set(fake.deleted)).toEqual(new Set(targets));
    const [log] = readdirSync(join(dir, 'runs')).filter((n) => n.endsWith('.ndjson'));
    expect(readAudit(join(dir, 'runs', log as string))[0]?.options).toMatchObject({ rps: 1000, maxDeletes: 20000, maxDuration: '45m', concurrency: 8 });
  });

  test('qa-reset: the QA account\'s test orders (off a terminal, no prompt)', async () => {
    const api = await fakeApi(200);
    fake = api.fake;
    const dir = workDir();
    const result = await runCli(['run', '--yes', '--job', job('qa-reset.json')], { env: credentialsEnv(fake), cwd: dir });
    expect(result.code).toBe(0);
    expect(new Set(fake.deleted)).toEqual(new Set(api.orders.filter((o) => o.account_id === 'QA-ACME-01' && testData(o)).map((o) => o.id)));
    expect(readdirSync(join(dir, 'runs')).some((n) => n.endsWith('.manifest.csv'))).toBe(true);
  });

  test('pre-release: the CSV artifact, a JSON summary, strict exit codes', async () => {
    const api = await fakeApi(30);
    fake = api.fake;
    const dir = workDir();
    mkdirSync(join(dir, 'artifacts'));
    writeFile(dir, 'artifacts/test-orders.csv', `order_id\n${api.orders.slice(0, 12).map((o) => o.id).join('\n')}\n`);
    const result = await runCli(['run', '--yes', '--job', job('pre-release.json')], { env: credentialsEnv(fake), cwd: dir });
    expect(result.code).toBe(0);
    expect(fake.deleted).toHaveLength(12);
    expect(existsSync(join(dir, 'artifacts/order-cleanup-summary.json'))).toBe(true);
    const [log] = readdirSync(join(dir, 'artifacts/order-cleanup')).filter((n) => n.endsWith('.ndjson'));
    expect(readAudit(join(dir, 'artifacts/order-cleanup', log as string)).at(-1)).toMatchObject({ status: 'completed' });
  });

  test('flags override the job; unknown keys and credentials in a job are exit 2', async () => {
    const api = await fakeApi(10);
    fake = api.fake;
    const dir = workDir();
    const ids = writeFile(dir, 'ids.txt', api.orders.slice(0, 3).map((o) => o.id).join('\n'));
    const spec = writeFile(dir, 'job.json', JSON.stringify({ ids, concurrency: 4, auditLog: join(dir, 'a.ndjson'), dryRun: true }));
    const overridden = await runInProcess(['run', '--yes', '--job', spec, '--concurrency', '2'], { env: credentialsEnv(fake) });
    expect(overridden.code).toBe(0);
    expect(readAudit(join(dir, 'a.ndjson'))[0]?.options).toMatchObject({ concurrency: 2, dryRun: true });

    const typo = await runInProcess(['run', '--yes', '--job', writeFile(dir, 't.json', '{"concurency": 4, "ids": "x"}')], { env: credentialsEnv(fake) });
    expect(typo.code).toBe(2);
    expect(typo.log).toContain('concurency: unknown option');
    const secret = await runInProcess(['run', '--yes', '--job', writeFile(dir, 's.json', '{"ids": "x", "clientSecret": "abc123456789"}')], { env: credentialsEnv(fake) });
    expect(secret.code).toBe(2);
    expect(secret.log).toContain('credentials never go in a job file');
    expect(secret.log).not.toContain('abc123456789');
    expect(fake.deletes).toHaveLength(0);
  });
});

describe('runs that find their own history, and shards', () => {
  test('--shard i/n splits one input into disjoint parts that cover it', async () => {
    const api = await fakeApi(90);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const parts: string[][] = [];
    for (const shard of ['0/3', '1/3', '2/3']) {
      const log = join(dir, `shard-${shard[0]}.ndjson`);
      expect((await runInProcess(['run', '--yes', '--ids', input, '--shard', shard, '--audit-log', log], { env: credentialsEnv(fake) })).code).toBe(0);
      parts.push(readAudit(log).filter((l) => l.event === 'order').map((l) => l.orderId as string));
      expect(readAudit(log)[0]?.source.shard).toBe(shard);
    }
    expect(parts.every((p) => p.length > 10)).toBe(true);
    expect(parts.flat().sort()).toEqual(api.orders.map((o) => o.id).sort());
    expect(fake.orders.size).toBe(0);
  });

  test('a resume of a shard whose log recorded its shard only with its input (an earlier version) is a shard still: its run.start says so, and it paces as one (red team: it paced as a lone client, and its resumes forgot the shard)', async () => {
    const api = await fakeApi(40);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    expect((await runInProcess(['run', '--yes', '--ids', input, '--shard', '0/2', '--audit-log', log], { env: credentialsEnv(fake) })).code).toBe(0);
    // As an earlier version wrote it, killed after its third order: options without the shard, and no run.end.
    const lines = readFileSync(log, 'utf8').split('\n').filter((line) => line !== '');
    const start = JSON.parse(lines[0]!) as { options: Record<string, unknown> };
    delete start.options.shard;
    const orders = lines.filter((line) => line.includes('"event":"order"'));
    writeFileSync(log, `${[JSON.stringify(start), ...orders.slice(0, 3)].join('\n')}\n`);
    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log], { env: credentialsEnv(fake) });
    expect(resumed.code).toBe(0);
    const starts = readAudit(log).filter((l) => l.event === 'run.start');
    expect(starts.map((l) => [l.options.shard, l.source.shard])).toEqual([[undefined, '0/2'], ['0/2', '0/2']]);
  });
});

describe('schedule', () => {
  test('runs the job on schedule, never two at once, and stops cleanly on SIGTERM', async () => {
    const api = await fakeApi(40, { faults: { latencyMs: 40 } });
    fake = api.fake;
    const dir = workDir();
    const ids = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const spec = writeFile(dir, 'job.json', JSON.stringify({ ids, auditDir: join(dir, 'runs'), autoResume: true, concurrency: 1, yes: true }));

    const scheduler = startCli(['schedule', '* * * * * *', '--job', spec], { env: credentialsEnv(fake) });
    await scheduler.printed(/skipped this turn/); // each run takes ~2 s; turns come every second
    await scheduler.printed(/the run exited 0/);
    await scheduler.printed(/schedule: starting[\s\S]*schedule: starting/); // the next run is going
    scheduler.child.kill('SIGTERM');
    const result = await scheduler.done;

    expect(result.log).toMatch(/next run: \d{4}-\d\d-\d\dT/);
    // SIGTERM came while a run was going (each takes ~2 s): passed on to it, which is exit 143.
    expect(result.log).toContain('passing it to the run in progress');
    expect(result.code).toBe(143);
    expect(fake.orders.size).toBe(0);
    expect(fake.stats.maxInFlight).toBe(1); // one run at a time, each with concurrency 1
  });

  test('a bad cron expression or job is exit 2, saying which', async () => {
    const dir = workDir();
    const spec = writeFile(dir, 'job.json', JSON.stringify({ ids: 'x.txt' }));
    const badCron = await runInProcess(['schedule', 'every day', '--job', spec]);
    expect(badCron.code).toBe(2);
    expect(badCron.log).toContain('"every day" is not a cron expression');
    const missing = await runInProcess(['schedule', '* * * * *', '--job', join(dir, 'missing.json')]);
    expect(missing.code).toBe(2);
    expect(missing.log).toContain(`--job ${join(dir, 'missing.json')}: no such file or folder`);
  });
});
