import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { startFakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, runCli, runInProcess, startCli, untilDeletes, workDir, writeFile } from '../helpers/cli.js';
import { startPushgateway } from '../helpers/pushgateway.js';
import { endAfter } from '../helpers/teardown.js';

/**
 * Issue 23, item 4: a run refused or stopped before it starts still writes what it was asked to write —
 * --summary-json, the step summary, the metrics — and no file from an earlier run is left looking current.
 * Before: the last run's summary said "completed", exit 0, and the gateway kept its status.
 */
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

async function setUp() {
  const api = await fakeApi(10);
  const dir = workDir();
  const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
  const outputs = { summary: join(dir, 'summary.json'), metrics: join(dir, 'cleanup.prom'), step: join(dir, 'step.md') };
  const args = (log: string) => ['run', '--yes', '--ids', input, '--audit-log', join(dir, log), '--summary-json', outputs.summary, '--metrics-file', outputs.metrics];
  const env = { ...credentialsEnv(api.fake), GITHUB_STEP_SUMMARY: outputs.step };
  return { api, dir, input, outputs, args, env };
}

describe('a run that never started tells so', () => {
  test('credentials rejected (exit 3) after a good run: the summary JSON, the step summary, the metrics file and the gateway say refused, exit 3; the last success stays', async () => {
    const gateway = await startPushgateway();
    const { outputs, args, env } = await setUp();
    const push = ['--metrics-push', gateway.url];
    expect((await runInProcess([...args('a.ndjson'), ...push], { env })).code).toBe(0);
    expect(json(outputs.summary)).toMatchObject({ status: 'completed', exitCode: 0, started: true });
    const success = (await gateway.samples()).get('exsited_cleanup_last_success_timestamp_seconds');

    const refused = await runInProcess([...args('b.ndjson'), ...push], { env: { ...env, EXSITED_CLIENT_SECRET: 'not-the-secret-at-all' } });
    expect(refused.code).toBe(3);
    const summary = json(outputs.summary);
    // Its audit log was chosen, never written: none is named.
    // Why, for the credentials alert (red team: a rejected secret was told as "refused" alone, and no alert said credentials).
    expect(summary).toMatchObject({ runId: null, status: 'refused', exitCode: 3, stopCause: 'credentials', started: false, auditLog: null, counts: { deleted: 0, selected: 0 } });
    expect(summary.reason).toMatch(/authentication failed.*nothing was deleted/);
    expect(JSON.stringify(summary)).not.toContain('not-the-secret-at-all');
    expect(readFileSync(outputs.step, 'utf8')).toMatch(/### Exsited order cleanup: refused before it started[\s\S]*refused \(exit 3\)/);
    const text = readFileSync(outputs.metrics, 'utf8');
    expect(text).toMatch(/^exsited_cleanup_last_run_status\{status="refused"\} 1$/m);
    expect(text).toMatch(/^exsited_cleanup_last_run_stop_cause\{cause="credentials"\} 1$/m);
    // The file keeps the last success of the run before (red team: the file lost it, and the alert with it).
    expect(Number(/^exsited_cleanup_last_success_timestamp_seconds (\S+)$/m.exec(text)?.[1])).toBe(success);
    expect(text).toMatch(/^exsited_cleanup_last_run_status\{status="completed"\} 0$/m);
    expect(text).toMatch(/^exsited_cleanup_last_run_exit_code 3$/m);
    const samples = await gateway.samples();
    expect(samples.get('exsited_cleanup_last_run_status{status="refused"}')).toBe(1);
    expect(samples.get('exsited_cleanup_last_run_exit_code')).toBe(3);
    expect(samples.get('exsited_cleanup_last_success_timestamp_seconds')).toBe(success);
  });

  test('an output that cannot be written (exit 2): the others say refused, exit 2, nothing sent', async () => {
    const { api, dir, outputs, args, env } = await setUp();
    const result = await runInProcess([...args('a.ndjson'), '--html-report', join(dir, 'ids.txt', 'r.html')], { env }); // under a file
    expect(result.code).toBe(2);
    expect(json(outputs.summary)).toMatchObject({ status: 'refused', exitCode: 2, started: false, auditLog: null }); // none was written
    expect(existsSync(join(dir, 'a.ndjson'))).toBe(false);
    expect(readFileSync(outputs.metrics, 'utf8')).toMatch(/^exsited_cleanup_last_run_exit_code 2$/m);
    expect(api.fake.deleted).toHaveLength(0);
  });

  test('refused for an output that cannot be written (a FIFO nobody reads): said once, never again as a warning that the refusal could not be written (red team)', async () => {
    const { dir, args, env, outputs } = await setUp();
    const fifo = join(dir, 'summary.fifo');
    execFileSync('mkfifo', [fifo]);
    const result = await runInProcess([...args('a.ndjson'), '--summary-json', fifo], { env });
    expect(result.code).toBe(2);
    expect(result.log.split('\n').filter((line) => line.includes(fifo))).toEqual([`exsited-order-cleanup: --summary-json ${fifo}: it is a pipe or device nobody reads; nothing was sent`]);
    expect(readFileSync(outputs.metrics, 'utf8')).toMatch(/^exsited_cleanup_last_run_exit_code 2$/m); // the others still say it
  });

  test('refused for naming the audit log as an output: nothing is written over it (nor over any file the checks refuse)', async () => {
    const { dir, input, env } = await setUp();
    const log = join(dir, 'a.ndjson');
    expect((await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log], { env })).code).toBe(0);
    const before = readFileSync(log, 'utf8');
    const summary = join(dir, 'summary.json');
    writeFileSync(summary, '{"status":"completed"}\n');
    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'b.ndjson'), '--summary-json', summary, '--metrics-file', log], { env });
    expect(result.code).toBe(2);
    expect(result.log).toMatch(/--metrics-file .* is an audit log/);
    expect(readFileSync(log, 'utf8')).toBe(before);
    // The summary JSON is not written either: the run's files did not pass their checks.
    expect(readFileSync(summary, 'utf8')).toBe('{"status":"completed"}\n');

    // A resume whose --summary-json (or step summary) is the input its run recorded: refused, and the input stays as it
    // was — refused for that (exit 2), or before its log was read (nobody at a terminal, exit 3: the red team's case,
    // which wrote the summary over the input).
    const ids = readFileSync(input, 'utf8');
    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--summary-json', input], { env });
    expect(resumed.code).toBe(2);
    expect(resumed.log).toMatch(/--summary-json .* is the same file as the input the run recorded/);
    // Through the built CLI: in-process, an earlier run of the same process has the input protected already.
    const [summaryOverInput, stepOverInput] = await Promise.all([
      runCli(['run', '--resume', '--audit-log', log, '--summary-json', input], { env }),
      runCli(['run', '--resume', '--audit-log', log], { env: { ...env, GITHUB_STEP_SUMMARY: input } }),
    ]);
    expect([summaryOverInput.code, stepOverInput.code]).toEqual([3, 3]);
    expect(readFileSync(input, 'utf8')).toBe(ids);

    // The audit log the run chose, not written yet when the run was refused, is not written by its summary either.
    const fresh = join(dir, 'c.ndjson');
    const refused = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', fresh, '--summary-json', `${dir}/./c.ndjson`], { env });
    expect(refused.code).toBe(2);
    expect(existsSync(fresh)).toBe(false);
  });

  test('a resume refused because its log is in use (exit 3) says so in its summary JSON; one whose --summary-json is the input it recorded still writes none (red team: the stale "completed, exit 0" stayed)', async () => {
    const api = await fakeApi(60, { faults: { latencyMs: 40 } });
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    const env = credentialsEnv(api.fake);
    const running = startCli(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '1'], { env });
    await untilDeletes(api.fake, 2);
    const summary = writeFile(dir, 'summary.json', '{"status":"completed","exitCode":0}\n');
    const ids = readFileSync(input, 'utf8');
    const [resumed, overInput] = await Promise.all([
      runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--summary-json', summary], { env }),
      runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--summary-json', input], { env }),
    ]);
    running.child.kill('SIGTERM');
    await running.done;
    await api.fake.close();
    expect([resumed.code, overInput.code]).toEqual([3, 3]);
    expect(json(summary)).toMatchObject({ status: 'refused', exitCode: 3, started: false });
    expect(readFileSync(input, 'utf8')).toBe(ids);
  });

  test('an API that comes up late (issue 23, item 8): each wait said, then the run goes on and completes; exit 5 only after 30 s (test/reach.test.ts)', async () => {
    const { api, dir, input, outputs } = await setUp();
    // The port is held by a listener that drops every connection (a service still starting) until the run has said it
    // cannot reach it: a port left free meanwhile could be taken by another test's fake, whose orders this run would delete.
    const holder = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    const late = { ...credentialsEnv(api.fake), EXSITED_BASE_URL: `http://127.0.0.1:${port}` };
    const cli = startCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--summary-json', outputs.summary], { env: late });
    await cli.printed(/The API cannot be reached \(token endpoint unreachable \(ECONNRESET\)\); trying again in 1 s, for up to 30 s in all\./);
    await new Promise((resolve) => holder.close(resolve));
    const fake = await startFakeExsited({ port, orders: api.orders.map((o) => ({ ...o })) });
    endAfter('file', () => fake.close());
    const result = await cli.done;
    expect(result.code).toBe(0);
    expect(json(outputs.summary)).toMatchObject({ status: 'completed', exitCode: 0, counts: { deleted: 10 } });
    expect(fake.deleted).toHaveLength(10);
  });
});
