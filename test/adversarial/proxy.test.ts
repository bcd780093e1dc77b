import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, FAST, readAudit, runCli, workDir, writeFile } from '../helpers/cli.js';
import { selfSignedCertificate, startRecordingProxy, type ConnectAnswer, type RecordingProxy } from '../helpers/proxy.js';

/** Issue 21, case 1: a proxy's own answer to CONNECT was taken for the API's (orders recorded deleted that Exsited still holds). */
let fake: FakeExsited | undefined;
let proxy: RecordingProxy | undefined;
afterEach(async () => {
  await fake?.close();
  await proxy?.close();
  fake = undefined;
  proxy = undefined;
});

const PROXY_USER = 'proxy-user';
const PROXY_PASSWORD = 'Pr0xy-Passw0rd-4242';
const basic = Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64');
const tokenJson = () => JSON.stringify({ access_token: 'forged-by-the-proxy-0123456789', refresh_token: 'forged-refresh-0123456789', expires_in: 3600 });

async function runThrough(answer: (index: number) => ConnectAnswer, count = 3, extra: string[] = []) {
  const tls = selfSignedCertificate('api.test');
  const api = await fakeApi(count, { tls });
  fake = api.fake;
  proxy = await startRecordingProxy({ 'api.test': fake.port }, answer);
  const dir = workDir();
  const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
  const log = join(dir, 'a.ndjson');
  const url = `http://${PROXY_USER}:${PROXY_PASSWORD}@${proxy.url.replace('http://', '')}`;
  const env = { ...credentialsEnv(fake), HTTPS_PROXY: url, EXSITED_BASE_URL: `https://api.test:${fake.port}`, NODE_EXTRA_CA_CERTS: tls.certPath };
  const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', log, '--allow-host', 'api.test', '--retries', '2', ...FAST, ...extra], { env });
  return { result, log, api };
}

describe('a proxy that answers CONNECT itself is a connection failure, never the API', () => {
  test.each([
    ['201 with a token, then 204 to every DELETE', (i: number) => ({ status: i === 0 ? 201 : 204, body: i === 0 ? tokenJson : undefined })],
    ['404 to everything', () => ({ status: 404 })],
    ['200 OK in the body of a 502', () => ({ status: 502, body: () => '{"orders":[]}' })],
  ] as Array<[string, (i: number) => ConnectAnswer]>)('%s: not authenticated, nothing recorded, exit 5 (unreachable, not waited for) naming the proxy', async (_, answer) => {
    const { result, log } = await runThrough(answer);

    expect(result.code).toBe(5);
    expect(result.log).not.toMatch(/Authenticated/);
    expect(result.log).toMatch(/proxy http:\/\/127\.0\.0\.1:\d+ refused to open a tunnel/);
    expect(result.log).toMatch(/unreachable: .*\(EPROXYCONNECT\): the proxy .* refused to open a tunnel .*: nothing reached it, nothing was sent/);
    expect(result.log).not.toMatch(/trying again in/); // a proxy's refusal is not waited for
    expect(existsSync(log) ? readAudit(log).filter((line) => line.event === 'order') : []).toEqual([]);
    expect(fake!.stats.requests).toBe(0); // the API heard nothing
  });

  test('a proxy that tunnels the token request, then answers DELETEs itself: every order recorded deleted is gone from the API', async () => {
    // The first CONNECT is a real tunnel (the token, and whatever that socket carries); every later one is answered 204 by the proxy.
    const { result, log } = await runThrough((i) => (i === 0 ? 'tunnel' : { status: 204 }), 12, ['--concurrency', '4', '--halt-after', '0']);

    const orders = readAudit(log).filter((line) => line.event === 'order');
    expect(orders).toHaveLength(12);
    const deleted = orders.filter((line) => line.outcome === 'deleted').map((line) => line.orderId);
    expect(deleted.every((id) => fake!.deleted.includes(id!))).toBe(true);
    expect(orders.filter((line) => line.outcome === 'already_absent')).toEqual([]);
    for (const line of orders.filter((l) => l.outcome === 'failed')) expect(line).toMatchObject({ httpStatus: null, error: { code: 'EPROXYCONNECT' } });
    expect([0, 1]).toContain(result.code);
  });

  test('a 407 page that echoes Proxy-Authorization: neither the password nor its base64 reaches the screen or the log', async () => {
    const { result, log } = await runThrough(() => ({ status: 407, body: (request) => `Access denied. You sent:\n${request}` }));

    expect(proxy!.seen.some((s) => s.authorization === `Basic ${basic}`)).toBe(true); // the proxy did get the header
    expect(result.code).toBe(5);
    expect(result.log).toMatch(/407: proxy authentication required/);
    const everything = result.stdout + result.stderr + (existsSync(log) ? readAudit(log).map((l) => JSON.stringify(l)).join('\n') : '');
    for (const form of [PROXY_PASSWORD, basic, basic.slice(8, 24), encodeURIComponent(PROXY_PASSWORD)]) expect(everything).not.toContain(form);
  });
});

describe('the certificate inside the tunnel is always checked (issue 21, case 1\'s sibling)', () => {
  test('NODE_TLS_REJECT_UNAUTHORIZED=0 and a proxy that answers TLS itself: not authenticated, nothing sent, exit 5 (not waited for)', async () => {
    const tls = selfSignedCertificate('api.test'); // not dev-api.exsited.com's certificate, and no CA vouches for it
    const api = await fakeApi(3, { tls });
    fake = api.fake;
    proxy = await startRecordingProxy({ 'dev-api.exsited.com': fake.port });
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const env = { ...credentialsEnv(fake), EXSITED_BASE_URL: 'https://dev-api.exsited.com', HTTPS_PROXY: proxy.url, NODE_TLS_REJECT_UNAUTHORIZED: '0' };

    const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--retries', '1', ...FAST], { env });

    expect(result.code).toBe(5);
    expect(result.log).not.toMatch(/trying again in/);
    expect(result.log).not.toMatch(/Authenticated/);
    expect(fake.stats.requests).toBe(0);
    expect(fake.tokenRequests).toHaveLength(0);
  });

  test('a proxy that cannot be reached is named as the proxy, never as the API host it was to reach (red team: "cannot connect to dev-api.exsited.com")', async () => {
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', 'ORD-1\n');
    const env = { EXSITED_CLIENT_ID: 'client', EXSITED_CLIENT_SECRET: 'secret-0123456789', EXSITED_REDIRECT_URI: 'r', EXSITED_BASE_URL: 'https://dev-api.exsited.com', HTTPS_PROXY: 'http://127.0.0.1:9' };
    const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--retries', '1', '--reach-wait', '1s', ...FAST], { env }); // the proxy is read from the process's environment
    expect(result.code).toBe(5);
    expect(result.log).toContain('cannot connect to the proxy 127.0.0.1:9 (for dev-api.exsited.com) (ECONNREFUSED); retrying 1/1');
    expect(result.log).not.toMatch(/cannot connect to dev-api/);
  });
});
