import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import { generateOrders, type FakeOrder } from '../../src/fake-exsited/order-store.js';
import { startFakeExsited, type FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, readAudit, runInProcess, workDir, writeFile } from '../helpers/cli.js';

/** Issue 9: filters and listings that selected the wrong orders. Each test failed before its fix. */
let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const testData = (o: FakeOrder) => o.custom_attributes.some((a) => a.name === 'test_data' && a.value === 'yes');

describe('a filter that selects every order listed', () => {
  test('an empty customAttributes object is no criterion: refused before any request (it selected all 40)', async () => {
    const api = await fakeApi(40);
    fake = api.fake;
    const dir = workDir();
    const filter = writeFile(dir, 'f.json', '{"match": {"customAttributes": {}}}');

    const result = await runInProcess(['run', '--yes', '--filter', filter, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });

    expect(result.code).toBe(2);
    expect(result.log).toContain('match.customAttributes: expected at least one attribute');
    expect(fake.stats.requests).toBe(0);
  });

  test('criteria that happen to match every listed order are refused (exit 3) without "matchAll": true', async () => {
    const api = await fakeApi(40);
    fake = api.fake;
    const dir = workDir();
    const statuses = [...new Set(api.orders.map((o) => o.status))];
    const filter = writeFile(dir, 'f.json', JSON.stringify({ match: { status: statuses } }));

    const result = await runInProcess(['run', '--yes', '--filter', filter, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });

    expect(result.code).toBe(3);
    expect(result.log).toContain('selected every one of the 40 orders listed');
    expect(result.log).toContain('"matchAll": true');
    expect(result.log).toContain('nothing was deleted');
    expect(fake.deletes).toHaveLength(0);

    const meant = writeFile(dir, 'all.json', JSON.stringify({ match: { status: statuses }, matchAll: true }));
    const allowed = await runInProcess(['run', '--yes', '--filter', meant, '--audit-log', join(dir, 'b.ndjson')], { env: credentialsEnv(fake) });
    expect(allowed.code).toBe(0);
    expect(fake.orders.size).toBe(0);
  });

  test('a filter naming every account selects every order: refused (exit 3) without "matchAll": true, whatever criteria made it so', async () => {
    const api = await fakeApi(36);
    fake = api.fake;
    const dir = workDir();
    const filter = writeFile(dir, 'f.json', JSON.stringify({ match: { accountId: [...new Set(api.orders.map((o) => o.account_id))] } }));

    const result = await runInProcess(['run', '--yes', '--filter', filter, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });

    expect(result.code).toBe(3);
    expect(result.log).toContain('selected every one of the 36 orders listed');
    expect(result.log).toContain('"matchAll": true');
    expect(fake.deletes).toHaveLength(0);
  });

  test('a dry run says a real run would be refused, and its resume is refused', async () => {
    const api = await fakeApi(30);
    fake = api.fake;
    const dir = workDir();
    const filter = writeFile(dir, 'f.json', JSON.stringify({ match: { createdBefore: 'now' } }));
    const log = join(dir, 'a.ndjson');

    const dry = await runInProcess(['run', '--yes', '--filter', filter, '--audit-log', log, '--dry-run'], { env: credentialsEnv(fake) });
    expect(dry.code).toBe(0);
    expect(dry.log).toContain('A real run would be refused');
    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log], { env: credentialsEnv(fake) });
    expect(resumed.code).toBe(3);
    expect(resumed.log).toContain('selected every one of the 30 orders listed');
    expect(fake.deletes).toHaveLength(0);
  });

  test('every order of one account: said with "matchAll": true, deleted; that account\'s orders only', async () => {
    const api = await fakeApi(60);
    fake = api.fake;
    const dir = workDir();
    const unsaid = writeFile(dir, 'f.json', JSON.stringify({ match: { accountId: ['QA-ACME-01'] } }));
    const said = writeFile(dir, 'g.json', JSON.stringify({ match: { accountId: ['QA-ACME-01'] }, matchAll: true }));

    const refused = await runInProcess(['run', '--yes', '--filter', unsaid, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });
    const result = await runInProcess(['run', '--yes', '--filter', said, '--audit-log', join(dir, 'b.ndjson')], { env: credentialsEnv(fake) });

    expect(refused.code).toBe(3);
    expect(refused.log).toContain('every order of the accounts it names');
    expect(result.code).toBe(0);
    expect(new Set(fake.deleted)).toEqual(new Set(api.orders.filter((o) => o.account_id === 'QA-ACME-01').map((o) => o.id)));
    expect(fake.orders.size).toBeGreaterThan(0);
  });
});

describe('IDs from a listing are taken exactly as returned', () => {
  test('a listed "PROD-2 " is refused and named, never trimmed into "PROD-2"; nothing is deleted', async () => {
    const [base] = generateOrders(1, 3) as [FakeOrder];
    const marked = (id: string, value: string): FakeOrder => ({ ...base, id, custom_attributes: [{ name: 'test_data', value }] });
    fake = await startFakeExsited({ orders: [marked('PROD-1', 'yes'), marked('PROD-2 ', 'yes'), marked('PROD-2', 'no'), marked('PROD-3', 'no')] });
    const dir = workDir();
    const filter = writeFile(dir, 'f.json', JSON.stringify({ match: { customAttributes: { test_data: 'yes' } } }));

    const result = await runInProcess(['run', '--yes', '--filter', filter, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });

    expect(result.code).toBe(3);
    expect(result.log).toContain('"PROD-2 "');
    expect(result.log).toContain('contains whitespace');
    expect(result.log).toContain('nothing was deleted');
    expect(result.log).not.toContain('nothing was sent'); // the token request and the listing were
    expect(fake.deletes).toHaveLength(0);
    expect(fake.orders.has('PROD-2')).toBe(true);
  });

  test('a manifest is read back byte for byte: an ID with a trailing space in it is refused, not trimmed', async () => {
    const api = await fakeApi(10);
    fake = api.fake;
    const dir = workDir();
    const filter = writeFile(dir, 'f.json', JSON.stringify({ match: { customAttributes: { test_data: 'yes' } } }));
    const log = join(dir, 'a.ndjson');
    expect((await runInProcess(['run', '--yes', '--filter', filter, '--audit-log', log, '--dry-run'], { env: credentialsEnv(fake) })).code).toBe(0);
    const manifest = readAudit(log)[0]?.source.path as string;
    const first = api.orders.find(testData) as FakeOrder;
    const { readFileSync, writeFileSync } = await import('node:fs');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(`${first.id},`, `${first.id} ,`));

    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--force'], { env: credentialsEnv(fake) });

    expect(resumed.code).toBe(2);
    expect(resumed.log).toContain(`"${first.id} "`);
    expect(fake.deletes).toHaveLength(0);
  });
});

describe('filter values that would change a request path', () => {
  test('accountId ".." (which would list /api/v3/orders, every order) is refused before any request', async () => {
    const api = await fakeApi(10);
    fake = api.fake;
    const dir = workDir();
    for (const value of ['..', '.', 'QA/../..', 'a?b', 'a b']) {
      const filter = writeFile(dir, 'f.json', JSON.stringify({ match: { accountId: [value], createdBy: ['qa-bot'] } }));
      const result = await runInProcess(['run', '--yes', '--filter', filter, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });
      expect(result.code).toBe(2);
      expect(result.log).toContain('match.accountId.0');
    }
    expect(fake.stats.requests).toBe(0);
  });
});
