import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from '@jest/globals';
import { DEMO_CLIENT, type FakeExsited } from '../../src/fake-exsited/server.js';
import { type AuditLine, CLI, credentialsEnv, FAST, fakeApi, readAudit, runCli, runInProcess, workDir, writeFile } from '../helpers/cli.js';

let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/**
 * The main path, the version and the demo through the built CLI; the variants that need nothing of a real
 * process (no signal, user, working directory or terminal) run the same command lines in-process.
 */
describe('run: the main path over loopback HTTP', () => {
  test('deletes every order of a quirky CSV once, writes one order line each, exits 0', async () => {
    const api = await fakeApi(30);
    fake = api.fake;
    const dir = workDir();
    const ids = api.orders.slice(0, 20).map((o) => o.id);
    const rows = ids.map((id, i) => (i % 4 === 0 ? `acct,"  ${id} ",x` : i % 4 === 1 ? `acct,${id},"a, b"` : `acct,${id},`));
    const csv = `\uFEFFaccount,Order ID,comment\r\n${rows.join('\r\n')}\r\n\r\nacct,${ids[0]},dup\r\n,,\r\n`;
    const input = writeFile(dir, 'orders.csv', csv);
    const log = join(dir, 'audit.ndjson');

    const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '4', ...FAST], { env: credentialsEnv(fake) });

    expect(result.code).toBe(0);
    expect(fake.deleted.sort()).toEqual([...ids].sort());
    expect(fake.orders.size).toBe(10);
    const lines = readAudit(log);
    const orders = lines.filter((l) => l.event === 'order');
    expect(orders.map((l) => l.orderId).sort()).toEqual([...ids].sort());
    expect(orders.every((l) => l.outcome === 'deleted' && l.httpStatus === 204 && l.attempts === 1)).toBe(true);
    const start = lines[0] as AuditLine;
    expect(start.event).toBe('run.start');
    expect(start.source).toMatchObject({ kind: 'csv', count: 20, rows: 21, duplicates: 1 });
    expect(start.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    const end = lines.at(-1) as AuditLine;
    expect(end).toMatchObject({ event: 'run.end', status: 'completed', exitCode: 0 });
    expect(end.summary).toMatchObject({ selected: 20, deleted: 20, alreadyAbsent: 0, failed: 0, skipped: 0, wouldDelete: 0 });
    expect(new Set(lines.map((l) => l.runId)).size).toBe(1);
    expect(result.log).toContain('deleted        20');
  });

  test('reads one ID per line from stdin, skipping comments and blank lines; absent orders are already_absent', async () => {
    const api = await fakeApi(10);
    fake = api.fake;
    const dir = workDir();
    const log = join(dir, 'audit.ndjson');
    const stdin = `# QA batch\n${api.orders[0]?.id}\n\n  ${api.orders[1]?.id}  \r\nORD-NOPE-0001\n`;

    const result = await runInProcess(['run', '--yes', '--ids', '-', '--audit-log', log, ...FAST], { env: credentialsEnv(fake), stdin });

    expect(result.code).toBe(0);
    const orders = readAudit(log).filter((l) => l.event === 'order');
    expect(orders.map((l) => [l.orderId, l.outcome])).toEqual(expect.arrayContaining([
      [api.orders[0]?.id, 'deleted'], [api.orders[1]?.id, 'deleted'], ['ORD-NOPE-0001', 'already_absent'],
    ]));
    expect(orders).toHaveLength(3);
    const start = readAudit(log)[0] as AuditLine;
    expect(start.source.stdin).toBe(true);
    expect(readFileSync(start.source.path, 'utf8')).toBe(stdin);
  });

  test('the CSV column can be named with --column; a CSV without an ID column is exit 2', async () => {
    const api = await fakeApi(5);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'x.csv', `ref,Bestellung\n1,${api.orders[0]?.id}\n`);

    const missing = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });
    expect(missing.code).toBe(2);
    expect(missing.log).toContain(input);
    expect(missing.log).toMatch(/no ID column/);
    expect(fake.stats.requests).toBe(0);

    const named = await runInProcess(['run', '--yes', '--ids', input, '--column', 'bestellung', '--audit-log', join(dir, 'b.ndjson')], { env: credentialsEnv(fake) });
    expect(named.code).toBe(0);
    expect(fake.deleted).toEqual([api.orders[0]?.id]);
  });

  test('invalid and hostile IDs: exit 2 naming the file, each line and the reason, and no request at all', async () => {
    const api = await fakeApi(5);
    fake = api.fake;
    const dir = workDir();
    const hostile = ['ORD-1/../../accounts', '..', 'ORD-1?force=true', 'ORD-1#x', 'ORD-%2F', 'ORD 1', 'ORD-\u0007', '-ORD', 'a'.repeat(101)];
    const input = writeFile(dir, 'ids.txt', [api.orders[0]?.id, ...hostile, ...Array.from({ length: 25 }, (_, i) => `bad!${i}`)].join('\n'));

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });

    expect(result.code).toBe(2);
    expect(result.log).toContain(input);
    expect(result.log).toContain('34 invalid order ID rows');
    expect(result.log).toMatch(/line 2: contains a path separator/);
    expect(result.log).toMatch(/line 3: "\.\." is a relative path segment/);
    expect(result.log).toMatch(/line 4: contains \? or #/);
    expect(result.log).toMatch(/line 6: contains %/);
    expect(result.log).toMatch(/line 7: contains whitespace/);
    expect(result.log).toMatch(/line 8: contains a control character: "ORD-\\u0007"/);
    expect(result.log).toMatch(/line 10: longer than 100 characters/);
    expect(result.log).toContain('… and 14 more invalid rows');
    expect(fake.stats.requests).toBe(0);
    expect(existsSync(join(dir, 'a.ndjson'))).toBe(false);
  });

  test('--id-pattern widens the accepted IDs, never to path-changing ones; IDs are percent-encoded', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const ok = writeFile(dir, 'ok.txt', 'ORD:ÄÖ-1\nORD+2\n');
    const result = await runInProcess(['run', '--yes', '--ids', ok, '--id-pattern', '[^\\s]+', '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });
    expect(result.code).toBe(0);
    expect(fake.deletes.map((d) => d.orderId).sort()).toEqual(['ORD+2', 'ORD:ÄÖ-1']);

    const bad = writeFile(dir, 'bad.txt', 'ORD/1\n');
    const refused = await runInProcess(['run', '--yes', '--ids', bad, '--id-pattern', '.+', '--audit-log', join(dir, 'b.ndjson')], { env: credentialsEnv(fake) });
    expect(refused.code).toBe(2);
    expect(fake.deletes).toHaveLength(2);
  });

  test('an unreadable --ids file is exit 2 naming it', async () => {
    const dir = workDir();
    const result = await runInProcess(['run', '--yes', '--ids', join(dir, 'missing.csv'), '--audit-log', join(dir, 'a.ndjson')], {
      env: { EXSITED_ACCESS_TOKEN: 'tok-123456789', EXSITED_BASE_URL: 'http://127.0.0.1:9' },
    });
    expect(result.code).toBe(2);
    expect(result.log).toContain(`${join(dir, 'missing.csv')}: no such file`);
  });

  test('a host outside the allowlist is refused with exit 3 before any request, the token request included', async () => {
    const api = await fakeApi(3, { host: '127.0.0.2' });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', `${api.orders[0]?.id}\n`);
    const env = credentialsEnv(fake);

    const refused = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson')], { env });
    expect(refused.code).toBe(3);
    expect(refused.log).toMatch(/Refusing to touch 127\.0\.0\.2/);
    const production = await runInProcess(['run', '--yes', '--ids', input, '--base-url', 'https://api.exsited.com', '--audit-log', join(dir, 'b.ndjson')], { env });
    expect(production.code).toBe(3);
    const plainHttp = await runInProcess(['run', '--yes', '--ids', input, '--allow-host', '127.0.0.2', '--audit-log', join(dir, 'c.ndjson')], { env });
    expect(plainHttp.code).toBe(3);
    expect(plainHttp.log).toMatch(/plain http/);
    expect(fake.stats.requests).toBe(0);

    const allowed = await runInProcess(['run', '--yes', '--ids', input, '--retries', '0', '--reach-wait', '1s', '--audit-log', join(dir, 'd.ndjson')], {
      env: { ...env, EXSITED_BASE_URL: 'http://localhost:9', EXSITED_ALLOWED_HOSTS: 'other.example' },
    });
    // localhost is allowed, but nothing listens on its port 9. (Not the fake's port on 127.0.0.1: on a busy machine
    // another test's fake took that port there, and this run deleted one of its orders.)
    expect(allowed.code).toBe(5);
    expect(allowed.log).toMatch(/token endpoint unreachable \(ECONNREFUSED\)/);
  });

  test('wrong client credentials: exit 3, and the secret appears nowhere', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', `${api.orders[0]?.id}\n`);
    const log = join(dir, 'a.ndjson');
    const secret = 'wrong-secret-0123456789';
    const env = { ...credentialsEnv(fake), EXSITED_CLIENT_SECRET: secret };

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log], { env });

    expect(result.code).toBe(3);
    expect(result.log).toMatch(/authentication failed on http:\/\/127\.0\.0\.1:\d+: token endpoint answered 401/);
    expect(fake.deletes).toHaveLength(0);
    expect(result.stdout + result.stderr).not.toContain(secret);
    // Refused before the run started: no log to resume, nothing to advise; the same command works once the secret is right.
    expect(existsSync(log)).toBe(false);
    expect(result.log).not.toMatch(/resume/i);
  });

  test('missing credentials or bad numbers are usage errors (exit 2)', async () => {
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', 'ORD-1\n');
    const noCreds = await runInProcess(['run', '--yes', '--ids', input], { env: { EXSITED_CLIENT_ID: 'x' } });
    expect(noCreds.code).toBe(2);
    expect(noCreds.log).toContain('EXSITED_CLIENT_SECRET, EXSITED_REDIRECT_URI');
    const badNumber = await runInProcess(['run', '--yes', '--ids', input, '--concurrency', '0'], { env: { EXSITED_ACCESS_TOKEN: 'tok-1234567' } });
    expect(badNumber.code).toBe(2);
    expect(badNumber.log).toContain('--concurrency must be a whole number from 1');
    const noIds = await runInProcess(['run'], { env: { EXSITED_ACCESS_TOKEN: 'tok-1234567' } });
    expect(noIds.code).toBe(2);
    expect(noIds.log).toContain('--ids PATH');
  });

  test('the resume of a dry run deletes only what the dry run found: orders it never confirmed (stopped first) are left out and named (red team: it deleted them all)', async () => {
    const api = await fakeApi(20, { faults: { latencyMs: 400 } });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    const env = credentialsEnv(fake);

    // One order at a time, 400 ms each (8 s for all), for at most 3 s: a few confirmed, the rest never asked
    // for. (300 ms and 60 ms each ran out, beside two busy loops and another test run, before the log was opened.)
    const dry = await runInProcess(['run', '--yes', '--dry-run', '--ids', input, '--audit-log', log, '--concurrency', '1', '--max-duration', '3s'], { env });
    expect(dry.code).toBe(4);
    const confirmed = readAudit(log).filter((l) => l.outcome === 'would_delete').map((l) => l.orderId);
    expect(confirmed.length).toBeGreaterThan(0);
    expect(confirmed.length).toBeLessThan(20);
    expect(dry.log).toMatch(new RegExp(`Dry run: ${confirmed.length} orders would be deleted, .* ${20 - confirmed.length} not confirmed .* its resume leaves them out`));

    // (The dry run's deadline is recorded, and a resume keeps it unless given again.)
    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--max-duration', '60s'], { env });
    expect(resumed.code).toBe(0);
    expect([...fake.deleted].sort()).toEqual([...confirmed].sort());
    expect(resumed.log).toMatch(new RegExp(`${20 - confirmed.length} listed orders are left out: the dry run this continues did not confirm them`));
    expect(readAudit(log).at(-1)).toMatchObject({ status: 'completed', summary: { selected: confirmed.length, deleted: confirmed.length, pending: 0 } });
  });

  test('--dry-run asks for every listed order (GET) and names those not found; no DELETE; --fail-on-absent fails the step; the real run names its already-absent orders (issue 23, item 2)', async () => {
    const api = await fakeApi(10);
    fake = api.fake;
    const dir = workDir();
    // Two typos in the spreadsheet: before, they were counted as "would delete", and the real run's already_absent named nowhere.
    const input = writeFile(dir, 'ids.txt', [...api.orders.map((o) => o.id), 'ORD-TYPO-0001', 'ORD-TYPO-0002'].join('\n'));
    const log = join(dir, 'a.ndjson');

    const result = await runInProcess(['run', '--yes', '--ids', input, '--dry-run', '--audit-log', log], { env: credentialsEnv(fake) });

    expect(result.code).toBe(0);
    expect(fake.deletes).toHaveLength(0);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.stats.orderGets).toBe(12);
    const orders = readAudit(log).filter((l) => l.event === 'order');
    expect(orders.filter((l) => l.outcome === 'would_delete' && l.httpStatus === 200).map((l) => l.orderId).sort()).toEqual(api.orders.map((o) => o.id).sort());
    expect(orders.filter((l) => l.outcome === 'already_absent').map((l) => l.orderId).sort()).toEqual(['ORD-TYPO-0001', 'ORD-TYPO-0002']);
    expect(readAudit(log).at(-1)).toMatchObject({ summary: { wouldDelete: 10, alreadyAbsent: 2, deleted: 0 } });
    expect(result.log).toMatch(/not found +2 \(listed, but not in Exsited\)/);
    expect(result.log).toMatch(/Not found: 2 listed orders not in Exsited .*: ORD-TYPO-0001, ORD-TYPO-0002\./);
    // The report and the page name them too.
    const page = join(dir, 'dry.html');
    const report = await runInProcess(['report', log, '--html', page]);
    expect(report.stdout).toMatch(/Not found \(2, listed but not there\): ORD-TYPO-000[12], ORD-TYPO-000[12]/);
    expect(readFileSync(page, 'utf8')).toMatch(/<details id="absent-orders">[\s\S]*2 listed orders were not found[\s\S]*ORD-TYPO-000[12], ORD-TYPO-000[12]<\/p>/);
    const json = JSON.parse((await runInProcess(['report', log, '--json'])).stdout) as { absentOrders: string[] };
    expect(json.absentOrders.sort()).toEqual(['ORD-TYPO-0001', 'ORD-TYPO-0002']);

    const failing = await runInProcess(['run', '--yes', '--ids', input, '--dry-run', '--fail-on-absent', '--audit-log', join(dir, 'b.ndjson')], { env: credentialsEnv(fake) });
    expect(failing.code).toBe(1);
    expect(readAudit(join(dir, 'b.ndjson')).at(-1)).toMatchObject({ status: 'failed', exitCode: 1, reason: '2 listed orders were not found (--fail-on-absent)' });

    // The dry run's resume deletes what it found; the real run of the same list names the two it could not delete.
    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log], { env: credentialsEnv(fake) });
    expect(resumed.code).toBe(0);
    expect(fake.deletes.map((d) => d.orderId).sort()).toEqual(api.orders.map((o) => o.id).sort());
    const real = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'c.ndjson')], { env: credentialsEnv(fake) });
    expect(real.code).toBe(0);
    expect(real.log).toMatch(/Already absent: 12 listed orders not there to delete .*: ORD-/);
  });

  test('a refused order fails at once with Exsited\'s message; exit 1 and the resume command', async () => {
    const api = await fakeApi(6);
    const locked = api.orders[2]?.id as string;
    await api.fake.close();
    const second = await fakeApi(6, { refusals: { [locked]: { status: 409, message: 'Order has invoices and cannot be deleted' } } });
    fake = second.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', second.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log, ...FAST], { env: credentialsEnv(fake) });

    expect(result.code).toBe(1);
    const failed = readAudit(log).filter((l) => l.outcome === 'failed');
    expect(failed).toEqual([expect.objectContaining({
      orderId: locked, httpStatus: 409, attempts: 1, error: { code: 'HTTP_409', message: 'Order has invoices and cannot be deleted' },
    })]);
    expect(fake.deletes.filter((d) => d.orderId === locked)).toHaveLength(1);
    expect(result.log).toMatch(new RegExp(`1 {2}HTTP 409 {2}\\(e\\.g\\. ${locked}: Order has invoices and cannot be deleted\\)`));
    expect(result.log).toMatch(new RegExp(`To try the failed orders again:\\n {2}exsited-order-cleanup run --resume --audit-log ${log} --yes`));
    expect(fake.orders.size).toBe(1);
  });

  test('retries are exhausted into failed with the last status; order.retry lines record each wait', async () => {
    const api = await fakeApi(3, { faults: { statuses: { 503: 1 } } });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', `${api.orders[0]?.id}\n`);
    const log = join(dir, 'a.ndjson');

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log, '--retries', '3', ...FAST], { env: credentialsEnv(fake) });

    expect(result.code).toBe(1);
    const lines = readAudit(log);
    expect(lines.filter((l) => l.event === 'order.retry').map((l) => l.attempt)).toEqual([1, 2, 3]);
    expect(lines.find((l) => l.event === 'order')).toMatchObject({ outcome: 'failed', httpStatus: 503, attempts: 4, error: { code: 'HTTP_503' } });
    expect(fake.deletes).toHaveLength(4);
  });

  test('a pre-issued EXSITED_ACCESS_TOKEN is used as is; a refused one is exit 3 and never printed', async () => {
    const api = await fakeApi(4);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const grant = await fetch(`${fake.url}/api/v1/oauth2/token`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: DEMO_CLIENT.clientId, client_secret: DEMO_CLIENT.clientSecret, redirect_uri: DEMO_CLIENT.redirectUri }),
    });
    const issued = ((await grant.json()) as { access_token: string }).access_token;

    const good = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--base-url', fake.url], { env: { EXSITED_ACCESS_TOKEN: issued } });
    expect(good.code).toBe(0);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.orders.size).toBe(0);

    const token = 'pre-issued-token-abcdef123456';
    const log = join(dir, 'b.ndjson');
    const refused = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log, '--base-url', fake.url], { env: { EXSITED_ACCESS_TOKEN: token } });
    expect(refused.code).toBe(3);
    expect(refused.log).toMatch(/cannot be renewed/);
    expect(existsSync(log)).toBe(false); // tried before the run started: no log to resume
    expect(refused.stderr + good.log).not.toContain(token);
    expect(good.stderr + readFileSync(join(dir, 'a.ndjson'), 'utf8')).not.toContain(issued);
  });
});

