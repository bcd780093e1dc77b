import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, readAudit, runCli, runInProcess, startCli, workDir, writeFile } from '../helpers/cli.js';
import { endAfter } from '../helpers/teardown.js';

/** Issue 9: what a hostile or broken server answered, and how it reached people. */
let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('absurd waits', () => {
  test.each([
    ['999999999 seconds', '999999999'],
    ['an HTTP date in 2099', 'Thu, 01 Jan 2099 00:00:00 GMT'],
  ])('Retry-After of %s: the order fails saying so, no timer overflow, the run ends', async (_name, header) => {
    const api = await fakeApi(20, { faults: { seed: 9, throttle: 0.3 }, hostile: { retryAfterHeader: header } });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log, '--backoff-base-ms', '5'], { env: credentialsEnv(fake) });

    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('TimeoutOverflowWarning');
    const failed = readAudit(log).filter((l) => l.outcome === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const line of failed) expect(line.error.message).toMatch(/asked to wait .* before retrying/);
    expect(readAudit(log).filter((l) => l.event === 'order')).toHaveLength(20);
  });
});

describe('server text on terminals and in spreadsheets', () => {
  const hostileMessage = '=HYPERLINK("http://evil.example/x","click") \u001b[31mred\u001b[0m \u001b]52;c;ZWNobyBvd25lZA==\u0007 \u009b2J \u202edone';

  test.each(['human', 'text', 'json', 'pretty'])('%s console, report and failed-orders CSV: escapes neutralised, formulas defused', async (format) => {
    const api = await fakeApi(6);
    const refused = api.orders.slice(0, 2).map((o) => o.id);
    await api.fake.close();
    fake = (await fakeApi(6, { refusals: Object.fromEntries(refused.map((id) => [id, { status: 409, message: hostileMessage }])) })).fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    const env = { ...credentialsEnv(fake), EXSITED_LOG_FORMAT: format };

    const run = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log], { env });
    const report = await runInProcess(['report', log, '--failed-csv', join(dir, 'failed.csv')], { env });
    const json = await runInProcess(['report', log, '--json'], { env });

    expect(run.code).toBe(1);
    expect(run.log).toContain('HYPERLINK'); // the message is shown, made harmless
    // pretty: the console's own colours (SGR) are the only escapes allowed; the server's are shown as text.
    const ownColours = (text: string) => (format === 'pretty' ? text.replace(/\u001b\[\d+m/g, '') : text);
    for (const output of [run.stderr, report.stdout, report.stderr, json.stdout, readFileSync(log, 'utf8')]) {
      expect(ownColours(output)).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    }
    expect(JSON.parse(json.stdout).failedOrders[0].message).toBe(hostileMessage); // JSON escapes keep the value exact
    const rows = readFileSync(join(dir, 'failed.csv'), 'utf8').trim().split('\n').slice(1);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      const cells = row.split(',');
      expect(cells.slice(1).every((cell) => !/^"?[=+\-@\t\r]/.test(cell))).toBe(true);
    }
    expect(rows.map((row) => row.split(',')[0]).sort()).toEqual([...refused].sort()); // IDs stay exact, usable as --ids
  });
});

describe('a token endpoint that does not answer as a token endpoint', () => {
  test.each([
    ['a redirect (307)', { status: 307, body: '', headers: { Location: 'https://login.elsewhere.example/token' } }, /redirect/, /--base-url/],
    ['a proxy\'s 403', { status: 403, body: 'Forbidden by proxy policy' }, /403/, /proxy|firewall/],
    ['no such endpoint (404)', { status: 404, body: 'Not Found' }, /404/, /--base-url/],
  ])('%s is not reported as bad credentials', async (_name, tokenAnswer, says, advice) => {
    const api = await fakeApi(3, { hostile: { tokenAnswer } });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson')], { env: credentialsEnv(fake) });

    expect(result.code).toBe(3);
    expect(result.log).toMatch(says);
    expect(result.log).toMatch(advice);
    expect(result.log).not.toContain('check EXSITED_CLIENT_ID');
    expect(fake.deletes).toHaveLength(0);
  });
});

