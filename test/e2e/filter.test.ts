import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeOrder } from '../../src/fake-exsited/order-store.js';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { CLI, credentialsEnv, fakeApi, readAudit, runCli, runInProcess, workDir, writeFile } from '../helpers/cli.js';

let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const attribute = (o: FakeOrder, name: string) => o.custom_attributes.find((a) => a.name === name)?.value;

/** Each filter with the orders it must select, written independently of the tool's matcher. */
const FILTERS: Array<[string, object, (o: FakeOrder) => boolean]> = [
  ['QA bot orders, active or draft, before July', {
    match: { status: ['ACTIVE', 'DRAFT'], createdBy: ['qa-bot'], createdBefore: '2026-07-01T00:00:00Z' }, pageSize: 37,
  }, (o) => ['ACTIVE', 'DRAFT'].includes(o.status) && o.created_by === 'qa-bot' && o.created_on < '2026-07-01T00:00:00Z'],
  ['one account (hyphenated ID), CSV imports', {
    match: { accountId: ['Y1B8-000'], originStartsWith: 'CSV IMPORT' },
  }, (o) => o.account_id === 'Y1B8-000' && o.origin.startsWith('CSV IMPORT')],
  ['test data by attribute, name and ID pattern, updated after March', {
    match: { customAttributes: { test_data: 'yes' }, nameStartsWith: 'QA ', idPattern: '^ORD-', lastUpdatedAfter: '2026-03-01' },
  }, (o) => attribute(o, 'test_data') === 'yes' && o.name.startsWith('QA ') && o.id.startsWith('ORD-') && o.last_updated_on > '2026-03-01T00:00:00.000Z'],
  ['two accounts, cancelled, created in a window', {
    match: { accountId: ['KZ558V', 'QA-ACME-01'], status: ['cancelled'], createdAfter: '2026-02-01T00:00:00+10:00', createdBefore: '2026-10-01' },
  }, (o) => ['KZ558V', 'QA-ACME-01'].includes(o.account_id) && o.status === 'CANCELLED' && o.created_on > '2026-01-31T14:00:00.000Z' && o.created_on < '2026-10-01T00:00:00.000Z'],
];

