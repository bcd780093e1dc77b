import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, readAudit, runCli, runInProcess, startCli, workDir, writeFile } from '../helpers/cli.js';
import { ECHO_MARKER, startHostileGateway, type HostileGateway } from '../helpers/hostile-gateway.js';

/**
 * Issue 21, the metrics gateway's cases (4, 6, 9, 10, 16): a hostile gateway. How the process ends (case 9, case 14)
 * through the built CLI; what a run refuses, says and writes in-process (runInProcess: the same command lines).
 */
let fake: FakeExsited | undefined;
const gateways: HostileGateway[] = [];
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
});

async function gateway(...args: Parameters<typeof startHostileGateway>): Promise<HostileGateway> {
  const started = await startHostileGateway(...args);
  gateways.push(started);
  return started;
}

async function setUp(count: number, options: Parameters<typeof fakeApi>[1] = {}) {
  const api = await fakeApi(count, options);
  fake = api.fake;
  const dir = workDir();
  const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
  return { dir, input, env: credentialsEnv(fake), run: ['run', '--yes', '--ids', input, '--audit-dir', join(dir, 'runs')] };
}

/** Refused before anything was sent: exit 2, one line, no token asked for, no audit log made. */
function expectRefusedUpFront(result: { code: number | null; stderr: string; log: string }, dir: string) {
  expect(result.code).toBe(2);
  expect(result.log.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(fake!.tokenRequests).toEqual([]);
  expect(existsSync(join(dir, 'runs')) ? readdirSync(join(dir, 'runs')) : []).toEqual([]);
}

describe('a gateway that answers a push with 101 Switching Protocols', () => {
  test('the push fails, said once; the run ends as it would have (it ended with exit 13 and no run.end)', async () => {
    const switching = await gateway({ kind: 'switch' });
    const { run, env } = await setUp(5);
    const result = await runCli(run, { env: { ...env, EXSITED_METRICS_PUSHGATEWAY: switching.url } });
    expect(result.code).toBe(0);
    expect(fake!.deleted).toHaveLength(5);
    expect(result.log.match(/the metrics could not be pushed/g)).toHaveLength(1);
    expect(result.log).toContain('the gateway answered 101 Switching Protocols');
  });
});

describe('case 9: pushes to a gateway that never answers neither pile up nor hold the exit', () => {
  test('--metrics-interval 100ms on a run of over a second: the process exits within seconds of the run\'s end, with one warning', async () => {
    const silent = await gateway({ kind: 'hang' });
    const { dir, run, env } = await setUp(20, { faults: { latencyMs: 60 } });
    const file = join(dir, 'cleanup.prom');
    const cli = startCli([...run, '--concurrency', '1', '--metrics-interval', '100ms', '--metrics-file', file],
      { env: { ...env, EXSITED_METRICS_PUSHGATEWAY: silent.url } });
    await cli.printed(/"run\.summary"/);
    const endedAt = Date.now();
    // The old code took 3 s per push queued (about 2 minutes here): a bound far below that, far above 3 s.
    const bound = new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 10_000).unref());
    const result = await Promise.race([cli.done, bound]);
    expect(result).not.toBe('still running');
    const { code, log } = await cli.done;
    expect(Date.now() - endedAt).toBeLessThan(10_000);
    expect(code).toBe(0);
    expect(log.match(/the metrics could not be pushed/g)).toHaveLength(1);
    expect(log).toMatch(/no answer within 3 s/);
    // Each push waits 3 s at most, one at a time: a few pushes over the run, not one per 100 ms.
    expect(silent.seen.length).toBeGreaterThan(0);
    expect(silent.seen.length).toBeLessThanOrEqual(4); // the first, one waiting (the latest), the last
    // A hung gateway does not hold the file back: it holds the run's end.
    expect(readFileSync(file, 'utf8')).toMatch(/^exsited_cleanup_last_run_status\{status="completed"\} 1$/m);
  }, 60_000);
});

