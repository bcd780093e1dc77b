import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import { DEMO_CLIENT, type FakeClient, type FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, runCli, runInProcess, startCli, workDir, writeFile } from '../helpers/cli.js';
import { type RecordingProxy, selfSignedCertificate, startRecordingProxy } from '../helpers/proxy.js';

/** Issue 9: secrets that reached a proxy in clear text or a person's screen. */
let fake: FakeExsited | undefined;
let proxy: RecordingProxy | undefined;
afterEach(async () => {
  await fake?.close();
  await proxy?.close();
  fake = undefined;
  proxy = undefined;
});

/** Every variable a proxy can come from, pointing at `url`. */
const proxyEnv = (url: string) => ({ HTTP_PROXY: url, HTTPS_PROXY: url, http_proxy: url, https_proxy: url, ALL_PROXY: url });

describe('proxies', () => {
  test('loopback traffic never goes through a proxy (the proxy saw the client secret and answered the DELETEs itself)', async () => {
    const api = await fakeApi(6);
    fake = api.fake;
    proxy = await startRecordingProxy();
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));

    const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson')], { env: { ...credentialsEnv(fake), ...proxyEnv(proxy.url) } });

    expect(result.code).toBe(0);
    expect(proxy.seen).toEqual([]);
    expect(fake.deleted).toHaveLength(6); // deleted by the API, not "deleted" by a proxy
  });

  test('through a proxy, https is tunnelled (CONNECT): the proxy never sees a request, a token or a secret', async () => {
    const tls = selfSignedCertificate('api.test');
    const api = await fakeApi(5, { tls });
    fake = api.fake;
    proxy = await startRecordingProxy({ 'api.test': fake.port });
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const env = { ...credentialsEnv(fake), ...proxyEnv(proxy.url), EXSITED_BASE_URL: `https://api.test:${fake.port}`, NODE_EXTRA_CA_CERTS: tls.certPath };

    const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--allow-host', 'api.test'], { env });

    expect(result.code).toBe(0);
    expect(fake.deleted).toHaveLength(5);
    expect(proxy.seen.length).toBeGreaterThan(0);
    expect(proxy.seen.every((s) => s.method === 'CONNECT' && s.target === `api.test:${fake!.port}`)).toBe(true);
  });

  test('a proxy that is not http(s) is refused before any request (exit 2), naming the variable', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const env = { ...credentialsEnv(fake), EXSITED_BASE_URL: 'https://api.test', HTTPS_PROXY: 'socks5://user:hunter2-proxy-password@127.0.0.1:1080' };

    const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--allow-host', 'api.test'], { env });

    expect(result.code).toBe(2);
    expect(result.log).toMatch(/proxy/i);
    expect(result.stderr).not.toContain('hunter2-proxy-password');
  });
});

