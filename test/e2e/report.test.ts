import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, FAST, fakeApi, runCli, runInProcess, startCli, untilDeletes, workDir, writeFile } from '../helpers/cli.js';
import { selfSignedCertificate, startRecordingProxy, type RecordingProxy } from '../helpers/proxy.js';

let fake: FakeExsited | undefined;
let proxy: RecordingProxy | undefined;
afterEach(async () => {
  await fake?.close();
  await proxy?.close();
  fake = undefined;
  proxy = undefined;
});

describe('report', () => {
  test('report --json of a large chain reaches a pipe whole (red team: cut at 64 KiB, exit 0)', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', [...api.orders.map((o) => o.id), 'ORD-NOPE-1'].join('\n'));
    const log = join(dir, 'a.ndjson');
    expect((await runInProcess(['run', '--yes', '--dry-run', '--ids', input, '--audit-log', log], { env: credentialsEnv(fake) })).code).toBe(0);
    // 20,000 more not-found orders in the log (as a dry run of a long list with typos would record them): a report of about 500 KB.
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const end = lines.pop()!;
    const order = JSON.parse(lines.find((l) => l.includes('"ORD-NOPE-1"'))!) as Record<string, unknown>;
    for (let i = 0; i < 20_000; i++) lines.push(JSON.stringify({ ...order, orderId: `ORD-NOPE-X${i}` }));
    writeFileSync(log, `${[...lines, end].join('\n')}\n`);

    const result = await runCli(['report', log, '--json']);
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBeGreaterThan(65_536);
    expect((JSON.parse(result.stdout) as { absentOrders: string[] }).absentOrders).toHaveLength(20_001);
  });

  test('a dry run and its resume are told by their deletions (issue 23, item 1): the listing, the text, --json and the page; the dry run\'s would-delete never shares the throughput chart', async () => {
    const api = await fakeApi(12);
    fake = api.fake;
    const dir = workDir();
    const runs = join(dir, 'runs');
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const env = credentialsEnv(fake);
    expect((await runInProcess(['run', '--yes', '--dry-run', '--ids', input, '--audit-dir', runs], { env })).code).toBe(0);
    expect((await runInProcess(['run', '--yes', '--resume', '--audit-dir', runs], { env })).code).toBe(0);
    expect(fake.deleted).toHaveLength(12);

    // Before: "completed, exit 0, dry run, 12 selected, 0 would delete"; "2 runs, a dry run"; "dryRun": true; "dry run: nothing was deleted".
    const listing = await runInProcess(['report', runs]);
    expect(listing.stdout).toMatch(/completed, exit 0, a dry run, then its resume, 12 selected, 12 deleted, 0 failed/);
    const log = /(\S+\.ndjson)/.exec(listing.stdout)![1]!;
    const page = join(dir, 'r.html');
    const text = await runInProcess(['report', log, '--html', page]);
    expect(text.stdout).toMatch(/: 2 runs: a dry run of 12, then 12 deleted in 1 resume\n/);
    const json = JSON.parse((await runInProcess(['report', log, '--json'])).stdout) as { dryRun: boolean; counts: { deleted: number } };
    expect(json).toMatchObject({ dryRun: false, counts: { deleted: 12 }, story: 'a dry run of 12, then 12 deleted in 1 resume' });
    const html = readFileSync(page, 'utf8');
    expect(html).toContain('<dt>what it did</dt><dd id="story">a dry run of 12, then 12 deleted in 1 resume</dd>');
    expect(html).not.toMatch(/dry run: (nothing was deleted|\d+ would be deleted)/);
    const chart = html.slice(html.indexOf('id="chart-throughput"'), html.indexOf('</figure>', html.indexOf('id="chart-throughput"')));
    expect(chart).not.toContain('would delete');
  });

  test('sums up an interrupted and resumed run; --failed-csv can be fed back as --ids; --json for scripts', async () => {
    const api = await fakeApi(80);
    const refused = api.orders.slice(0, 3).map((o) => o.id);
    await api.fake.close();
    const refusals: Record<string, { status: number; message: string }> = Object.fromEntries(refused.map((id) => [id, { status: 409, message: 'Order has invoices' }]));
    fake = (await fakeApi(80, { faults: { latencyMs: 15 }, refusals })).fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    const env = credentialsEnv(fake);

    const first = startCli(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '2', ...FAST], { env });
    await untilDeletes(fake, 20);
    first.child.kill('SIGTERM');
    expect((await first.done).code).toBe(143);
    expect((await runInProcess(['run', '--yes', '--resume', '--audit-log', log, ...FAST], { env })).code).toBe(1);

    const text = await runCli(['report', log, '--failed-csv', join(dir, 'failed.csv')]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('2 runs');
    expect(text.stdout).toMatch(/interrupted, exit 143/);
    expect(text.stdout).toMatch(/failed, exit 1/);
    expect(text.stdout).toMatch(/deleted\s+77/);
    expect(text.stdout).toMatch(/failed\s+3/);
    expect(text.stdout).toMatch(/3 {2}HTTP 409 {2}\(e\.g\. /);
    expect(text.stdout).toContain(`host   ${fake.url}`);
    expect(text.stdout).toContain('stopped: received SIGTERM');
    expect(text.stdout).toMatch(/To try the failed orders again:\n {2}node \S+ run --resume --audit-log \S+ --yes\nTo list them \(as a CSV that --ids takes\):\n {2}node \S+ report \S+ --failed-csv failed.csv\n$/);
    const csv = readFileSync(join(dir, 'failed.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('order_id,http_status,error_code,message');
    expect(csv.slice(1).map((row) => row.split(',')[0]).sort()).toEqual([...refused].sort());

    const json = JSON.parse((await runInProcess(['report', log, '--json'])).stdout);
    expect(json).toMatchObject({ counts: { selected: 80, deleted: 77, failed: 3, pending: 0 }, unfinished: false });
    expect(json.runs.map((r: { status: string }) => r.status)).toEqual(['interrupted', 'failed']);

    const again = await runInProcess(['run', '--yes', '--ids', join(dir, 'failed.csv'), '--audit-log', join(dir, 'b.ndjson'), '--retries', '0'], { env });
    expect(again.code).toBe(1); // the same three, still refused: the CSV is a valid --ids input
    expect(fake.deletes.filter((d) => d.result === 409)).toHaveLength(9); // first run, its resume (failed orders are retried), and this one

    // The invoices are dealt with; a rerun from the CSV deletes the three, and reported with the run it came from, nothing stays failed.
    for (const id of refused) delete refusals[id];
    expect((await runInProcess(['run', '--yes', '--ids', join(dir, 'failed.csv'), '--audit-log', join(dir, 'c.ndjson')], { env })).code).toBe(0);
    const together = JSON.parse((await runInProcess(['report', log, join(dir, 'c.ndjson'), '--json'])).stdout);
    expect(together).toMatchObject({ counts: { selected: 80, deleted: 80, failed: 0, pending: 0 }, auditLogs: [log, join(dir, 'c.ndjson')] });
    expect(together.runs).toHaveLength(3);
  });

  test('the console, the text report and the HTML page print one next step; on a custom host it carries --allow-host, and it runs as printed', async () => {
    const tls = selfSignedCertificate('api.test');
    const refusals: Record<string, { status: number; message: string }> = {};
    const api = await fakeApi(6, { tls, refusals });
    fake = api.fake;
    for (const order of api.orders.slice(0, 2)) refusals[order.id] = { status: 409, message: 'Order has invoices' };
    proxy = await startRecordingProxy({ 'api.test': fake.port });
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    const page = join(dir, 'report.html');
    // api.test is no default host: reached through a proxy (CONNECT), trusted through NODE_EXTRA_CA_CERTS.
    const env = { ...credentialsEnv(fake), HTTPS_PROXY: proxy.url, EXSITED_BASE_URL: `https://api.test:${fake.port}`, NODE_EXTRA_CA_CERTS: tls.certPath };

    const run = await runCli(['run', '--yes', '--ids', input, '--audit-log', log, '--allow-host', 'api.test', '--retries', '0'], { env });
    expect(run.code).toBe(1);
    const printed = /To try the failed orders again:\n {2}(.+)\nTo list them[^\n]*\n {2}.+/.exec(run.log);
    expect(printed?.[1]).toMatch(/ run --resume --audit-log \S+ --allow-host api\.test --yes$/);

    const report = await runCli(['report', log, '--html', page]);
    expect(report.code).toBe(0);
    expect(report.stdout.trimEnd().endsWith(printed?.[0] as string)).toBe(true); // the same block, word for word
    const next = readFileSync(page, 'utf8');
    expect(next.slice(next.indexOf('id="next"'))).toContain(`<pre><code>${printed?.[1] as string}</code></pre>`);

    for (const id of Object.keys(refusals)) delete refusals[id];
    const resumed = await runCli((printed?.[1] as string).split(' ').slice(2), { env }); // after `node <path>/cli.js`
    expect(resumed.code).toBe(0);
    expect(fake.deleted).toHaveLength(6);
  });

  test('run --summary-json writes the outcome; $GITHUB_STEP_SUMMARY gets a markdown table', async () => {
    const api = await fakeApi(10);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.slice(0, 4).map((o) => o.id).join('\n'));
    const stepSummary = writeFile(dir, 'step.md', '# earlier step\n');

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--summary-json', join(dir, 's.json')], {
      env: { ...credentialsEnv(fake), GITHUB_STEP_SUMMARY: stepSummary },
    });

    expect(result.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 's.json'), 'utf8'))).toMatchObject({
      status: 'completed', exitCode: 0, auditLog: join(dir, 'a.ndjson'), counts: { selected: 4, deleted: 4, failed: 0 },
      host: fake.url, dryRun: false, startedAt: expect.stringMatching(/^\d{4}-/), endedAt: expect.stringMatching(/^\d{4}-/),
      input: { kind: 'text', path: input, count: 4, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    const markdown = readFileSync(stepSummary, 'utf8');
    expect(markdown).toMatch(/^# earlier step\n/);
    expect(markdown).toContain('| deleted | 4 |');

    // With --html-report, both summaries name the page (made once the run has ended).
    const page = join(dir, 'report.html');
    const again = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'b.ndjson'), '--summary-json', join(dir, 's2.json'), '--html-report', page], {
      env: { ...credentialsEnv(fake), GITHUB_STEP_SUMMARY: stepSummary },
    });
    expect(again.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 's2.json'), 'utf8'))).toMatchObject({ htmlReport: page });
    expect(readFileSync(stepSummary, 'utf8')).toContain(`| HTML report | \`${page}\``);
    expect(readFileSync(page, 'utf8')).toContain('<span class="value" data-total="alreadyAbsent">4</span>');
  });

  test('off a terminal, a progress line every --progress-interval', async () => {
    const api = await fakeApi(60, { faults: { latencyMs: 25 } });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--concurrency', '2', '--progress-interval', '150ms'], {
      env: credentialsEnv(fake),
    });

    expect(result.code).toBe(0);
    const lines = result.log.split('\n').filter((l) => l.startsWith('progress: '));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(/^progress: \d+\/60 \(\d+%\), [\d.]+ orders\/s, ETA (\d+ s|-), 0 failed, 0 retries, 0 answered 429, everyone waited 0 s$/);
  });

  test('a log that does not exist, or is not an audit log, is exit 2, saying which', async () => {
    const dir = workDir();
    const missing = await runInProcess(['report', join(dir, 'nope.ndjson')]);
    expect(missing.code).toBe(2);
    expect(missing.log).toContain(`${join(dir, 'nope.ndjson')}: no such file or folder`);
    const other = await runInProcess(['report', writeFile(dir, 'x.ndjson', '{"a":1}\n')]);
    expect(other.code).toBe(2);
    expect(other.log).toContain('holds no run.start line');
  });
});