/** A server of the test's own, closed after the test: the CLI's environment to reach it with the demo credentials. */
async function hostileApi(handler: http.RequestListener): Promise<NodeJS.ProcessEnv> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endAfter('test', () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return credentialsEnv({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

const TOKEN_ANSWER = JSON.stringify({ access_token: 'tok-7e1f0c9a5b3d2e4f6a8b', token_type: 'Bearer', expires_in: 3600 });

/** One order's run against an API whose every answer is `answer` (a token endpoint that never gives a token). */
async function oneOrderAgainst(answer: (res: http.ServerResponse) => void, ...args: string[]) {
  const env = await hostileApi((req, res) => {
    req.resume();
    answer(res);
  });
  const dir = workDir();
  return runCli(['run', '--yes', '--ids', writeFile(dir, 'ids.txt', 'ORD-1\n'), '--audit-dir', dir, ...args], { env });
}

describe('answers no API gives: a switch of protocols, a body too big or that never ends', () => {
  test('a DELETE answered 101 fails as a transport error, retried, recorded and told: the run ends (it ended with exit 13 and no run.end)', async () => {
    // Exsited's token and check answered properly; every DELETE answered 101 Switching Protocols, the connection then left open.
    const env = await hostileApi((req, res) => {
      req.resume();
      if (req.method === 'DELETE') {
        req.socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(req.url?.includes('oauth2/token') ? TOKEN_ANSWER : '{"orders":[]}');
    });
    const dir = workDir();
    const log = join(dir, 'a.ndjson');
    const result = await runCli(['run', '--yes', '--ids', writeFile(dir, 'ids.txt', 'ORD-1\nORD-2\n'), '--audit-log', log, '--retries', '1', '--backoff-base-ms', '5'], { env });
    expect(result.code).toBe(1);
    const orders = readAudit(log).filter((l) => l.event === 'order');
    expect(orders.map((l) => [l.orderId, l.outcome, l.attempts, l.error?.code]).sort()).toEqual([['ORD-1', 'failed', 2, 'EUPGRADE'], ['ORD-2', 'failed', 2, 'EUPGRADE']]);
    expect(readAudit(log).some((l) => l.event === 'run.end')).toBe(true);
    expect(result.log).toContain('101 Switching Protocols');
  });

  test('a DELETE answered 200 and then a body too big, or too slow, is recorded deleted, as its status says: never retried into already_absent (red team)', async () => {
    const deleted = new Set<string>();
    const env = await hostileApi((req, res) => {
      req.resume();
      if (req.method !== 'DELETE') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(TOKEN_ANSWER);
      } else if (deleted.has(req.url ?? '')) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"NOT_FOUND"}]}');
      } else {
        deleted.add(req.url ?? '');
        res.writeHead(200, { 'Content-Type': 'application/json' });
        if (req.url?.endsWith('/ORD-1')) res.end(`{}${' '.repeat(2 * 1024 * 1024)}`); // over the 1 MB a DELETE's answer may be
        else res.write('{'); // and the rest never comes: the request's --timeout-ms ends it
      }
    });
    const dir = workDir();
    const log = join(dir, 'a.ndjson');
    const result = await runCli(['run', '--yes', '--ids', writeFile(dir, 'ids.txt', 'ORD-1\nORD-2\n'), '--audit-log', log, '--timeout-ms', '1000', '--fail-on-absent'], { env });
    const orders = readAudit(log).filter((l) => l.event === 'order');
    expect(orders.map((l) => [l.orderId, l.outcome, l.httpStatus, l.attempts]).sort()).toEqual([['ORD-1', 'deleted', 200, 1], ['ORD-2', 'deleted', 200, 1]]);
    expect(result.code).toBe(0);
  });

  test('DELETEs answered by a proxy\'s pages, a 404 and a 200, fail, named as a page\'s; a resume sends them again (red team: recorded already_absent and deleted, exit 0, and skipped by the resume)', async () => {
    let proxied = true;
    const env = await hostileApi((req, res) => {
      req.resume();
      const id = req.url?.split('/').at(-1) ?? '';
      if (req.method !== 'DELETE') res.writeHead(200, { 'Content-Type': 'application/json' }).end(req.url?.includes('oauth2/token') ? TOKEN_ANSWER : '{"orders":[]}');
      else if (proxied && id === 'ORD-1') res.writeHead(404, { 'Content-Type': 'text/html' }).end('<html><h1>404 Not Found</h1><hr>nginx</html>');
      else if (proxied && id === 'ORD-2') res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><h1>Welcome to nginx!</h1></html>');
      // (second red team) a page untyped, a page typed JSON, a gateway's empty "no route", a 2xx carrying Exsited's errors
      else if (proxied && id === 'ORD-5') res.writeHead(404).end('<html><h1>404 Not Found</h1></html>');
      else if (proxied && id === 'ORD-6') res.writeHead(200, { 'Content-Type': 'application/json' }).end('<html><h1>Welcome to nginx!</h1></html>');
      else if (proxied && id === 'ORD-7') res.writeHead(404, { 'Content-Length': '0', Server: 'envoy' }).end();
      else if (proxied && id === 'ORD-8') res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"LOCKED","message":"order is locked"}]}');
      else if (id === 'ORD-4') res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"NOT_FOUND"}]}');
      else res.writeHead(204, { 'Content-Type': 'text/html; charset=UTF-8' }).end(); // as PHP sends a 204
    });
    const dir = workDir();
    const log = join(dir, 'a.ndjson');
    const ids = writeFile(dir, 'ids.txt', 'ORD-1\nORD-2\nORD-3\nORD-4\nORD-5\nORD-6\nORD-7\nORD-8\n');
    const result = await runCli(['run', '--yes', '--ids', ids, '--audit-log', log, '--retries', '1', '--backoff-base-ms', '5'], { env });
    const outcomes = () => readAudit(log).filter((l) => l.event === 'order').map((l) => [l.orderId, l.outcome, l.httpStatus]);
    expect(outcomes().sort()).toEqual([['ORD-1', 'failed', 404], ['ORD-2', 'failed', 200], ['ORD-3', 'deleted', 204], ['ORD-4', 'already_absent', 404],
      ['ORD-5', 'failed', 404], ['ORD-6', 'failed', 200], ['ORD-7', 'failed', 404], ['ORD-8', 'failed', 200]]);
    expect(result.code).toBe(1);
    expect(result.log).toContain("HTTP 404 with a text/html body, not the API's answer");
    expect(result.log).not.toContain('Welcome to nginx');
    proxied = false;
    const resumed = await runCli(['run', '--yes', '--resume', '--audit-log', log], { env });
    expect(resumed.code).toBe(0);
    expect(outcomes().slice(8).sort()).toEqual([['ORD-1', 'deleted', 204], ['ORD-2', 'deleted', 204], ['ORD-5', 'deleted', 204], ['ORD-6', 'deleted', 204],
      ['ORD-7', 'deleted', 204], ['ORD-8', 'deleted', 204]]);
  });

  test('the credentials check answered by a firewall\'s 403 page: a proxy or a gateway answered, exit 4, the credentials not blamed (second red team: exit 3, "the credentials were refused")', async () => {
    const env = await hostileApi((req, res) => {
      req.resume();
      if (req.url?.includes('oauth2/token')) res.writeHead(200, { 'Content-Type': 'application/json' }).end(TOKEN_ANSWER);
      else res.writeHead(403, { 'Content-Type': 'text/html' }).end('<html><head><title>Access denied</title></head><body>Request blocked</body></html>');
    });
    const dir = workDir();
    const result = await runCli(['run', '--yes', '--dry-run', '--ids', writeFile(dir, 'ids.txt', 'ORD-1\n'), '--audit-dir', dir], { env });
    expect(result.code).toBe(4);
    expect(result.log).toContain('failed: HTTP 403 Forbidden: a text/html body, "Access denied": a proxy or a gateway answered, not the API');
    expect(result.log).not.toContain('credentials were refused');
    expect(result.log).not.toContain('Request blocked');
  });

  test('a token endpoint whose answer is too big is said as an answer that cannot be used, never as a connection that failed (red team)', async () => {
    const result = await oneOrderAgainst((res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(`{}${' '.repeat(2 * 1024 * 1024)}`), '--retries', '1', '--backoff-base-ms', '5');
    expect(result.code).toBe(5);
    expect(result.log).toContain('gave no usable answer (ERR_BAD_RESPONSE)');
    expect(result.log).toContain('its answer could not be used, nothing was deleted');
    expect(result.log).not.toMatch(/cannot connect|nothing reached it|A connection problem/);
  });

  test('a token endpoint answering 503 with a body too big is said as its 503 (exit 4, run it again later), never as an answer that could not be used (exit 5)', async () => {
    const result = await oneOrderAgainst((res) => res.writeHead(503, { 'Content-Type': 'text/html' }).end(`<h1>down</h1>${' '.repeat(2 * 1024 * 1024)}`), '--retries', '1', '--backoff-base-ms', '5', '--reach-wait', '1ms');
    expect(result.code).toBe(4);
    expect(result.log).toContain('token endpoint answered 503');
    expect(result.log).not.toContain('ERR_BAD_RESPONSE');
  });

  test("a dry run's check of the credentials that gets an answer too big says so, never 'the API unreachable' (red team)", async () => {
    const env = await hostileApi((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(req.url?.includes('oauth2/token') ? TOKEN_ANSWER : `{"orders":[]}${' '.repeat(17 * 1024 * 1024)}`);
    });
    const dir = workDir();
    const result = await runCli(['run', '--dry-run', '--ids', writeFile(dir, 'ids.txt', 'ORD-1\n'), '--audit-dir', dir, '--retries', '0'], { env });
    expect(result.code).toBe(5);
    expect(result.log).toContain('the API gave no usable answer (ERR_BAD_RESPONSE): its answer could not be used, nothing was deleted');
    expect(result.log).toContain('An answer no API gives (a proxy or gateway in the way?), not the credentials');
    expect(result.log).not.toMatch(/the API unreachable|A connection problem/);
  });

  test('a token endpoint asking to wait 10 minutes (429, Retry-After: 600) is told so, exit 4: never a refusal of the credentials (red team: exit 3, "authentication failed")', async () => {
    const summary = join(workDir(), 's.json');
    const result = await oneOrderAgainst((res) => res.writeHead(429, { 'Retry-After': '600' }).end(), '--retries', '1', '--summary-json', summary);
    expect(result.code).toBe(4);
    expect(result.log).toContain('token endpoint answered 429');
    expect(result.log).toContain('asked to wait 10 min');
    expect(result.log).not.toContain('authentication failed');
    expect(JSON.parse(readFileSync(summary, 'utf8'))).toMatchObject({ exitCode: 4, stopCause: 'service' });
  });

  test('a listing page that comes too slowly ends the run saying what a person can change: --timeout-ms or the pageSize (red team)', async () => {
    const env = await hostileApi((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (req.url?.includes('oauth2/token')) res.end(TOKEN_ANSWER);
      else if (/[?&]limit=1&/.test(req.url ?? '')) res.end('{"orders":[{"id":"ORD-1","status":"ACTIVE"}],"pagination":{"records":1}}'); // the credentials' check
      else res.write('{"orders":['); // the page itself: the rest never comes
    });
    const dir = workDir();
    const filter = writeFile(dir, 'f.json', '{"match": {"status": ["ACTIVE"]}}');
    const result = await runCli(['run', '--yes', '--filter', filter, '--audit-dir', dir, '--timeout-ms', '300', '--retries', '0'], { env });
    expect(result.code).toBe(4);
    expect(result.log).toContain('listing orders failed at offset 0: no response (ETIMEDOUT); nothing was deleted');
    expect(result.log).toContain('a page must come whole within --timeout-ms; a slow API may need a larger one, or a smaller pageSize');
  });
});