describe('secrets echoed back', () => {
  const client: FakeClient = { ...DEMO_CLIENT, clientSecret: 'S3cr3t-0123456789abcdefghij0123456789ABCD' };

  test('a secret in an input line is scrubbed before the line is cut (39 of 42 characters were shown)', async () => {
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', `ORD-0001 ${'y'.repeat(12)}${client.clientSecret}\n`);
    const env = { EXSITED_CLIENT_ID: client.clientId, EXSITED_CLIENT_SECRET: client.clientSecret, EXSITED_REDIRECT_URI: client.redirectUri, EXSITED_BASE_URL: 'http://127.0.0.1:9' };

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson')], { env });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[REDACTED]');
    expect(result.stderr).not.toContain(client.clientSecret.slice(0, 10));
  });

  test.each(['HTTP_PROXY', 'http_proxy', 'all_proxy'])('a password in %s is scrubbed like one in HTTPS_PROXY (red team: HTTP_PROXY\'s was printed whole)', async (variable) => {
    const dir = workDir();
    const password = 'Pr0xy-pass-0123456789';
    const input = writeFile(dir, 'ids.txt', `ORD-0001 ${password}\n`);
    const env = { EXSITED_CLIENT_ID: client.clientId, EXSITED_CLIENT_SECRET: client.clientSecret, EXSITED_REDIRECT_URI: client.redirectUri, EXSITED_BASE_URL: 'http://127.0.0.1:9',
      [variable]: `http://proxy-user:${password}@127.0.0.1:9` };
    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson')], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[REDACTED]');
    expect(result.stderr).not.toContain(password.slice(0, 12));
  });

  test('a secret with a backslash is scrubbed in its escaped form too; so is a credential not in use', async () => {
    const dir = workDir();
    const secret = 'back\\slash-secret-0123456789';
    const token = 'pre-issued-token-0123456789';
    const input = writeFile(dir, 'ids.txt', `ORD-1 ${secret}\nORD-2 ${token}\n`);
    for (const format of ['json', 'text']) {
      const env = {
        EXSITED_ACCESS_TOKEN: token, EXSITED_CLIENT_ID: 'client', EXSITED_CLIENT_SECRET: secret, EXSITED_REDIRECT_URI: 'http://localhost/cb',
        EXSITED_BASE_URL: 'http://127.0.0.1:9', EXSITED_LOG_FORMAT: format,
      };
      const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson')], { env });
      expect(result.code).toBe(2);
      for (const form of [secret, JSON.stringify(secret).slice(1, -1), 'slash-secret-0123', token]) expect(result.stderr).not.toContain(form);
    }
  });

  test('a secret too short to keep out of logs is refused (exit 2), never echoed', async () => {
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', 'ORD-1\n');
    for (const env of [
      { EXSITED_CLIENT_ID: 'client', EXSITED_CLIENT_SECRET: 'abc12', EXSITED_REDIRECT_URI: 'http://localhost/cb' },
      { EXSITED_ACCESS_TOKEN: 'tk-1' },
    ]) {
      const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--base-url', 'http://127.0.0.1:9'], { env });
      expect(result.code).toBe(2);
      expect(result.log).toMatch(/too short/);
      expect(result.stderr).not.toMatch(/abc12|tk-1/);
    }
  });

  test('a server that echoes the bearer token and the client secret in its errors: neither reaches the log or the screen', async () => {
    const api = await fakeApi(20, { client, tokenTtlS: 1, faults: { seed: 4, latencyMs: 30, unauthorized: 0.2, statuses: { 503: 0.2 } }, hostile: { echoCredentials: true } });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', [...api.orders.map((o) => o.id), 'ORD-GONE-0001'].join('\n'));
    const log = join(dir, 'a.ndjson');
    const env = credentialsEnv(fake, client);

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log, '--retries', '0', '--backoff-base-ms', '5'], { env });
    const wrong = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'b.ndjson')], { env: { ...env, EXSITED_CLIENT_SECRET: 'Wrong-Secret-0123456789-abcdef' } });

    const everything = result.stdout + result.stderr + readFileSync(log, 'utf8') + wrong.stderr;
    expect(everything).toMatch(/request carried/); // the server did echo what it was sent
    for (const secret of [client.clientSecret, 'Wrong-Secret-0123456789-abcdef', ...fake.issuedTokens]) expect(everything).not.toContain(secret);
  });

  test('a server that echoes the client secret and the token encoded (issue 21): no form of either reaches stderr, stdout, the log, the summary or the page', async () => {
    const secret = 'Zk9/Qx+7b!W1(pT0)vH*aF3e';
    const wrongSecret = 'Wr0ng/S3cret+(x)!*~42-abc';
    const orders = 12;
    const generated = await fakeApi(orders);
    const refused = generated.orders[0]!.id;
    await generated.fake.close();
    const api = await fakeApi(orders, {
      client: { ...DEMO_CLIENT, clientSecret: secret }, tokenTtlS: 1, hostile: { echoCredentials: 'encoded' },
      faults: { seed: 21, unauthorized: 0.15, statuses: { 503: 0.15 } }, refusals: { [refused]: { status: 409, message: 'order has invoices' } },
    });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', [...api.orders.map((o) => o.id), 'ORD-GONE-0001'].join('\n'));
    const outputs: string[] = [];
    for (const [name, clientSecret] of [['right', secret], ['wrong', wrongSecret]]) {
      const files = { log: join(dir, `${name}.ndjson`), summary: join(dir, `${name}.json`), html: join(dir, `${name}.html`) };
      const env = { ...credentialsEnv(fake, { ...DEMO_CLIENT, clientSecret: clientSecret! }), EXSITED_LOG_FORMAT: 'json' };
      const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', files.log, '--summary-json', files.summary, '--html-report', files.html, '--retries', '1', '--backoff-base-ms', '5'], { env });
      outputs.push(result.stdout, result.stderr, ...Object.values(files).filter(existsSync).map((path) => readFileSync(path, 'utf8')));
    }

    const everything = outputs.join('\n');
    expect(everything).toMatch(/request carried Bearer \[REDACTED\]/); // the server did echo, and the scrubber saw it
    expect(everything).toMatch(/client_secret \[REDACTED\]/);
    expect(existsSync(join(dir, 'right.html'))).toBe(true);
    for (const credential of [secret, wrongSecret, ...fake.issuedTokens]) {
      for (const form of echoedForms(credential)) expect({ credential, form, found: everything.includes(form) }).toEqual({ credential, form, found: false });
    }
  });

  test('report: a credential in a log written before it was known reaches no page, CSV or screen, in any escaped form', async () => {
    const secret = 'R3p0rt&"<secret>\\x';
    const dir = workDir();
    const log = writeFile(dir, 'a.ndjson', [
      { level: 'info', time: '2026-11-28T10:00:00.000Z', runId: 'r1', event: 'run.start', version: '0.1.0', baseUrl: 'http://127.0.0.1:1', options: {}, source: { kind: 'text', path: 'ids.txt', sha256: 'a'.repeat(64), count: 1 } },
      { level: 'warn', time: '2026-11-28T10:00:01.000Z', runId: 'r1', event: 'order', orderId: 'ORD-1', outcome: 'failed', httpStatus: 400, attempts: 1, durationMs: 5, error: { code: `BAD_${secret}`, message: `client_secret=${secret} is not valid` } },
      { level: 'info', time: '2026-11-28T10:00:02.000Z', runId: 'r1', event: 'run.end', status: 'failed', exitCode: 1, durationMs: 2000 },
    ].map((line) => JSON.stringify(line)).join('\n'));
    const outputs = { html: join(dir, 'r.html'), timeline: join(dir, 't.csv'), failed: join(dir, 'f.csv') };

    const result = await runInProcess(['report', log, '--html', outputs.html, '--timeline', outputs.timeline, '--failed-csv', outputs.failed, '--json'], { env: { EXSITED_CLIENT_SECRET: secret } });

    expect(result.code).toBe(0);
    const forms = [secret, JSON.stringify(secret).slice(1, -1), 'R3p0rt&#38;', 'R3p0rt&amp;', 'R3p0rt&""', 'R3p0rt&\\"'];
    for (const text of [result.stdout, result.stderr, ...Object.values(outputs).map((path) => readFileSync(path, 'utf8'))]) {
      for (const form of forms) expect(text).not.toContain(form);
    }
    expect(readFileSync(outputs.html, 'utf8')).toContain('client_secret=[REDACTED] is not valid');
  });
});