describe('the console', () => {
  test('off a terminal, one JSON object per line (with the summary as fields); EXSITED_LOG_FORMAT=human gives plain sentences, text each with its time and level', async () => {
    const api = await fakeApi(5);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const json = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });
    const lines = json.stderr.trim().split('\n').map((line) => JSON.parse(line) as { level: string; msg: string; summary?: object });
    expect(lines.every((l) => typeof l.level === 'string' && typeof l.msg === 'string')).toBe(true);
    expect(lines.find((l) => l.summary)?.summary).toMatchObject({ selected: 5, deleted: 5 });

    const human = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'b.ndjson')], { env: { ...credentialsEnv(fake), EXSITED_LOG_FORMAT: 'human' } });
    expect(human.stderr).toMatch(/^Audit log: /m);
    expect(human.stderr).toMatch(/^ {2}already absent 5$/m);
    const text = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'c.ndjson')], { env: { ...credentialsEnv(fake), EXSITED_LOG_FORMAT: 'text' } });
    expect(text.stderr).toMatch(/^\d\d:\d\d:\d\d INFO {2}Audit log: /m);
  });
});

describe('the CLI surface', () => {
  test('--help documents every run option; --version prints the version', async () => {
    const help = await runInProcess(['run', '--yes', '--help']);
    for (const flag of ['--ids', '--filter', '--max-deletes', '--format', '--column', '--id-pattern', '--audit-log', '--audit-dir', '--auto-resume', '--shard', '--job', '--resume', '--force', '--concurrency', '--retries',
      '--timeout-ms', '--backoff-base-ms', '--backoff-cap-ms', '--grace-ms', '--rps', '--halt-after', '--max-duration', '--progress-interval', '--summary-json', '--dry-run', '--yes', '--base-url', '--allow-host']) {
      expect(help.stdout).toContain(flag);
    }
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect((await runCli(['--version'])).stdout.trim()).toBe(pkg.version);
  });

  test('a run loads nothing it does not use as it starts: no multipart encoder (form-data, mime-db), no HTTP/2, no undici (axios probing the web globals)', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const out = join(dir, 'loaded.json');
    const preload = fileURLToPath(new URL('../helpers/loaded-modules.cjs', import.meta.url));
    const env = { ...credentialsEnv(fake), NODE_OPTIONS: `--require ${JSON.stringify(preload)}`, LOADED_MODULES_OUT: out };
    const result = await runCli(['run', '--yes', '--ids', writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n')), '--audit-dir', dir], { env });
    expect(result.code).toBe(0);
    expect(fake.deleted).toHaveLength(3);
    const modules = JSON.parse(readFileSync(out, 'utf8')) as string[];
    const bundle = readFileSync(CLI, 'utf8');
    expect({
      formData: bundle.includes('node_modules/form-data/'), mimeDb: bundle.includes('node_modules/mime-db/'),
      http2: modules.includes('NativeModule http2'), undici: modules.includes('NativeModule internal/deps/undici/undici'),
    }).toEqual({ formData: false, mimeDb: false, http2: false, undici: false });
  });

  test('the demo exits 0 with no credentials and no network', async () => {
    const dir = workDir();
    const result = await runCli(['demo'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.log).toMatch(/Run \w+ completed\./);
    expect(result.log).toMatch(/retries\s+[1-9]/);
  });
});