describe('case 16: a gateway that answers anything but 2xx', () => {
  test.each([[302], [307], [308], [404]])('%i: a warning naming the status, the body and the Location never shown nor followed', async (status) => {
    const elsewhere = await gateway({ kind: 'answer', status: 204 });
    const answering = await gateway({ kind: 'answer', status, location: `${elsewhere.url}/metrics/job/x`, echo: true });
    const { run, env } = await setUp(5);

    const result = await runInProcess(run, { env: { ...env, EXSITED_METRICS_PUSHGATEWAY: answering.url } });

    expect(result.code).toBe(0);
    expect(result.log).toContain(`the gateway answered ${status}${status < 400 ? ' (a redirect, not followed)' : ''}`);
    expect(result.log.match(/the metrics could not be pushed/g)).toHaveLength(1);
    expect(result.stderr).not.toContain(ECHO_MARKER);
    expect(result.stderr).not.toContain(String(elsewhere.port));
    expect(answering.seen.length).toBeGreaterThan(0);
    expect(elsewhere.seen).toEqual([]);
  });

  const badNames = ['a/instance/b', 'a%2Finstance%2Fb', 'x@base64', 'two words', ''];
  test.each(badNames.flatMap((name) => [['--metrics-job', name], ['job file', name]]))('%s %j: refused (exit 2) before anything is sent', async (source, name) => {
    const listening = await gateway({ kind: 'answer', status: 200 });
    const { dir, run, env } = await setUp(3);
    const args = source === '--metrics-job'
      ? [...run, '--metrics-job', name]
      : [...run, '--job', writeFile(dir, 'job.json', JSON.stringify({ metricsJob: name }))];

    const result = await runInProcess(args, { env: { ...env, EXSITED_METRICS_PUSHGATEWAY: listening.url } });

    expectRefusedUpFront(result, dir);
    expect(result.log).toMatch(source === '--metrics-job' ? /^exsited-order-cleanup: --metrics-job must be/ : /--job .*job\.json: metricsJob: must be/);
    expect(result.log).toContain('A-Z a-z 0-9 _ : -');
    expect(listening.seen).toEqual([]);
  });
});