describe('run --filter', () => {
  test.each(FILTERS)('%s: deletes exactly the matching orders', async (_name, filter, expected) => {
    const api = await fakeApi(300);
    fake = api.fake;
    const dir = workDir();
    const filterPath = writeFile(dir, 'filter.json', JSON.stringify(filter));
    const log = join(dir, 'a.ndjson');
    const targets = api.orders.filter(expected).map((o) => o.id);
    expect(targets.length).toBeGreaterThan(2);

    const result = await runInProcess(['run', '--yes', '--filter', filterPath, '--audit-log', log], { env: credentialsEnv(fake) });

    expect(result.code).toBe(0);
    expect(new Set(fake.deleted)).toEqual(new Set(targets));
    expect(fake.deletes).toHaveLength(targets.length);
    const start = readAudit(log)[0];
    expect(start?.source).toMatchObject({ kind: 'filter', path: join(dir, 'a.manifest.csv'), count: targets.length });
    expect(start?.source.filter.sha256).toMatch(/^[0-9a-f]{64}$/);
    const manifest = readFileSync(join(dir, 'a.manifest.csv'), 'utf8').trim().split('\n');
    expect(manifest[0]).toMatch(/^order_id,/);
    expect(manifest).toHaveLength(targets.length + 1);
  });

  test('--max-deletes below the selection: exit 3 before any DELETE, saying how many and how to raise it', async () => {
    const api = await fakeApi(200);
    fake = api.fake;
    const dir = workDir();
    const filterPath = writeFile(dir, 'filter.json', JSON.stringify({ match: { createdBy: ['qa-bot'] } }));
    const log = join(dir, 'a.ndjson');

    const result = await runInProcess(['run', '--yes', '--filter', filterPath, '--audit-log', log, '--max-deletes', '5'], { env: credentialsEnv(fake) });

    expect(result.code).toBe(3);
    const selected = api.orders.filter((o) => o.created_by === 'qa-bot').length;
    expect(result.log).toContain(`${selected} orders are selected, more than --max-deletes 5`);
    expect(result.log).toContain(`--max-deletes ${selected}`);
    expect(fake.deletes).toHaveLength(0);
    expect(readAudit(log).at(-1)).toMatchObject({ event: 'run.end', status: 'failed', exitCode: 3 });

    const lists = fake.stats.lists;
    const raised = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--max-deletes', String(selected)], { env: credentialsEnv(fake) });
    expect(raised.code).toBe(0);
    expect(fake.deleted).toHaveLength(selected);
    expect(fake.stats.lists).toBe(lists); // the resume deletes from the manifest, never lists again
  });

  test('an empty filter (exit 2) and a typo (exit 2, with the key path) send no request at all', async () => {
    const api = await fakeApi(20);
    fake = api.fake;
    const dir = workDir();
    const empty = await runInProcess(['run', '--yes', '--filter', writeFile(dir, 'e.json', '{"match": {}}'), '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });
    expect(empty.code).toBe(2);
    expect(empty.log).toMatch(/no criteria.*"matchAll": true/);
    const typo = await runInProcess(['run', '--yes', '--filter', writeFile(dir, 't.json', '{"match": {"stauts": ["ACTIVE"], "createdBefore": "yesterday"}}'),
      '--audit-log', join(dir, 'b.ndjson')], { env: credentialsEnv(fake) });
    expect(typo.code).toBe(2);
    expect(typo.log).toContain('match.stauts: unknown key (did you mean "status"?)');
    expect(typo.log).toContain('match.createdBefore: expected an ISO 8601 date');
    const both = await runInProcess(['run', '--yes', '--filter', join(dir, 't.json'), '--ids', join(dir, 't.json')], { env: credentialsEnv(fake) });
    expect(both.code).toBe(2);
    expect(fake.stats.requests).toBe(0);
    expect(existsSync(join(dir, 'a.ndjson'))).toBe(false);
  });

  test('with a pre-issued token, an API that cannot be reached is waited for, then exit 5 said plainly, as for a list (red team: exit 4, "ECONNREFUSED: connect ECONNREFUSED")', async () => {
    const dir = workDir();
    const filter = writeFile(dir, 'f.json', JSON.stringify({ match: { createdBy: ['qa-bot'] } }));
    const result = await runInProcess(['run', '--yes', '--filter', filter, '--audit-log', join(dir, 'a.ndjson'), '--reach-wait', '1s'],
      { env: { EXSITED_ACCESS_TOKEN: 'x'.repeat(24), EXSITED_BASE_URL: 'http://127.0.0.1:9' } });
    expect(result.code).toBe(5);
    expect(result.log).toContain('unreachable: http://127.0.0.1:9 — the API unreachable (ECONNREFUSED), tried for');
    expect(result.log).not.toContain('connect ECONNREFUSED');
    expect(existsSync(join(dir, 'a.ndjson'))).toBe(false);
  });

  test('a dry run lists and writes the manifest, sends no DELETE; its resume deletes exactly the manifest without listing', async () => {
    const api = await fakeApi(150);
    fake = api.fake;
    const dir = workDir();
    const filterPath = writeFile(dir, 'filter.json', JSON.stringify({ match: { customAttributes: { test_data: 'yes' } }, pageSize: 20 }));
    const log = join(dir, 'a.ndjson');
    const targets = api.orders.filter((o) => attribute(o, 'test_data') === 'yes').map((o) => o.id);

    const dry = await runCli(['run', '--yes', '--filter', filterPath, '--audit-log', log, '--dry-run'], { env: credentialsEnv(fake) });
    expect(dry.code).toBe(0);
    expect(fake.deletes).toHaveLength(0);
    expect(dry.log).toContain(`Dry run: ${targets.length} orders would be deleted, e.g. ${targets.slice(0, 5).join(', ')}`);
    expect(readAudit(log).filter((l) => l.outcome === 'would_delete')).toHaveLength(targets.length);

    fake.orders.set('ORD-NEW-0001', { ...api.orders[0]!, id: 'ORD-NEW-0001' }); // created after the review: not in the manifest
    const lists = fake.stats.lists;
    const resumed = await runCli(['run', '--yes', '--resume', '--audit-log', log], { env: credentialsEnv(fake) });
    expect(resumed.code).toBe(0);
    expect(fake.stats.lists).toBe(lists);
    expect(new Set(fake.deleted)).toEqual(new Set(targets));
    expect(fake.orders.has('ORD-NEW-0001')).toBe(true);
  });

  test('a selection over many pages while other orders disappear misses no remaining match', async () => {
    const api = await fakeApi(400);
    fake = api.fake;
    const dir = workDir();
    // Every order matches: the filter must say so, or selecting all it listed would be refused.
    const filterPath = writeFile(dir, 'filter.json', JSON.stringify({ match: { idPattern: '^(ORD|CSV)-' }, matchAll: true, pageSize: 10 }));
    const log = join(dir, 'a.ndjson');
    const gone: string[] = [];
    fake.events.on('list', ({ offset }: { offset: number }) => {
      // Someone else deletes three orders from the part already listed: later pages shift down.
      const listed = [...fake!.orders.keys()].slice(0, Math.max(0, offset - 1));
      for (const id of listed.filter((_, i) => i % 7 === 3).slice(0, 3)) {
        fake!.orders.delete(id);
        gone.push(id);
      }
    });

    const result = await runInProcess(['run', '--yes', '--filter', filterPath, '--audit-log', log, '--concurrency', '8'], { env: credentialsEnv(fake) });

    expect(result.code).toBe(0);
    expect(gone.length).toBeGreaterThan(30);
    expect(fake.orders.size).toBe(0); // every order matched; none was skipped by the shifting pages
    expect(fake.deleted.length + gone.length).toBe(400);
    const outcomes = new Set(readAudit(log).filter((l) => l.event === 'order').map((l) => l.outcome));
    expect([...outcomes].every((o) => o === 'deleted' || o === 'already_absent')).toBe(true);
  });

  test('orders deleted by someone else just before a page is read do not make it skip the orders that moved down past it (red team: "Selected 6 of 8", an order left, exit 0)', async () => {
    const api = await fakeApi(10);
    fake = api.fake;
    const dir = workDir();
    const filterPath = writeFile(dir, 'filter.json', JSON.stringify({ match: { idPattern: '^(ORD|CSV)-' }, matchAll: true, pageSize: 2 }));
    const gone: string[] = [];
    fake.events.on('list', ({ offset }: { offset: number }) => {
      if (offset !== 2 || gone.length > 0) return;
      // The two orders of the first page go before the second is read: the third and fourth move to its place.
      for (const id of [...fake!.orders.keys()].slice(0, 2)) {
        fake!.orders.delete(id);
        gone.push(id);
      }
    });

    const result = await runInProcess(['run', '--yes', '--filter', filterPath, '--audit-dir', dir], { env: credentialsEnv(fake) });

    expect(result.code).toBe(0);
    expect(result.log).toContain('Selected 10 of 10 orders listed');
    expect(fake.orders.size).toBe(0); // none left: the two that moved down past the second page were read again
    expect(fake.deletes.filter((d) => d.existed)).toHaveLength(8); // the two gone are found already absent
  });

  test.each([
    ['three listed orders gone just before the last page, which comes back empty (it ended the listing: three skipped)', 12, 3, 4, 3],
    ['nine listed orders gone between two pages of 3 (refused as a server ignoring offset, exit 4)', 40, 3, 4, 9],
  ])('red team, the listing\'s re-read: %s', async (_, count, pageSize, atList, gone) => {
    const api = await fakeApi(count);
    fake = api.fake;
    const dir = workDir();
    const filterPath = writeFile(dir, 'filter.json', JSON.stringify({ match: { idPattern: '^(ORD|CSV)-' }, matchAll: true, pageSize }));
    let lists = 0;
    fake.events.on('list', () => {
      if (++lists === atList) for (const id of [...fake!.orders.keys()].slice(0, gone)) fake!.orders.delete(id);
    });

    const result = await runInProcess(['run', '--yes', '--filter', filterPath, '--audit-dir', dir], { env: credentialsEnv(fake) });

    expect(result.code).toBe(0);
    expect(fake.orders.size).toBe(0); // every remaining order was listed and deleted
  });

  test('--max-duration reached while listing: exit 4, nothing recorded, and no advice to resume what was never recorded (it said "resume to continue")', async () => {
    const api = await fakeApi(100, { faults: { latencyMs: 200 } });
    fake = api.fake;
    const dir = workDir();
    const filterPath = writeFile(dir, 'filter.json', JSON.stringify({ matchAll: true, match: {}, pageSize: 5 }));

    const summary = join(dir, 's.json');
    const metrics = join(dir, 'm.prom');
    const result = await runInProcess(['run', '--yes', '--filter', filterPath, '--audit-dir', dir, '--max-duration', '1500ms', '--summary-json', summary, '--metrics-file', metrics],
      { env: credentialsEnv(fake) });

    expect(result.code).toBe(4);
    expect(result.log).toContain('Stopped before any order was deleted; nothing was deleted: the --max-duration deadline (1.5 s) was reached; ' +
      'nothing was recorded, so run it again (with a longer --max-duration).');
    expect(result.log).not.toMatch(/resume/i);
    expect(fake.deletes).toHaveLength(0);
    // The token it obtained to list is counted, as a started run's summary counts it (red team: 0).
    const told = JSON.parse(readFileSync(summary, 'utf8')) as { durationMs: number };
    expect(told).toMatchObject({ started: false, exitCode: 4, tokens: { obtained: 1, shared: 0 } });
    // One duration, in its summary and its metrics (red team: 1.3 s and 0).
    expect(told.durationMs).toBeGreaterThan(0);
    const gauge = /^exsited_cleanup_run_duration_seconds(?:\{[^}]*\})? (\S+)$/m.exec(readFileSync(metrics, 'utf8'))?.[1];
    expect(Number(gauge)).toBe(told.durationMs / 1000);
  });

  test('a run\'s start is when it began, its log opened, not when its run.start line was written after the listing: startedAt, the span and the log\'s name agree (red team: startedAt 2 s after the start durationMs counts from)', async () => {
    const api = await fakeApi(60, { faults: { latencyMs: 100 } });
    fake = api.fake;
    const dir = workDir();
    const filterPath = writeFile(dir, 'filter.json', JSON.stringify({ matchAll: true, match: {}, pageSize: 20 }));
    const summary = join(dir, 's.json');

    const result = await runCli(['run', '--yes', '--filter', filterPath, '--audit-dir', dir, '--summary-json', summary, '--concurrency', '8'], { env: credentialsEnv(fake) });

    expect(result.code).toBe(0);
    const told = JSON.parse(readFileSync(summary, 'utf8')) as { startedAt: string; endedAt: string; durationMs: number; spanMs: number; auditLog: string; runs: Array<{ startedAt: string }> };
    // The log is named after the moment it was opened, to the millisecond: 20261204T141304029Z-….ndjson.
    const named = /(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-[0-9a-f]+\.ndjson$/.exec(told.auditLog)?.slice(1) ?? [];
    const opened = `${named[0]}-${named[1]}-${named[2]}T${named[3]}:${named[4]}:${named[5]}.${named[6]}Z`;
    expect(told.startedAt).toBe(opened);
    expect(told.runs[0]?.startedAt).toBe(opened);
    expect(readAudit(told.auditLog)[0]).toMatchObject({ event: 'run.start', openedAt: opened });
    // The listing (3 pages at 100 ms) came first: the run.start line is later than the start.
    expect(Date.parse(readAudit(told.auditLog)[0]?.time ?? '')).toBeGreaterThan(Date.parse(opened));
    expect(Date.parse(told.startedAt) + told.spanMs).toBeLessThanOrEqual(Date.parse(told.endedAt));
    expect(told.spanMs).toBeGreaterThanOrEqual(told.durationMs);
    const report = JSON.parse((await runCli(['report', told.auditLog, '--json'])).stdout) as { startedAt: string };
    expect(report.startedAt).toBe(opened);
  });

  test('a server that ignores offset is not followed forever: exit 4, nothing deleted', async () => {
    const api = await fakeApi(100, { listIgnoresOffset: true });
    fake = api.fake;
    const dir = workDir();
    const filterPath = writeFile(dir, 'filter.json', JSON.stringify({ matchAll: true, match: {}, pageSize: 10 }));

    const result = await runInProcess(['run', '--yes', '--filter', filterPath, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });

    expect(result.code).toBe(4);
    expect(result.log).toMatch(/it may be ignoring offset/);
    expect(fake.stats.lists).toBeLessThan(10);
    expect(fake.deletes).toHaveLength(0);
    expect(existsSync(join(dir, 'a.manifest.csv'))).toBe(false);
  });

  test('on a terminal, the run asks for the count to be typed back: a wrong answer deletes nothing', async () => {
    const api = await fakeApi(100);
    fake = api.fake;
    const dir = workDir();
    const filterPath = writeFile(dir, 'filter.json', JSON.stringify({ match: { createdBy: ['qa-bot'] } }));
    const count = api.orders.filter((o) => o.created_by === 'qa-bot').length;
    const env = { ...process.env, ...credentialsEnv(fake) };
    // script(1) gives the CLI a pseudo-terminal; the answer is typed once the prompt is on screen.
    const typed = (answer: string, log: string) => new Promise<string>((resolve) => {
      const child = spawn('script', ['-qec', `${process.execPath} ${CLI} run --filter ${filterPath} --audit-log ${log}`, '/dev/null'], { env });
      let screen = '';
      child.stdout.on('data', (chunk: Buffer) => {
        screen += chunk.toString();
        if (/Type the number of orders/.test(screen) && !child.stdin.writableEnded) child.stdin.end(`${answer}\n`);
      });
      child.on('close', () => resolve(screen));
    });

    const refused = await typed(String(count + 1), join(dir, 'a.ndjson'));
    expect(refused).toContain(`About to DELETE ${count} orders on 127.0.0.1:${fake.port}, permanently.`);
    expect(refused).toContain(join(dir, 'a.manifest.csv'));
    expect(fake.deletes).toHaveLength(0);
    expect(refused).toContain(`not confirmed: you typed "${count + 1}", the count is ${count}. Nothing was deleted.`);
    expect(existsSync(join(dir, 'a.ndjson'))).toBe(false); // declined before the run started: nothing to resume

    await typed(String(count), join(dir, 'b.ndjson'));
    expect(fake.deleted).toHaveLength(count);
  });
});

/** Issue 24, item 3: filter help that helps, and a manifest a person can review. */
describe('filter help', () => {
  test('nothing matched: each criterion\'s exclusions, a warning with the likely fix for a mistyped value; no warning for a good night', async () => {
    const api = await fakeApi(60);
    fake = api.fake;
    const dir = workDir();
    const env = credentialsEnv(fake);
    const typo = writeFile(dir, 'typo.json', JSON.stringify({ match: { status: ['ACTVE'], createdBy: ['qa-bot'] } }));
    const mistyped = await runInProcess(['run', '--yes', '--filter', typo, '--audit-log', join(dir, 'a.ndjson')], { env });
    expect(mistyped.code).toBe(0);
    const said = mistyped.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: string; msg: string }).find((l) => l.msg.startsWith('Nothing matched'));
    expect(said?.level).toBe('warn');
    expect(said?.msg).toMatch(new RegExp(`^Nothing matched: of 60 orders listed, each criterion excluded status 60 \\(all\\), createdBy \\d+\\.\\n  status "ACTVE": no listed order has it; did you mean "ACTIVE"\\?`));

    // The test data all gone: nothing left is a good night, said once at info level, with no guess.
    const gone = writeFile(dir, 'gone.json', JSON.stringify({ match: { customAttributes: { test_data: 'gone' } } }));
    const night = await runInProcess(['run', '--yes', '--filter', gone, '--audit-log', join(dir, 'b.ndjson')], { env });
    const nothing = night.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: string; msg: string }).find((l) => l.msg.startsWith('Nothing matched'));
    expect(nothing).toMatchObject({ level: 'info', msg: 'Nothing matched: of 60 orders listed, each criterion excluded customAttributes.test_data 60 (all).' });
    expect(night.log).not.toMatch(/did you mean|Hint/);

    // Some matched: nothing more is said about the criteria.
    const some = writeFile(dir, 'some.json', JSON.stringify({ match: { createdBy: ['qa-bot'] } }));
    expect((await runInProcess(['run', '--yes', '--dry-run', '--filter', some, '--audit-log', join(dir, 'c.ndjson')], { env })).log).not.toMatch(/Nothing matched|criterion excluded/);
    expect(readFileSync(join(dir, 'c.manifest.csv'), 'utf8').split('\n')[0]).toBe('order_id,name,status,currency,total,created_by');
  });

  test('a listing whose fields are not text (a number, an object, a list of nulls) selects nothing by them and never crashes', async () => {
    const api = await fakeApi(20);
    fake = api.fake;
    const dir = workDir();
    for (const order of api.orders.slice(0, 3)) {
      fake.orders.set(order.id, { ...order, status: 5, name: { x: 1 }, total: ['=1+1'], custom_attributes: [null, 7] } as never);
    }
    const filter = writeFile(dir, 'f.json', JSON.stringify({ match: { status: ['ACTIVE'], nameStartsWith: 'QA', customAttributes: { test_data: 'yes' } } }));
    const result = await runInProcess(['run', '--yes', '--dry-run', '--filter', filter, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });
    expect(result.code).toBe(0);
    expect(result.log).not.toMatch(/internal error|TypeError/);
    const manifest = readFileSync(join(dir, 'a.manifest.csv'), 'utf8');
    for (const order of api.orders.slice(0, 3)) expect(manifest).not.toContain(order.id);
  });
});