/** A status line, a little of a page, then a TCP reset a moment later: a gateway cutting its answer off. */
function cutByReset(res: http.ServerResponse, status: number, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/html', ...headers });
  res.write('<h1>cut');
  setTimeout(() => res.socket?.resetAndDestroy(), 50);
}

describe('a status line, then no whole body: a status that decides without one is the answer, any other is retried (red team)', () => {
  test('DELETEs answered 500 too big, 500 cut by a reset, or reset before any status: HTTP 500 where a status came, and one --halt-after streak (it never halted, exit 1)', async () => {
    let deletes = 0;
    const env = await hostileApi((req, res) => {
      req.resume();
      if (req.method !== 'DELETE') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(TOKEN_ANSWER);
        return;
      }
      const turn = deletes++ % 3;
      if (turn === 0) res.writeHead(500, { 'Content-Type': 'text/html' }).end(`<h1>500</h1>${' '.repeat(2 * 1024 * 1024)}`); // over a DELETE's 1 MB
      else if (turn === 1) cutByReset(res, 500);
      else req.socket.resetAndDestroy();
    });
    const dir = workDir();
    const log = join(dir, 'a.ndjson');
    const ids = writeFile(dir, 'ids.txt', Array.from({ length: 9 }, (_, i) => `ORD-${i + 1}\n`).join(''));
    const result = await runCli(['run', '--yes', '--ids', ids, '--audit-log', log, '--retries', '0', '--concurrency', '1', '--halt-after', '6'], { env });
    expect(result.code).toBe(4);
    const orders = readAudit(log).filter((l) => l.event === 'order');
    expect(orders.map((l) => [l.httpStatus, l.error?.code])).toEqual(Array(2).fill([[500, 'HTTP_500'], [500, 'HTTP_500'], [null, 'ECONNRESET']]).flat());
    expect(result.log).toContain('6 orders in a row failed with the service not serving: HTTP 500 (4), no response (ECONNRESET) (2)');
  });

  test("a 429 cut off by a reset: its Retry-After is heard", async () => {
    const seen: number[] = [];
    const env = await hostileApi((req, res) => {
      req.resume();
      if (req.method !== 'DELETE') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(TOKEN_ANSWER);
        return;
      }
      seen.push(Date.now());
      if (seen.length === 1) cutByReset(res, 429, { 'Retry-After': '1' });
      else res.writeHead(204).end();
    });
    const dir = workDir();
    const result = await runCli(['run', '--yes', '--ids', writeFile(dir, 'ids.txt', 'ORD-1\n'), '--audit-dir', dir, '--backoff-base-ms', '5'], { env });
    expect(result.code).toBe(0);
    expect(seen).toHaveLength(2);
    expect((seen[1] as number) - (seen[0] as number)).toBeGreaterThanOrEqual(950); // a lower bound only: it holds on any machine
  });

  test.each([
    ['cut by a reset', (res: http.ServerResponse) => cutByReset(res, 503)],
    ['not the gzip it says', (res: http.ServerResponse) => res.writeHead(503, { 'Content-Encoding': 'gzip' }).end('not gzip')],
  ])('a token endpoint answering 503 %s is said as its 503, exit 4 (it was "cannot connect", exit 5)', async (_how, answer) => {
    const result = await oneOrderAgainst(answer, '--retries', '1', '--backoff-base-ms', '5', '--reach-wait', '1ms');
    expect(result.code).toBe(4);
    expect(result.log).toContain('token endpoint answered 503');
    expect(result.log).not.toMatch(/cannot connect|nothing reached it|A connection problem/);
  });

  test("a dry run's check of an order whose 404 is cut off is retried, never taken for a proxy's page: the retry finds it absent (red team: failed at once)", async () => {
    const cut = new Set<string>();
    const env = await hostileApi((req, res) => {
      req.resume();
      res.setHeader('Content-Type', 'application/json');
      if (req.url?.includes('oauth2/token')) res.writeHead(200).end(TOKEN_ANSWER);
      else if (req.url?.startsWith('/api/v3/orders?')) res.writeHead(200).end('{"orders":[],"pagination":{"records":0}}');
      else if (cut.has(req.url ?? '')) res.writeHead(404).end('{"errors":[{"code":"NOT_FOUND","message":"no such order"}]}');
      else {
        cut.add(req.url ?? '');
        res.writeHead(404, { 'Content-Length': '200' });
        res.write('{"errors":[{"code":"NOT_FO'); // the API's own 404, cut off once
        setTimeout(() => res.socket?.destroy(), 50);
      }
    });
    const dir = workDir();
    const log = join(dir, 'a.ndjson');
    await runCli(['run', '--dry-run', '--ids', writeFile(dir, 'ids.txt', 'ORD-1\n'), '--audit-log', log, '--backoff-base-ms', '5'], { env });
    expect(readAudit(log).filter((l) => l.event === 'order').map((l) => [l.outcome, l.attempts])).toEqual([['already_absent', 2]]);
  });

  test('DELETEs answered 403 with a page too big are HTTP 403, final, halted as such: never "no response", retried, or the service failing (red team)', async () => {
    const env = await hostileApi((req, res) => {
      req.resume();
      if (req.method !== 'DELETE') res.writeHead(200, { 'Content-Type': 'application/json' }).end(TOKEN_ANSWER);
      else res.writeHead(403, { 'Content-Type': 'text/html' }).end(`<h1>blocked</h1>${' '.repeat(2 * 1024 * 1024)}`); // a firewall's page
    });
    const dir = workDir();
    const log = join(dir, 'a.ndjson');
    const ids = writeFile(dir, 'ids.txt', 'ORD-1\nORD-2\nORD-3\nORD-4\nORD-5\nORD-6\nORD-7\nORD-8\n');
    const result = await runCli(['run', '--yes', '--ids', ids, '--audit-log', log, '--concurrency', '1', '--halt-after', '3', '--backoff-base-ms', '5'], { env });
    expect(result.code).toBe(4);
    expect(readAudit(log).filter((l) => l.event === 'order').map((l) => [l.httpStatus, l.attempts, l.error?.code])).toEqual(Array(3).fill([403, 1, 'NOT_THE_API'])); // a firewall's page: one cause with the other pages
    expect(result.log).toContain('3 orders in a row failed with HTTP 403 NOT_THE_API (last');
    expect(result.log).not.toMatch(/service is failing|no response|no usable answer/);
  });

  test.each([
    ['too big', (res: http.ServerResponse) => res.writeHead(401, { 'Content-Type': 'text/html' }).end(`<h1>no</h1>${' '.repeat(2 * 1024 * 1024)}`)],
    ['cut by a reset', (res: http.ServerResponse) => cutByReset(res, 401)],
  ])('a token endpoint answering 401 with a body %s refuses the credentials, exit 3: never "not the credentials", exit 5 (red team)', async (_how, answer) => {
    const result = await oneOrderAgainst(answer, '--retries', '1', '--backoff-base-ms', '5', '--reach-wait', '1s');
    expect(result.code).toBe(3);
    expect(result.log).toContain('token endpoint answered 401');
    expect(result.log).toContain('check EXSITED_CLIENT_ID, EXSITED_CLIENT_SECRET and EXSITED_REDIRECT_URI');
  });

  test.each([
    ['a 200 not the gzip it says', 'Z_DATA_ERROR', (res: http.ServerResponse) => res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }).end('garbage')],
    ['a 200 not the Brotli it says', 'ERR__ERROR_FORMAT_PADDING_1', (res: http.ServerResponse) => res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'br' }).end('garbage')],
    ['an answer that is not HTTP', 'HPE_INVALID_CHUNK_SIZE', (res: http.ServerResponse) => res.socket?.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n{}\r\n')],
  ])('a token endpoint giving %s gave no usable answer, exit 5: never "cannot connect" or "nothing reached it" (red team)', async (_what, code, answer) => {
    const result = await oneOrderAgainst(answer, '--retries', '0');
    expect(result.code).toBe(5);
    expect(result.log).toContain(`no usable answer: http://127.0.0.1:`);
    expect(result.log).toContain(`token endpoint gave no usable answer (${code})`);
    expect(result.log).not.toMatch(/cannot connect|nothing reached it|A connection problem/);
  });

  test('a token endpoint that fails mid-run (503) halts the run as the service, not the credentials, stopCause service in the summary and the log (red team: "authentication failed", credentials)', async () => {
    let tokens = 0;
    const env = await hostileApi((req, res) => {
      req.resume();
      if (req.method === 'DELETE') setTimeout(() => res.writeHead(204).end(), 450);
      else if (tokens++ === 0) res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: 'tok-7e1f0c9a5b3d2e4f6a8b', expires_in: 1 }));
      else res.writeHead(503, { 'Content-Type': 'text/html' }).end('<h1>down</h1>');
    });
    const dir = workDir();
    const log = join(dir, 'a.ndjson');
    const ids = writeFile(dir, 'ids.txt', 'ORD-1\nORD-2\nORD-3\nORD-4\nORD-5\nORD-6\nORD-7\nORD-8\n');
    const result = await runCli(['run', '--yes', '--ids', ids, '--audit-log', log, '--concurrency', '1', '--retries', '1', '--backoff-base-ms', '5', '--summary-json', join(dir, 's.json')], { env });
    expect(result.code).toBe(4);
    expect(result.log).toContain('token endpoint answered 503 Service Unavailable: a text/html body, "down" — not the credentials');
    expect(result.log).not.toContain('authentication failed');
    expect(JSON.parse(readFileSync(join(dir, 's.json'), 'utf8'))).toMatchObject({ exitCode: 4, stopCause: 'service' });
    expect(readAudit(log).at(-1)).toMatchObject({ event: 'run.end', status: 'halted', stopCause: 'service' });
  });

  test('a token endpoint answering 507 is the service failing, exit 4: never a refusal of the credentials, exit 3 (red team)', async () => {
    const result = await oneOrderAgainst((res) => res.writeHead(507, { 'Content-Type': 'text/html' }).end('<h1>full</h1>'), '--retries', '0');
    expect(result.code).toBe(4);
    expect(result.log).toContain('token endpoint answered 507');
    expect(result.log).not.toMatch(/authentication failed|Refused/);
  });

  test('a token endpoint restarting behind its gateway (502, its page cut off) is waited for, as one that cannot be reached: the run then goes on (red team: exit 4 at once)', async () => {
    let tokens = 0;
    const env = await hostileApi((req, res) => {
      req.resume();
      if (req.method === 'DELETE') res.writeHead(204).end();
      else if (tokens++ === 0) cutByReset(res, 502);
      else res.writeHead(200, { 'Content-Type': 'application/json' }).end(TOKEN_ANSWER);
    });
    const dir = workDir();
    const log = join(dir, 'a.ndjson');
    const result = await runCli(['run', '--yes', '--ids', writeFile(dir, 'ids.txt', 'ORD-1\nORD-2\n'), '--audit-log', log, '--retries', '0'], { env });
    expect(result.code).toBe(0);
    expect(result.log).toContain('The API is not serving yet (token endpoint answered 502');
    expect(readAudit(log).filter((l) => l.outcome === 'deleted')).toHaveLength(2);
  });

  test('a token lost between two pages of a listing (the endpoint failing at renewal) ends the run as before the first page: exit 4, "not the credentials", never exit 70, "a bug" (red team)', async () => {
    let tokens = 0;
    const env = await hostileApi((req, res) => {
      req.resume();
      if (req.url?.includes('oauth2/token')) {
        if (tokens++ === 0) res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: 'tok-7e1f0c9a5b3d2e4f6a8b', expires_in: 1 }));
        else res.writeHead(503, { 'Content-Type': 'text/html' }).end('<h1>down</h1>');
        return;
      }
      const offset = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('offset'));
      setTimeout(() => res.writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ orders: [{ id: `ORD-${offset + 1}`, status: 'ACTIVE' }], pagination: { records: 20 } })), 300);
    });
    const dir = workDir();
    const filter = writeFile(dir, 'f.json', '{"match": {"status": ["ACTIVE"]}, "pageSize": 1}');
    const summary = join(dir, 's.json');
    // A 503 is waited for between pages as at the first (--reach-wait), then said as before the first page.
    const result = await runCli(['run', '--yes', '--filter', filter, '--audit-dir', dir, '--retries', '0', '--summary-json', summary, '--reach-wait', '2s'], { env });
    expect(result.code).toBe(4);
    expect(result.log).toContain('The API stopped serving (token endpoint answered 503 Service Unavailable: a text/html body, "down"); trying again in 1 s, for up to 2 s in all.');
    expect(result.log).toMatch(/token endpoint answered 503 Service Unavailable: a text\/html body, "down", tried for \d+(\.\d)? s — not the credentials; nothing was selected or deleted/);
    expect(JSON.parse(readFileSync(summary, 'utf8'))).toMatchObject({ exitCode: 4, stopCause: 'service' });
  });

  test('a 503 with a Retry-After of an hour is not waited for at first contact, from the token endpoint or a pre-issued token\'s first read: exit 4 at once, saying so (red team: "trying again in 1 s")', async () => {
    const result = await oneOrderAgainst((res) => res.writeHead(503, { 'Retry-After': '3600' }).end(), '--retries', '1');
    expect(result.code).toBe(4);
    expect(result.log).toContain('the server asked to wait 1 h');
    expect(result.log).not.toContain('not serving yet');
    const { EXSITED_BASE_URL } = await hostileApi((req, res) => {
      req.resume();
      res.writeHead(503, { 'Retry-After': '3600' }).end();
    });
    const dir = workDir();
    const preIssued = await runCli(['run', '--yes', '--ids', writeFile(dir, 'ids.txt', 'ORD-1\n'), '--audit-dir', dir, '--retries', '1'],
      { env: { EXSITED_BASE_URL, EXSITED_ACCESS_TOKEN: 'tok-7e1f0c9a5b3d2e4f6a8b' } });
    expect(preIssued.code).toBe(4);
    expect(preIssued.log).toContain('the server asked to wait 1 h');
    expect(preIssued.log).not.toContain('not serving yet');
  });

  test('a listing page answered 503 says HTTP 503 once, with the server\'s words (red team: "HTTP 503 HTTP_503")', async () => {
    const env = await hostileApi((req, res) => {
      req.resume();
      if (req.url?.includes('oauth2/token')) res.writeHead(200, { 'Content-Type': 'application/json' }).end(TOKEN_ANSWER);
      else res.writeHead(503, { 'Content-Type': 'text/plain' }).end('maintenance');
    });
    const dir = workDir();
    const filter = writeFile(dir, 'f.json', '{"match": {"status": ["ACTIVE"]}}');
    const summary = join(dir, 's.json');
    const result = await runCli(['run', '--yes', '--filter', filter, '--audit-dir', dir, '--retries', '0', '--reach-wait', '2s', '--summary-json', summary], { env });
    expect(result.code).toBe(4);
    expect(result.log).toContain('The API is not serving yet (the API answered 503: maintenance); trying again in 1 s, for up to 2 s in all.');
    expect(result.log).toMatch(/listing orders failed at offset 0: the API answered 503: maintenance, tried for \d+(\.\d)? s; nothing was deleted\. Run it again once the API answers/);
    expect(result.log).not.toMatch(/503.*503.*tried for/);
    expect(JSON.parse(readFileSync(summary, 'utf8'))).toMatchObject({ exitCode: 4, stopCause: 'service' });
  });

  test('a filter\'s first listing page answered 503 (the orders service restarting while the token endpoint answers) is waited for as the first token is, and the run goes on (it failed at once, exit 4)', async () => {
    let listings = 0;
    const deleted: string[] = [];
    const env = await hostileApi((req, res) => {
      req.resume();
      if (req.url?.includes('oauth2/token')) res.writeHead(200, { 'Content-Type': 'application/json' }).end(TOKEN_ANSWER);
      else if (req.method === 'GET' && listings++ < 2) res.writeHead(503, { 'Content-Type': 'text/plain' }).end('restarting');
      else if (req.method === 'GET') res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"orders":[{"id":"ORD-1","status":"ACTIVE"},{"id":"ORD-2","status":"CANCELLED"}],"pagination":{"records":2}}');
      else {
        deleted.push(req.url ?? '');
        res.writeHead(204).end();
      }
    });
    const dir = workDir();
    const filter = writeFile(dir, 'f.json', '{"match": {"status": ["ACTIVE"]}}');
    const result = await runCli(['run', '--yes', '--filter', filter, '--audit-dir', dir, '--retries', '0'], { env });
    expect(result.code).toBe(0);
    expect(result.log).toContain('The API is not serving yet (the API answered 503: restarting); trying again in 1 s, for up to 30 s in all.');
    expect(result.log).toContain('trying again in 2 s');
    expect(deleted).toEqual(['/api/v3/orders/ORD-1']);
  });

});