describe('case 10: every gateway URL option is checked with the options, before anything is sent', () => {
  const sources = ['--metrics-push', 'EXSITED_METRICS_PUSHGATEWAY', 'job file'] as const;
  const urls = [
    ['a port out of range', 'http://127.0.0.1:99999', /port/],
    ['no URL at all', 'http://[127.0.0.1', /not a valid URL/],
    ['another scheme', 'ftp://127.0.0.1:9091', /http:\/\/ or https:\/\//],
    ['a query', 'http://127.0.0.1:9091/?job=x', /query/],
    ['a fragment', 'http://127.0.0.1:9091/#x', /fragment/],
  ] as const;
  test.each(sources.flatMap((source) => urls.map(([name, url, says]) => [source, name, url, says] as const)))(
    '%s with %s: exit 2 naming the source, nothing sent, no audit log', async (source, _name, url, says) => {
      const { dir, run, env } = await setUp(3);
      // The environment may carry credentials: the message must not echo them, nor any part of the URL's userinfo.
      const withCredentials = url.replace('//', '//pusher:env-gateway-password-1@');
      const args = source === '--metrics-push' ? [...run, '--metrics-push', url]
        : source === 'job file' ? [...run, '--job', writeFile(dir, 'job.json', JSON.stringify({ metricsPush: url }))] : run;
      const result = await runInProcess(args, { env: { ...env, ...(source === 'EXSITED_METRICS_PUSHGATEWAY' ? { [source]: withCredentials } : {}) } });

      expectRefusedUpFront(result, dir);
      const where = source === 'job file' ? /--job .*job\.json: metricsPush: / : new RegExp(`${source} `);
      expect(result.log).toMatch(where);
      expect(result.log).toMatch(says);
      expect(result.stderr).not.toMatch(/pusher|env-gateway-password-1/);
    });
});

describe('case 6: gateway credentials come from the environment only, and are long enough to be scrubbed', () => {
  test.each(['--metrics-push', 'job file'])('user:password in %s: refused (exit 2), never echoed, nothing sent', async (source) => {
    const listening = await gateway({ kind: 'answer', status: 200 });
    const { dir, run, env } = await setUp(3);
    const url = listening.url.replace('//', '//pusher:visible-in-ps-1234@');
    const args = source === '--metrics-push' ? [...run, '--metrics-push', url]
      : [...run, '--job', writeFile(dir, 'job.json', JSON.stringify({ metricsPush: url }))];

    const result = await runInProcess(args, { env });

    expectRefusedUpFront(result, dir);
    expect(result.log).toMatch(source === '--metrics-push' ? /^exsited-order-cleanup: --metrics-push / : /--job .*job\.json: metricsPush: /);
    expect(result.log).toMatch(/EXSITED_METRICS_PUSHGATEWAY\b/);
    expect(result.stderr).not.toMatch(/pusher|visible-in-ps-1234/);
    expect(listening.seen).toEqual([]);
  });

  test.each([
    ['a password of 7 characters in EXSITED_METRICS_PUSHGATEWAY', (url: string) => ({ EXSITED_METRICS_PUSHGATEWAY: url.replace('//', '//pusher:seven77@') }), /EXSITED_METRICS_PUSHGATEWAY/],
    ['a user and no password in EXSITED_METRICS_PUSHGATEWAY', (url: string) => ({ EXSITED_METRICS_PUSHGATEWAY: url.replace('//', '//pusher@') }), /EXSITED_METRICS_PUSHGATEWAY/],
    ['a token of 7 characters', (url: string) => ({ EXSITED_METRICS_PUSHGATEWAY: url, EXSITED_METRICS_PUSHGATEWAY_TOKEN: 'seven77' }), /EXSITED_METRICS_PUSHGATEWAY_TOKEN/],
    ['both a password and a token', (url: string) => ({
      EXSITED_METRICS_PUSHGATEWAY: url.replace('//', '//pusher:long-enough-pass@'), EXSITED_METRICS_PUSHGATEWAY_TOKEN: 'long-enough-token',
    }), /one of them/],
  ])('%s: refused (exit 2), nothing sent', async (_name, gatewayEnv, says) => {
    const listening = await gateway({ kind: 'answer', status: 200 });
    const { dir, run, env } = await setUp(3);

    const result = await runInProcess(run, { env: { ...env, ...gatewayEnv(listening.url) } });

    expectRefusedUpFront(result, dir);
    expect(result.log).toMatch(says);
    expect(result.stderr).not.toMatch(/seven77|long-enough-pass|long-enough-token/);
    expect(listening.seen).toEqual([]);
  });
});

describe('case 4: a gateway\'s error page that echoes the request never reaches an output', () => {
  const user = 'pusher';
  const password = 'p@ss:w/rd+Gateway-1';
  const token = 'gateway-bearer-token-0123456789';
  const b64 = (text: string) => [Buffer.from(text).toString('base64'), Buffer.from(text).toString('base64url')].map((form) => form.replace(/=+$/, ''));
  const forbidden = [password, encodeURIComponent(password), ...b64(`${user}:${password}`), ...b64(password), token, ...b64(token), ECHO_MARKER];

  test.each([
    ['user:password in EXSITED_METRICS_PUSHGATEWAY (basic auth)', (url: string) => ({
      EXSITED_METRICS_PUSHGATEWAY: url.replace('//', `//${user}:${encodeURIComponent(password)}@`),
    }), `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`],
    ['EXSITED_METRICS_PUSHGATEWAY_TOKEN (a bearer token)', (url: string) => ({ EXSITED_METRICS_PUSHGATEWAY: url, EXSITED_METRICS_PUSHGATEWAY_TOKEN: token }), `Bearer ${token}`],
  ])('%s, a 500 page echoing it: neither it nor its encodings in any output', async (_name, gatewayEnv, authorization) => {
    const echoing = await gateway({ kind: 'answer', status: 500, echo: true });
    const { dir, run, env } = await setUp(5);
    const outputs = { summary: join(dir, 'summary.json'), metrics: join(dir, 'cleanup.prom'), html: join(dir, 'report.html'), step: join(dir, 'step.md') };

    const result = await runInProcess([...run, '--summary-json', outputs.summary, '--metrics-file', outputs.metrics, '--html-report', outputs.html],
      { env: { ...env, ...gatewayEnv(echoing.url), GITHUB_STEP_SUMMARY: outputs.step } });

    expect(result.code).toBe(0);
    expect(echoing.seen[0]?.headers.authorization).toBe(authorization); // the page did echo the credential
    const auditDir = join(dir, 'runs');
    const texts = [result.stderr, result.stdout, ...Object.values(outputs).map((path) => readFileSync(path, 'utf8')),
      ...readdirSync(auditDir).map((name) => readFileSync(join(auditDir, name), 'utf8'))];
    for (const text of texts) {
      for (const form of forbidden) expect(text).not.toContain(form);
    }
    expect(result.log).toContain('the gateway answered 500');
  });
});

describe('one exit code, everywhere (issue 21, case 14)', () => {
  test('SIGTERM twice while the last metrics are pushed: the process exits with the code run.end and the summary recorded', async () => {
    const api = await fakeApi(5);
    fake = api.fake;
    const silent = await gateway({ kind: 'hang' });
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    const summary = join(dir, 's.json');

    const run = startCli(['run', '--yes', '--ids', input, '--audit-log', log, '--summary-json', summary, '--metrics-push', silent.url], { env: credentialsEnv(fake) });
    await run.printed(/Run \w+ completed/);
    run.child.kill('SIGTERM');
    await run.printed(/the run has ended \(exit 0\)/);
    run.child.kill('SIGTERM');
    const result = await run.done;

    expect(result.code).toBe(0);
    expect(readAudit(log).at(-1)).toMatchObject({ event: 'run.end', status: 'completed', exitCode: 0 });
    expect(JSON.parse(readFileSync(summary, 'utf8'))).toMatchObject({ status: 'completed', exitCode: 0 });
  });
});

describe('a signal after --auto-resume\'s continued run has ended (issue 21, case 14\'s sibling)', () => {
  test('SIGTERM while its last metrics are pushed: the new run is not started; the exit code is the continued run\'s', async () => {
    const api = await fakeApi(30, { faults: { latencyMs: 20 } });
    fake = api.fake;
    const silent = await gateway({ kind: 'hang' });
    const dir = workDir();
    const runs = join(dir, 'runs');
    const job = writeFile(dir, 'nightly.json', JSON.stringify({
      ids: writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n')), auditDir: runs, autoResume: true, yes: true, concurrency: 1,
    }));
    const killed = startCli(['run', '--job', job], { env: credentialsEnv(fake) });
    await killed.printed(/Audit log:/);
    await new Promise<void>((resolve) => (fake!.deleted.length >= 3 ? resolve() : fake!.events.on('delete', () => fake!.deleted.length >= 3 && resolve())));
    killed.child.kill('SIGKILL');
    await killed.done;

    const night = startCli(['run', '--job', job, '--metrics-push', silent.url], { env: credentialsEnv(fake) });
    await night.printed(/Run \w+ completed/);
    night.child.kill('SIGTERM');
    const result = await night.done;

    expect(result.log).toContain('SIGTERM: the new run is not started');
    expect(result.code).toBe(0);
    expect(readdirSync(runs).filter((name) => name.endsWith('.ndjson'))).toHaveLength(1);
  });
});
