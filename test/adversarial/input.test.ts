import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, readAudit, runCli, runInProcess, workDir, writeFile } from '../helpers/cli.js';

/** Issue 9: input files read in a way that deleted the wrong orders or hid the problem. */
let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('which CSV column holds the order IDs', () => {
  test('with the header id,order_id, the order_id column is used, not the row numbers in id', async () => {
    const api = await fakeApi(10);
    fake = api.fake;
    const dir = workDir();
    const ids = api.orders.slice(0, 3).map((o) => o.id);
    const input = writeFile(dir, 'x.csv', `id,order_id\n${ids.map((id, i) => `${i + 1},${id}`).join('\n')}\n`);

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });

    expect(result.code).toBe(0);
    expect(fake.deletes.map((d) => d.orderId).sort()).toEqual([...ids].sort());
    expect(readAudit(join(dir, 'a.ndjson'))[0]?.source).toMatchObject({ column: 'order_id' });
  });

  test.each([
    ['a header named twice', 'order_id,x,order_id'],
    ['two spellings of the order ID column', 'orderId,order_id'],
    ['two id columns and no order ID column', 'id,ID'],
  ])('%s is ambiguous: exit 2 naming the columns, nothing sent', async (_name, header) => {
    const api = await fakeApi(5);
    fake = api.fake;
    const dir = workDir();
    const width = header.split(',').length;
    const input = writeFile(dir, 'x.csv', `${header}\n${api.orders.slice(0, 2).map((o) => Array(width).fill(o.id).join(',')).join('\n')}\n`);

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });

    expect(result.code).toBe(2);
    expect(result.log).toMatch(/ambiguous/);
    expect(result.log).toContain('--column');
    expect(fake.stats.requests).toBe(0);
  });

  test('--column naming a header that appears twice is ambiguous too', async () => {
    const dir = workDir();
    const input = writeFile(dir, 'x.csv', 'ref,Ref\nORD-1,ORD-2\n');
    const result = await runInProcess(['run', '--yes', '--ids', input, '--column', 'ref', '--audit-log', join(dir, 'a.ndjson')], { env: { EXSITED_ACCESS_TOKEN: 'tok-123456789', EXSITED_BASE_URL: 'http://127.0.0.1:9' } });
    expect(result.code).toBe(2);
    expect(result.log).toMatch(/ambiguous/);
  });

  test('a header line in text or stdin input is a header, never sent as an ID', async () => {
    const api = await fakeApi(5);
    fake = api.fake;
    const dir = workDir();
    const ids = api.orders.slice(0, 2).map((o) => o.id);
    const text = writeFile(dir, 'ids.txt', `order_id\n${ids.join('\n')}\n`);

    const fromFile = await runInProcess(['run', '--yes', '--ids', text, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });
    const fromStdin = await runInProcess(['run', '--yes', '--ids', '-', '--audit-log', join(dir, 'b.ndjson')], { env: credentialsEnv(fake), stdin: `Order ID\n${api.orders[2]?.id}\n` });
    const oneColumnCsvAsText = await runInProcess(['run', '--yes', '--ids', writeFile(dir, 'one.csv', `order_id\n${api.orders[3]?.id}\n`), '--format', 'text',
      '--audit-log', join(dir, 'c.ndjson'), '--yes'], { env: credentialsEnv(fake) });

    expect([fromFile.code, fromStdin.code, oneColumnCsvAsText.code]).toEqual([0, 0, 0]);
    expect(fake.deletes.map((d) => d.orderId).sort()).toEqual([...ids, api.orders[2]?.id, api.orders[3]?.id].sort());
    expect(fromFile.log).toMatch(/line 1 .*header/);
  });
});

