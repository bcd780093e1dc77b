import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, NOBODY, readAudit, runCli, runInProcess, startCli, workDir, writeFile, type CliResult } from '../helpers/cli.js';

/** Issue 21, cases 8 and 11: what a neighbour can put at the token cache's path, and its lock. */
let fake: FakeExsited | undefined;
/** Requests the fake had answered before the run under test. */
let sentBefore = 0;
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await fake?.close();
  fake = undefined;
});

/** A fake API with a few orders, an ID file and a folder for the cache. */
async function setUp() {
  const api = await fakeApi(6);
  fake = api.fake;
  sentBefore = 0;
  const dir = workDir();
  const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
  return { dir, input, env: credentialsEnv(fake) };
}

/** Refused before anything was sent: exit 2, one sentence naming the path and the reason; no stack, no raw error code. */
function expectRefused(result: CliResult, ...mentions: Array<string | RegExp>) {
  expect(result.code).toBe(2);
  expect(result.stderr).not.toMatch(/\n\s+at |internal error|\bE[A-Z]{3,}\b/);
  for (const mention of mentions) expect(result.log).toMatch(mention);
  expect(result.log).toMatch(/nothing was sent/);
  expect(fake!.stats.requests).toBe(sentBefore);
}

/**
 * A gateway in front of the fake API that holds every token request while `holding`: a renewal that takes
 * its time. Held requests are passed on by `release`, or dropped by `drop` (their client was killed).
 */