describe('a listing with huge values (red team)', () => {
  test('a field of 2 MB in a listed order: the manifest cell is cut, the console shows no more than a person reads, the run goes on', async () => {
    const api = await fakeApi(30);
    fake = api.fake;
    const dir = workDir();
    const big = 'A'.repeat(2 * 1024 * 1024);
    for (const order of api.orders.slice(0, 3)) fake.orders.set(order.id, { ...order, status: big, name: big, created_by: 'qa-bot' } as never);
    const filter = writeFile(dir, 'f.json', JSON.stringify({ match: { status: ['ACTVE'] } }));
    const nothing = await runInProcess(['run', '--yes', '--dry-run', '--filter', filter, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });
    expect(nothing.code).toBe(0);
    expect(nothing.stderr.length).toBeLessThan(20_000);

    const some = writeFile(dir, 'g.json', JSON.stringify({ match: { createdBy: ['qa-bot'] } }));
    const listed = await runInProcess(['run', '--yes', '--dry-run', '--filter', some, '--audit-log', join(dir, 'b.ndjson')], { env: credentialsEnv(fake) });
    expect({ code: listed.code, said: listed.code === 0 ? '' : listed.log }).toEqual({ code: 0, said: '' });
    const manifest = readFileSync(join(dir, 'b.manifest.csv'), 'utf8');
    expect(manifest.length).toBeLessThan(200_000);
    expect(listed.stderr.length).toBeLessThan(20_000);
  });
});