/**
 * What must not come out of an echoed credential, in the forms the red-team review saw (issue 21): 12
 * characters of each form (a form's start, its case changed), and 8 base64 characters that encode it alone.
 */
function echoedForms(credential: string): string[] {
  const bytes = [...Buffer.from(credential)];
  const hex = Buffer.from(credential).toString('hex');
  const codes = [...credential].map((c) => c.charCodeAt(0));
  const forms = [
    credential, credential.toUpperCase(), credential.toLowerCase(), credential.slice(-12),
    encodeURIComponent(credential), encodeURIComponent(credential).toLowerCase(), new URLSearchParams({ c: credential }).toString().slice(2),
    bytes.map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''), encodeURIComponent(encodeURIComponent(credential)),
    JSON.stringify(credential).slice(1, -1).replace(/\//g, '\\/'), JSON.stringify(JSON.stringify(credential).slice(1, -1).replace(/\//g, '\\/')).slice(1, -1),
    codes.map((code) => `\\u${code.toString(16).padStart(4, '0')}`).join(''), codes.map((code) => `\\\\u${code.toString(16).padStart(4, '0')}`).join(''),
    hex, hex.toUpperCase(),
    codes.map((code) => `&#${code};`).join(''), credential.replace(/[^A-Za-z0-9]/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`),
    credential.replace(/&/g, '&amp;'),
  ].map((form) => form.slice(0, 12));
  const base64 = Buffer.from(`${'-'.repeat(55)}${credential}`).toString('base64');
  const inner = base64.slice(Math.ceil((8 * 55) / 6), Math.floor((8 * (55 + bytes.length)) / 6));
  for (let k = 0; k + 8 <= inner.length; k += 4) forms.push(inner.slice(k, k + 8));
  return [...new Set(forms.map((form) => form.replace(/\r\n/g, '')))];
}

describe('an order ID that holds a credential', () => {
  test('is refused before any request, its line named: written to the audit log it would be redacted, and its line would name no order (red team: ORD-[REDACTED]-1)', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', [api.orders[0]!.id, `ORD-${DEMO_CLIENT.clientId}-1`].join('\n'));
    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });
    expect(result.code).toBe(2);
    expect(result.log).toContain('line 2: holds a credential of this run (the client ID or a secret), which the audit log never writes: its line could not name the order');
    expect(result.log).not.toContain(DEMO_CLIENT.clientId);
    expect(fake.stats.requests).toBe(0);
    expect(existsSync(join(dir, 'a.ndjson'))).toBe(false);
  });

  test('listed for a filter (with an ID holding a "?"): the refusal never suggests --id-pattern, which cannot let them through (red team)', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const first = api.orders[0]!;
    fake.orders.set(`ORD-${DEMO_CLIENT.clientId}-1`, { ...first, id: `ORD-${DEMO_CLIENT.clientId}-1` });
    fake.orders.set('ORD?x=1', { ...first, id: 'ORD?x=1' }); // a sibling: refused whatever --id-pattern says too
    const dir = workDir();
    const filter = writeFile(dir, 'f.json', JSON.stringify({ match: { accountId: [first.account_id] }, matchAll: true }));
    const result = await runInProcess(['run', '--yes', '--filter', filter, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });
    expect(result.code).toBe(3);
    expect(result.log).toContain('Exclude them in the filter (e.g. "idPattern"): IDs refused for these reasons are refused whatever --id-pattern says');
    expect(result.log).not.toContain('widen the accepted IDs');
    expect(result.log).not.toContain(DEMO_CLIENT.clientId);
    expect(fake.deletes).toHaveLength(0);
  });

  test('a path holding one (a folder named after the client ID) is refused before any request: recorded redacted, the resume could not open its input (red team)', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    mkdirSync(join(dir, DEMO_CLIENT.clientId));
    const input = writeFile(join(dir, DEMO_CLIENT.clientId), 'ids.txt', api.orders[0]!.id);
    const result = await runInProcess(['run', '--yes', '--dry-run', '--ids', input, '--audit-dir', join(dir, 'runs')], { env: credentialsEnv(fake) });
    expect(result.code).toBe(2);
    expect(result.log).toContain('/[REDACTED]/ids.txt: the path holds a credential of this run (the client ID or a secret), which this tool never records or prints');
    expect(fake.stats.requests).toBe(0);
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  test('a working folder holding one is refused too: recorded redacted in run.start, a report run elsewhere missed the recorded input and overwrote it (red team)', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = join(workDir(), DEMO_CLIENT.clientId);
    mkdirSync(dir);
    writeFile(dir, 'ids.txt', api.orders[0]!.id);
    const result = await runCli(['run', '--yes', '--dry-run', '--ids', 'ids.txt', '--audit-dir', 'runs'], { env: credentialsEnv(fake), cwd: dir });
    expect(result.code).toBe(2);
    expect(result.log).toContain('the working folder ');
    expect(result.log).toContain('/[REDACTED] holds a credential of this run (the client ID or a secret), which this tool never records or prints');
    expect(fake.stats.requests).toBe(0);
  });

  test('schedule refuses a job spec whose path holds one at once, not at every turn (red team: stuck every night)', async () => {
    const dir = join(workDir(), DEMO_CLIENT.clientId);
    mkdirSync(dir);
    const job = writeFile(dir, 'job.json', JSON.stringify({ ids: 'ids.txt', yes: true }));
    const result = await runCli(['schedule', '0 3 * * *', '--job', job], { env: { EXSITED_CLIENT_ID: DEMO_CLIENT.clientId, EXSITED_ACCESS_TOKEN: 'x'.repeat(24) } });
    expect(result.code).toBe(2);
    expect(result.log).toContain('/[REDACTED]/job.json holds a credential of this run');
    expect(result.log).not.toContain(DEMO_CLIENT.clientId);
    // A path in the spec itself, too.
    const inSpec = writeFile(workDir(), 'job.json', JSON.stringify({ ids: 'ids.txt', yes: true, auditDir: `${DEMO_CLIENT.clientId}-runs` }));
    const refused = await runCli(['schedule', '0 3 * * *', '--job', inSpec], { env: { EXSITED_CLIENT_ID: DEMO_CLIENT.clientId, EXSITED_ACCESS_TOKEN: 'x'.repeat(24) } });
    expect(refused.code).toBe(2);
    expect(refused.log).toContain('--audit-dir [REDACTED]-runs: the path holds a credential of this run');
    // From the environment as a turn reads it: refused at start too; and a spec's path the environment replaces is no matter.
    const plain = writeFile(workDir(), 'job.json', JSON.stringify({ ids: 'ids.txt', yes: true, tokenCache: `${DEMO_CLIENT.clientId}.cache` }));
    const env = { EXSITED_ACCESS_TOKEN: 'x'.repeat(24), EXSITED_CLIENT_ID: DEMO_CLIENT.clientId };
    const clean = writeFile(workDir(), 'job.json', JSON.stringify({ ids: 'ids.txt', yes: true }));
    const fromEnv = await runCli(['schedule', '0 3 * * *', '--job', clean], { env: { ...env, EXSITED_TOKEN_CACHE: `/tmp/${DEMO_CLIENT.clientId}-cache` } });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.log).toContain('--token-cache /tmp/[REDACTED]-cache: the path holds a credential of this run');
    const replaced = startCli(['schedule', '0 3 * * *', '--job', plain], { env: { ...env, EXSITED_TOKEN_CACHE: join(workDir(), 'tc.json') } });
    await replaced.printed(/next run: /); // started, waiting for 03:00
    replaced.child.kill('SIGTERM');
    await replaced.done;
  });
});

describe('a secret typed where an option\'s value goes', () => {
  test('is scrubbed from the refusal, the tool\'s own and commander\'s (red team: --concurrency=<the client secret> printed it whole)', async () => {
    const env = { EXSITED_CLIENT_SECRET: DEMO_CLIENT.clientSecret };
    const bad = await runInProcess(['run', '--ids', 'x.csv', `--concurrency=${DEMO_CLIENT.clientSecret}`], { env });
    const unknown = await runInProcess(['run', `--client-secret=${DEMO_CLIENT.clientSecret}`], { env });
    for (const result of [bad, unknown]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('[REDACTED]');
      expect(result.stderr).not.toContain(DEMO_CLIENT.clientSecret);
    }
  });
});