describe('a stop while the token endpoint asks to wait', () => {
  test.each([
    ['the first token', 0],
    ['a renewal mid-run (the token refused after 3 deletions)', 3],
  ])('Ctrl-C while %s waits out a Retry-After of 60 s: exit 130 at once, not after --grace-ms (60 s), nothing sent after it', async (_name, accepted) => {
    let tokens = 0;
    let deletes = 0;
    const env = await hostileApi((req, res) => {
      req.resume();
      if (req.url?.includes('oauth2/token')) {
        if (++tokens > (accepted > 0 ? 1 : 0)) res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '60' }).end('{"errors":[{"code":"BUSY","message":"busy"}]}');
        else res.writeHead(200, { 'Content-Type': 'application/json' }).end(TOKEN_ANSWER);
        return;
      }
      if (req.method === 'DELETE' && ++deletes <= accepted) res.writeHead(204).end();
      else res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"expired"}]}');
    });
    const dir = workDir();
    const log = join(dir, 'a.ndjson');
    const ids = writeFile(dir, 'ids.txt', Array.from({ length: 20 }, (_, i) => `ORD-${i + 1}`).join('\n'));
    const running = startCli(['run', '--yes', '--ids', ids, '--audit-log', log, '--concurrency', '1', '--grace-ms', '60000'], { env });
    await running.printed(/the token endpoint on .* answered 503; retrying 1\/\d+ in 1 min/);
    const sentBefore = deletes;
    running.child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const graceSpent = new Promise<'grace spent'>((resolve) => (timer = setTimeout(() => resolve('grace spent'), 20_000)));
    const result = await Promise.race([running.done, graceSpent]);
    clearTimeout(timer);
    expect(result).not.toBe('grace spent');
    expect((result as Awaited<typeof running.done>).code).toBe(130);
    expect(deletes).toBe(sentBefore); // nothing sent after the stop
    if (accepted > 0) expect(readAudit(log).filter((l) => l.outcome === 'deleted')).toHaveLength(accepted);
  });
});
