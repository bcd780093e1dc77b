import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, readAudit, runCli, runInProcess, startCli, workDir, writeFile } from '../helpers/cli.js';
import { freePort, startPushgateway, type Gateway } from '../helpers/pushgateway.js';

let fake: FakeExsited | undefined;
let gateway: Gateway | undefined;
afterEach(async () => {
  await fake?.close();
  await gateway?.stop();
  fake = undefined;
  gateway = undefined;
});

const PROMTOOL = '/usr/bin/promtool';

async function setUp(count: number, options: Parameters<typeof fakeApi>[1] = {}) {
  const api = await fakeApi(count, options);
  fake = api.fake;
  const dir = workDir();
  const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
  return { api, dir, input, env: credentialsEnv(fake) };
}

describe('metrics for a monitoring system', () => {
  test('a run that completes, then one that fails: each leaves its status in a real Pushgateway; the last success stays', async () => {
    gateway = await startPushgateway();
    const { api, dir, input, env } = await setUp(30);
    const push = ['--metrics-push', gateway.url];

    const ok = await runCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), ...push], { env });
    expect(ok.code).toBe(0);
    let samples = await gateway.samples();
    expect(samples.get('exsited_cleanup_last_run_status{status="completed"}')).toBe(1);
    expect(samples.get('exsited_cleanup_last_run_status{status="running"}')).toBe(0);
    expect(samples.get('exsited_cleanup_last_run_exit_code')).toBe(0);
    expect(samples.get('exsited_cleanup_orders_total{outcome="deleted"}')).toBe(30);
    expect(samples.get('exsited_cleanup_orders_selected')).toBe(30);
    expect(samples.get('exsited_cleanup_orders_pending')).toBe(0);
    expect(samples.get('exsited_cleanup_rate_limit_requests_per_second')).toBe(Number.POSITIVE_INFINITY);
    const success = samples.get('exsited_cleanup_last_success_timestamp_seconds')!;
    expect(Math.abs(success - Date.now() / 1000)).toBeLessThan(30);

    // Orders that are already gone and one the server refuses: exit 1.
    const again = writeFile(dir, 'again.txt', [...api.orders.map((o) => o.id).slice(0, 3)].join('\n'));
    await fake!.close();
    fake = (await fakeApi(3, { refusals: { [api.orders[0]!.id]: { status: 409, message: 'locked' } } })).fake;
    const failed = await runInProcess(['run', '--yes', '--ids', again, '--audit-log', join(dir, 'b.ndjson'), '--retries', '0', ...push], { env: credentialsEnv(fake) });
    expect(failed.code).toBe(1);
    samples = await gateway.samples();
    expect(samples.get('exsited_cleanup_last_run_status{status="failed"}')).toBe(1);
    expect(samples.get('exsited_cleanup_last_run_status{status="completed"}')).toBe(0);
    expect(samples.get('exsited_cleanup_last_run_exit_code')).toBe(1);
    expect(samples.get('exsited_cleanup_orders_total{outcome="failed"}')).toBe(1);
    expect(samples.get('exsited_cleanup_last_success_timestamp_seconds')).toBe(success);
  });

  test('a dry run (issue 23, item 3): its own group on the gateway (mode="dry_run"), never the last success; the job\'s group and its success untouched', async () => {
    gateway = await startPushgateway();
    const { dir, input, env } = await setUp(20);
    const push = ['--metrics-push', gateway.url];
    const deleted = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), ...push], { env });
    expect(deleted.code).toBe(0);
    const success = (await gateway.samples()).get('exsited_cleanup_last_success_timestamp_seconds')!;
    expect(success).toBeGreaterThan(0);

    // Before: the dry run replaced the job's group and set its last success, silencing the nightly job's alert.
    const file = join(dir, 'dry.prom');
    const dry = await runInProcess(['run', '--yes', '--dry-run', '--ids', input, '--audit-log', join(dir, 'd.ndjson'), '--metrics-file', file, ...push], { env });
    expect(dry.code).toBe(0);
    const samples = await gateway.samples();
    expect(samples.get('exsited_cleanup_last_success_timestamp_seconds')).toBe(success);
    expect(samples.get('exsited_cleanup_orders_total{outcome="deleted"}')).toBe(20);
    expect(samples.get('exsited_cleanup_dry_run')).toBe(0);
    expect(samples.get('exsited_cleanup_dry_run{mode="dry_run"}')).toBe(1);
    expect(samples.get('exsited_cleanup_last_run_status{mode="dry_run",status="completed"}')).toBe(1);
    expect(samples.has('exsited_cleanup_last_success_timestamp_seconds{mode="dry_run"}')).toBe(false);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^exsited_cleanup_dry_run 1$/m);
    expect(text).not.toMatch(/last_success/);
  });

  test('a run that halts, and one interrupted by SIGTERM: halted (exit 4) and interrupted (143), with retries by cause', async () => {
    gateway = await startPushgateway();
    const { api, dir, input } = await setUp(40);
    const refusals = Object.fromEntries(api.orders.map((o) => [o.id, { status: 503, message: 'down' }]));
    await fake!.close();
    fake = (await fakeApi(40, { refusals })).fake;
    const halted = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'h.ndjson'), '--concurrency', '1', '--retries', '1',
      '--backoff-base-ms', '1', '--halt-after', '3', '--metrics-push', gateway.url, '--metrics-job', 'halting'], { env: credentialsEnv(fake) });
    expect(halted.code).toBe(4);
    let samples = await gateway.samples('halting');
    expect(samples.get('exsited_cleanup_last_run_status{status="halted"}')).toBe(1);
    expect(samples.get('exsited_cleanup_last_run_exit_code')).toBe(4);
    // Why, for the alert to tell (issue 25, item 2): --halt-after, not a deadline that resumes itself.
    expect(samples.get('exsited_cleanup_last_run_stop_cause{cause="failures"}')).toBe(1);
    expect(samples.get('exsited_cleanup_last_run_stop_cause{cause="deadline"}')).toBe(0);
    expect(readAudit(join(dir, 'h.ndjson')).at(-1)).toMatchObject({ event: 'run.end', stopCause: 'failures' });
    expect(samples.get('exsited_cleanup_retries_total{cause="server_error"}')).toBeGreaterThanOrEqual(3);
    expect(samples.get('exsited_cleanup_orders_pending')).toBeGreaterThan(0);
    expect(samples.has('exsited_cleanup_last_success_timestamp_seconds')).toBe(false);

    await fake.close();
    fake = (await fakeApi(400, { faults: { latencyMs: 20 } })).fake;
    const slow = writeFile(dir, 'slow.txt', [...fake.orders.keys()].join('\n'));
    const running = startCli(['run', '--yes', '--ids', slow, '--audit-log', join(dir, 't.ndjson'), '--concurrency', '1',
      '--metrics-push', gateway.url, '--metrics-job', 'interrupted', '--metrics-interval', '1s'], { env: credentialsEnv(fake) });
    await running.printed(/Audit log/);
    await new Promise<void>((resolve) => fake!.events.once('delete', () => resolve()));
    running.child.kill('SIGTERM');
    expect((await running.done).code).toBe(143);
    samples = await gateway.samples('interrupted');
    expect(samples.get('exsited_cleanup_last_run_status{status="interrupted"}')).toBe(1);
    expect(samples.get('exsited_cleanup_last_run_exit_code')).toBe(143);
    expect(samples.get('exsited_cleanup_last_run_stop_cause{cause="signal"}')).toBe(1);
  });

  test('a gateway that is down, or never answers, costs a warning and at most a few seconds; no secret in the warning', async () => {
    const { dir, input, env } = await setUp(10);
    const downPort = await freePort();
    const started = Date.now();
    // Gateway credentials come from the environment only (issue 21, case 6).
    const down = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'd.ndjson')],
      { env: { ...env, EXSITED_METRICS_PUSHGATEWAY: `http://pusher:s3cret-gateway-pass@127.0.0.1:${downPort}` } });
    expect(down.code).toBe(0);
    expect(down.log).toMatch(new RegExp(`the metrics could not be pushed to http://127\\.0\\.0\\.1:${downPort} \\(.*ECONNREFUSED`));
    expect(down.stderr + down.stdout).not.toMatch(/s3cret-gateway-pass/);
    expect(Date.now() - started).toBeLessThan(8000);

    // A gateway that takes the connection and never answers.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    await fake!.close();
    const { api } = await setUp(10);
    const input2 = writeFile(dir, 'ids2.txt', api.orders.map((o) => o.id).join('\n'));
    const before = Date.now();
    const hung = await runInProcess(['run', '--yes', '--ids', input2, '--audit-log', join(dir, 's.ndjson'), '--metrics-push', `http://127.0.0.1:${port}`], { env: credentialsEnv(fake!) });
    const tookMs = Date.now() - before;
    sockets.forEach((s) => s.destroy());
    silent.close();
    expect(hung.code).toBe(0);
    expect(hung.log).toMatch(/the metrics could not be pushed/);
    expect(tookMs).toBeLessThan(10_000); // a push waits 3 s at most, and the run's end waits for it no longer
  });

  test('--metrics-file writes the text format atomically, which Prometheus\'s own parser (promtool) accepts', async () => {
    const { dir, input, env } = await setUp(20);
    const file = join(dir, 'cleanup.prom');
    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'f.ndjson'), '--metrics-file', file], { env });
    expect(result.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    // What the run said shows with a wrong count (once, on a busy machine, the file held the first write's counts).
    const counted = /^exsited_cleanup_orders_total\{outcome="deleted"\} 20$/m.test(text);
    expect({ counted, said: counted ? '' : `${result.stderr}\n${text}` }).toEqual({ counted: true, said: '' });
    expect(text).toMatch(/^exsited_cleanup_last_success_timestamp_seconds \d/m);
    expect(existsSync(PROMTOOL)).toBe(true); // .ci/run installs Debian's prometheus, which brings promtool
    execFileSync(PROMTOOL, ['check', 'metrics'], { input: text });
  });

  test('the shipped alert rules pass their promtool unit tests', () => {
    expect(existsSync(PROMTOOL)).toBe(true);
    const out = execFileSync(PROMTOOL, ['test', 'rules', 'jobs/prometheus/alerts.test.yml'], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS/);
  });
});