describe('inputs that are not what they seem', () => {
  test('a job spec and a filter file that are not valid JSON, through the built CLI: exit 2 naming the line (the bundle once crashed on them, exit 70)', async () => {
    const dir = workDir();
    const job = writeFile(dir, 'job.json', '{\n  "ids": "ids.csv",\n  "concurrency": 4,\n}\n');
    const filter = writeFile(dir, 'f.json', 'not json');
    const env = { EXSITED_ACCESS_TOKEN: 'tok-123456789', EXSITED_BASE_URL: 'http://127.0.0.1:9', EXSITED_LOG_FORMAT: 'text' };
    const [badJob, badFilter] = await Promise.all([runCli(['run', '--job', job], { env }), runCli(['run', '--filter', filter, '--dry-run'], { env })]);
    expect(badJob.code).toBe(2);
    expect(badJob.log).toMatch(/--job .*job\.json: not valid JSON at line 4, column 1/);
    expect(badFilter.code).toBe(2);
    expect(badFilter.log).toMatch(/f\.json.*not valid JSON at line 1/);
    for (const result of [badJob, badFilter]) expect(result.log).not.toMatch(/internal error|Cannot find module/);
  });

  test('a UTF-16 file is named as an encoding problem (exit 2), not as invalid IDs', async () => {
    const dir = workDir();
    const path = join(dir, 'ids.txt');
    writeFileSync(path, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('ORD-1\nORD-2\n', 'utf16le')]));
    const result = await runInProcess(['run', '--yes', '--ids', path, '--audit-log', join(dir, 'a.ndjson')], { env: { EXSITED_ACCESS_TOKEN: 'tok-123456789', EXSITED_BASE_URL: 'http://127.0.0.1:9' } });
    expect(result.code).toBe(2);
    expect(result.log).toContain('UTF-16');
    expect(result.log).toContain('UTF-8');
  });

  test('zero-width characters and line separators in a bad ID are shown escaped', async () => {
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', 'ORD-\u200b1\nORD-\u20282\nORD-\u202e3\n');
    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson')], { env: { EXSITED_ACCESS_TOKEN: 'tok-123456789', EXSITED_BASE_URL: 'http://127.0.0.1:9' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('\\u200b');
    expect(result.stderr).toContain('\\u2028');
    expect(result.stderr).toContain('\\u202e');
    expect(result.stderr).not.toMatch(/[\u200b\u2028\u202e]/);
  });

  test('a CSV header of 8 MB (8 times the line limit) is not echoed whole; a 4 MB one-line ID is refused with a short message', async () => {
    const dir = workDir();
    const env = { EXSITED_ACCESS_TOKEN: 'tok-123456789', EXSITED_BASE_URL: 'http://127.0.0.1:9', EXSITED_LOG_FORMAT: 'text' };
    const header = writeFile(dir, 'h.csv', `${'x'.repeat(8 * 1024 * 1024)}\nORD-1\n`);
    // The built CLI (0.8 s): the same run in Jest's module runtime took seven seconds of CPU.
    const wide = await runCli(['run', '--yes', '--ids', header, '--audit-log', join(dir, 'a.ndjson')], { env });
    expect(wide.code).toBe(2);
    expect(wide.stderr.length).toBeLessThan(4000);

    const line = writeFile(dir, 'l.txt', `ORD-${'1'.repeat(4 * 1024 * 1024)}\n`);
    const long = await runCli(['run', '--yes', '--ids', line, '--audit-log', join(dir, 'b.ndjson')], { env });
    expect(long.code).toBe(2);
    expect(long.log).toContain('line 1: longer than');
    expect(long.stderr.length).toBeLessThan(4000);
  });

  test('filter and job files that start with a byte-order mark are read', async () => {
    const api = await fakeApi(20);
    fake = api.fake;
    const dir = workDir();
    const filter = writeFile(dir, 'f.json', `\uFEFF${JSON.stringify({ match: { createdBy: ['qa-bot'] } })}`);
    const job = writeFile(dir, 'job.json', `\uFEFF${JSON.stringify({ filter, auditLog: join(dir, 'a.ndjson'), dryRun: true })}`);
    const result = await runInProcess(['run', '--yes', '--job', job], { env: credentialsEnv(fake) });
    expect(result.code).toBe(0);
    expect(readAudit(join(dir, 'a.ndjson')).filter((l) => l.outcome === 'would_delete').length).toBeGreaterThan(0);
  });
});

describe('a `..` after a symbolic link means the folder the kernel finds, everywhere (red team)', () => {
  test('a job spec reached through link/.. takes the filter beside it, never the one the spelling collapses to; an output through /dev/fd/.. is written', async () => {
    const api = await fakeApi(30);
    fake = api.fake;
    const dir = workDir();
    mkdirSync(join(dir, 'sub', 'inner'), { recursive: true });
    symlinkSync('sub/inner', join(dir, 'l'));
    const [mine, other] = [...new Set(api.orders.map((o) => o.account_id))] as [string, string];
    const filter = (account: string) => JSON.stringify({ match: { accountId: [account] }, matchAll: true });
    writeFile(join(dir, 'sub'), 'f.json', filter(mine));
    writeFile(dir, 'f.json', filter(other)); // where `l/..` leads by its spelling
    writeFile(join(dir, 'sub'), 'job.json', JSON.stringify({ filter: 'f.json', auditLog: 'a.ndjson', yes: true }));

    const result = await runCli(['run', '--job', 'l/../job.json', '--summary-json', '/dev/fd/../cwd/s.json'], { env: credentialsEnv(fake), cwd: dir });

    expect(result.code).toBe(0);
    const accounts = new Set(fake.deletes.map((d) => api.orders.find((o) => o.id === d.orderId)?.account_id));
    expect([...accounts]).toEqual([mine]);
    // /dev/fd/.. is the process's own /proc entry: its cwd is the run's folder (the check passed; the write, through join, went to /dev/cwd).
    expect(JSON.parse(readFileSync(join(dir, 's.json'), 'utf8'))).toMatchObject({ status: 'completed' });
    // A job's filter spelt with a `..` of its own folder's: read beside the job, never checked from the working folder (red team: refused).
    writeFile(join(dir, 'sub'), 'job2.json', JSON.stringify({ filter: 'inner/../f.json', auditLog: 'b.ndjson', yes: true, dryRun: true }));
    expect((await runCli(['run', '--job', 'sub/job2.json'], { env: credentialsEnv(fake), cwd: dir })).code).toBe(0);
    // A `..` after a folder that does not exist yet: refused, never written by spelling in one folder and looked for by the kernel in another.
    const refused = await runInProcess(['run', '--yes', '--ids', join(dir, 'sub', 'f.json'), '--audit-dir', `${dir}/l/../new/sub/..`], { env: credentialsEnv(fake) });
    expect(refused.code).toBe(2);
    expect(refused.log).toContain(`its part up to the last "..", ${dir}/l/../new/sub/.., cannot be followed (no such file or folder): give the path without ".." there`);
    expect(existsSync(join(dir, 'new'))).toBe(false);
  });
});