async function holdingGateway(target: string) {
  const held: Array<() => void> = [];
  let holding = true;
  let arrived: () => void;
  const firstHeld = new Promise<void>((resolve) => (arrived = resolve));
  const server = http.createServer((req, res) => {
    const forward = () => {
      const upstream = http.request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    if (!holding || req.method !== 'POST' || !req.url?.includes('/oauth2/token')) return forward();
    held.push(forward);
    arrived();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    firstHeld,
    release: () => {
      holding = false;
      held.splice(0).forEach((forward) => forward());
    },
    drop: () => {
      holding = false;
      held.length = 0;
    },
  };
}

describe('case 8: what is at the token cache path is checked before it is opened', () => {
  test('a FIFO planted there: exit 2 at once, naming it (it blocked in open(2), deaf to SIGINT and SIGTERM)', async () => {
    const { dir, input, env } = await setUp();
    const cache = join(dir, 'cache.json');
    execFileSync('mkfifo', [cache]);

    const running = startCli(['run', '--dry-run', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--token-cache', cache], { env });
    let timer: NodeJS.Timeout | undefined;
    const blocked = new Promise<'blocked'>((resolve) => (timer = setTimeout(() => resolve('blocked'), 20_000)));
    const result = await Promise.race([running.done, blocked]);
    clearTimeout(timer);

    expect(result).not.toBe('blocked');
    expectRefused(result as CliResult, `--token-cache ${cache}: it is a FIFO (named pipe), not a file`);
  });

  test.each([
    ['a socket', (path: string) => listenOn(path), /it is a socket, not a file/],
    ['a character device (/dev/zero)', () => '/dev/zero', /it is a character device, not a file/],
    ['/dev/stdin (a link to whatever stdin is)', () => '/dev/stdin', /it is a symbolic link, not a file \(a link is not followed here/],
    ['a folder', (path: string) => void mkdirSync(path), /it is a folder, not a file/],
    ['a link to a cache of ours', (path: string) => void linkToOwnCache(path), /it is a symbolic link, not a file/],
    ['a file of another user', (path: string) => void ownedByNobody(path), /owned by another user/],
    ['a file of 2 MiB', (path: string) => void writeFileSync(path, Buffer.alloc(2 * 1024 * 1024, 32), { mode: 0o600 }), /larger than 1 MiB: too large to be a token cache/],
  ])('%s: exit 2 naming it, nothing sent', async (_name, plant, reason) => {
    const { dir, input, env } = await setUp();
    const cache = (await plant(join(dir, 'cache.json'))) ?? join(dir, 'cache.json');
    const result = await runInProcess(['run', '--dry-run', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--token-cache', cache], { env });
    expectRefused(result, `--token-cache ${cache}: `, reason);
  });

  test('an audit log, or another JSON file, given as the token cache: refused as what it is, never "chmod" or "remove it to start afresh"', async () => {
    const { dir, input, env } = await setUp();
    const log = join(dir, 'earlier.ndjson');
    expect((await runInProcess(['run', '--dry-run', '--ids', input, '--audit-log', log], { env })).code).toBe(0);
    sentBefore = fake!.stats.requests;
    const before = readFileSync(log, 'utf8');
    for (const mode of [0o644, 0o600]) {
      chmodSync(log, mode);
      const result = await runInProcess(['run', '--dry-run', '--ids', input, '--audit-log', join(dir, `a-${mode}.ndjson`), '--token-cache', log], { env });
      expectRefused(result, `--token-cache ${log} is an audit log of this tool`);
      expect(result.log).not.toMatch(/chmod|start afresh/);
    }
    expect(readFileSync(log, 'utf8')).toBe(before);
    const other = writeFileSync(join(dir, 'settings.json'), '{"theme":"dark"}', { mode: 0o600 }) ?? join(dir, 'settings.json');
    const result = await runInProcess(['run', '--dry-run', '--ids', input, '--audit-log', join(dir, 'c.ndjson'), '--token-cache', other], { env });
    expectRefused(result, `--token-cache ${other}: it is not a token cache of this tool (another file given by mistake?)`);
    expect(result.log).not.toMatch(/chmod|start afresh/);
  });

  test('a folder this user cannot write: exit 2 naming it (it was exit 4, "cannot reach … a connection problem")', async () => {
    const { dir, input, env } = await setUp();
    mkdirSync(join(dir, 'root-only'), { mode: 0o755 });
    const runs = join(dir, 'runs');
    mkdirSync(runs, { mode: 0o777 });
    chmodSync(runs, 0o777);
    const cache = join(dir, 'root-only', 'cache.json');
    const result = await runCli(['run', '--dry-run', '--ids', input, '--audit-dir', runs, '--token-cache', cache], { env, user: NOBODY });
    expectRefused(result, `--token-cache ${cache}: its folder cannot be written: permission denied`);
  });
});

describe('case 11: the token cache lock', () => {
  test.each([
    ['a FIFO', (lock: string) => execFileSync('mkfifo', [lock]), /its lock .*\.lock is a FIFO \(named pipe\), not a lock of this tool/],
    ['a file (another file\'s lock: an audit log\'s is a file too)', (lock: string) => writeFileSync(lock, '{"pid":1}'), /its lock .*\.lock is a file, not a lock of this tool .*a path of its own/],
    ['a symbolic link', (lock: string) => symlinkSync('/tmp', lock), /its lock .*\.lock is a symbolic link, not a lock of this tool/],
    ['a folder of another user', (lock: string) => { mkdirSync(lock); chownSync(lock, NOBODY.uid, NOBODY.gid); }, /its lock .*\.lock belongs to another user \(uid 65534\)/],
  ])('%s at PATH.lock: exit 2 at once naming it (it waited 24 s, then blamed the connection)', async (_name, plant, reason) => {
    const { dir, input, env } = await setUp();
    const cache = join(dir, 'cache.json');
    plant(`${cache}.lock`);
    const result = await runInProcess(['run', '--dry-run', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--token-cache', cache], { env });
    expectRefused(result, `--token-cache ${cache}: `, reason);
  });

  test('a lock left behind long ago (its time 10 minutes old) is taken over at once', async () => {
    const { dir, input, env } = await setUp();
    const cache = join(dir, 'cache.json');
    mkdirSync(`${cache}.lock`);
    const tenMinutesAgo = new Date(Date.now() - 600_000);
    utimesSync(`${cache}.lock`, tenMinutesAgo, tenMinutesAgo);
    const result = await runInProcess(['run', '--dry-run', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--token-cache', cache], { env });
    expect(result.code).toBe(0);
    expect(result.log).not.toMatch(/waiting/);
    expect(fake!.tokenRequests).toHaveLength(1);
  });

  test('a live neighbour renewing: the run waits, names it (pid, host), then takes the token it wrote; one token for both', async () => {
    const { dir, input } = await setUp();
    const gateway = await holdingGateway(fake!.url);
    const env = { ...credentialsEnv(fake!), EXSITED_BASE_URL: gateway.url, EXSITED_TOKEN_CACHE: join(dir, 'cache.json') };
    const logs = [join(dir, 'a.ndjson'), join(dir, 'b.ndjson')];
    const holder = startCli(['run', '--dry-run', '--ids', input, '--audit-log', logs[0]!], { env });
    await gateway.firstHeld; // the holder has the lock and waits for its token

    const waiter = startCli(['run', '--dry-run', '--ids', input, '--audit-log', logs[1]!], { env });
    await waiter.printed(new RegExp(`is locked by pid ${holder.child.pid} on [\\w.-]+, renewing the token since [\\dT:.Z-]+: waiting for it`));
    gateway.release();
    const results = await Promise.all([holder.done, waiter.done]);

    expect(results.map((r) => r.code)).toEqual([0, 0]);
    expect(fake!.tokenRequests).toHaveLength(1);
    expect(logs.map((log) => readAudit(log).at(-1)?.summary.tokens)).toEqual([{ obtained: 1, shared: 0 }, { obtained: 0, shared: 1 }]);
  });

  test('a holder killed (SIGKILL) mid-renewal: a run started right after takes its lock over at once (it gave up after 24 s)', async () => {
    const { dir, input } = await setUp();
    const gateway = await holdingGateway(fake!.url);
    const env = { ...credentialsEnv(fake!), EXSITED_BASE_URL: gateway.url, EXSITED_TOKEN_CACHE: join(dir, 'cache.json') };
    const killed = startCli(['run', '--dry-run', '--ids', input, '--audit-log', join(dir, 'a.ndjson')], { env });
    await gateway.firstHeld;
    killed.child.kill('SIGKILL');
    await killed.done;
    gateway.drop();

    const result = await runInProcess(['run', '--dry-run', '--ids', input, '--audit-log', join(dir, 'b.ndjson')], { env });

    expect(result.code).toBe(0);
    expect(result.log).toMatch(new RegExp(`was left by pid ${killed.child.pid} on [\\w.-]+, which is gone \\(killed while it renewed the token\\): taken over`));
    expect(fake!.tokenRequests).toHaveLength(1);
  });
});

async function listenOn(path: string): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return path;
}

function linkToOwnCache(path: string): void {
  const real = `${path}.real`;
  writeFileSync(real, '{"version":1,"tokens":{}}', { mode: 0o600 });
  symlinkSync(real, path);
}

function ownedByNobody(path: string): void {
  writeFileSync(path, '{"version":1,"tokens":{}}', { mode: 0o600 });
  chownSync(path, NOBODY.uid, NOBODY.gid);
}
