import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from '@jest/globals';
import { credentialsEnv, runCli, startCli, workDir, writeFile } from '../helpers/cli.js';
import { endAfter } from '../helpers/teardown.js';

/**
 * A filter run's first contact with the API: the first token, a pre-issued token's first read, then the first
 * listing page, waited for within one --reach-wait (guards/reach, planner/selection's pageRead); and a later
 * page, waited for from its first failure. The red team's findings on the first version of the first page's
 * wait, each through the built CLI against a server written for it.
 */

const TOKEN = 'tok-7e1f0c9a5b3d2e4f6a8b';
const tokenAnswer = (expiresIn = 3600) => JSON.stringify({ access_token: TOKEN, token_type: 'Bearer', expires_in: expiresIn });
const PAGE = '{"orders":[{"id":"ORD-1","status":"ACTIVE"},{"id":"ORD-2","status":"CANCELLED"}],"pagination":{"records":2}}';
const FILTER = '{"match": {"status": ["ACTIVE"]}}';

/** A server that answers with `handler`; the environment of a run against it (client credentials, or a pre-issued token). */
async function api(handler: http.RequestListener, preIssued = false): Promise<NodeJS.ProcessEnv> {
  const server = http.createServer((req, res) => {
    req.resume();
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endAfter('test', () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return preIssued ? { EXSITED_BASE_URL: url, EXSITED_ACCESS_TOKEN: TOKEN } : credentialsEnv({ url });
}

const isToken = (req: http.IncomingMessage) => req.url?.includes('oauth2/token') ?? false;
const isFirstRead = (req: http.IncomingMessage) => /[?&]limit=1(&|$)/.test(req.url ?? '');

function filterRun(env: NodeJS.ProcessEnv, args: string[], filter = FILTER) {
  const dir = workDir();
  return { dir, args: ['run', '--yes', '--filter', writeFile(dir, 'f.json', filter), '--audit-dir', dir, '--retries', '0', ...args], env };
}

describe('a filter\'s first listing page, waited for as a first contact', () => {
  test('a service gone after giving the token is said as gone (exit 4, "it answered before"), not as an address nothing ever reached (red team: exit 5, "check the base URL")', async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/json', Connection: 'close' }).end(tokenAnswer(), () => server.close());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endAfter('test', () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
    const run = filterRun(credentialsEnv({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }), ['--reach-wait', '2s']);
    const result = await runCli(run.args, { env: run.env });
    expect(result.code).toBe(4);
    expect(result.log).toContain('The API cannot be reached (the API unreachable (ECONNREFUSED)); trying again in 1 s');
    expect(result.log).toMatch(/listing orders failed at offset 0: the API unreachable \(ECONNREFUSED\), tried for \d+(\.\d)? s: it answered before, then nothing reached it; nothing was deleted\. Run it again once the API answers/);
    expect(result.log).not.toContain('Check the base URL');
  });

  test('the first token\'s waits and the first page\'s share one --reach-wait (red team: each had its own, twice the wait in all)', async () => {
    let tokens = 0;
    const env = await api((req, res) => {
      if (isToken(req) && tokens++ < 2) res.writeHead(503, { 'Content-Type': 'text/plain' }).end('token service restarting');
      else if (isToken(req)) res.writeHead(200, { 'Content-Type': 'application/json' }).end(tokenAnswer());
      else res.writeHead(503, { 'Content-Type': 'text/plain' }).end('orders service restarting');
    });
    const run = filterRun(env, ['--reach-wait', '4s']);
    const result = await runCli(run.args, { env: run.env });
    expect(result.code).toBe(4);
    // The token's two waits (1 s, 2 s) leave at most one of 1 s for the page; with a budget of its own, the page waited 1 s and 2 s.
    expect(result.log.match(/not serving yet \(token endpoint answered 503/g)).toHaveLength(2);
    expect((result.log.match(/not serving yet \(the API answered 503/g) ?? []).length).toBeLessThan(2);
    expect(result.log).toMatch(/listing orders failed at offset 0: the API answered 503: orders service restarting, tried for \d+(\.\d)? s; nothing was deleted/);
  });

  test('a token endpoint that fails while the first page is waited for is said as the token endpoint\'s failure, as at any other page (red team: "listing orders failed")', async () => {
    let tokens = 0;
    let pages = 0;
    const env = await api((req, res) => {
      if (isToken(req) && tokens++ === 0) res.writeHead(200, { 'Content-Type': 'application/json' }).end(tokenAnswer(1)); // renewed at the next request
      else if (isToken(req)) res.writeHead(500, { 'Content-Type': 'text/plain' }).end('token store broken');
      else if (pages++ === 0) res.writeHead(503, { 'Content-Type': 'text/plain' }).end('restarting');
      else res.writeHead(200, { 'Content-Type': 'application/json' }).end(PAGE);
    });
    const run = filterRun(env, ['--reach-wait', '10s']);
    const result = await runCli(run.args, { env: run.env });
    expect(result.code).toBe(4);
    expect(result.log).toContain('token endpoint answered 500: token store broken — not the credentials; nothing was selected or deleted');
    expect(result.log).not.toContain('listing orders failed');
  });

  test('a 503 without a body says its status once, and the account whose listing failed (red team: "503: HTTP 503 Service Unavailable", no account)', async () => {
    const env = await api((req, res) => {
      if (isToken(req)) res.writeHead(200, { 'Content-Type': 'application/json' }).end(tokenAnswer());
      else res.writeHead(503).end();
    });
    const run = filterRun(env, ['--reach-wait', '1s'], '{"match": {"status": ["ACTIVE"], "accountId": ["ACC-1", "ACC-2"]}}');
    const result = await runCli(run.args, { env: run.env });
    expect(result.code).toBe(4);
    expect(result.log).toMatch(/listing orders failed at offset 0 of account ACC-1: the API answered 503 Service Unavailable, tried for \d+(\.\d)? m?s; nothing was deleted/);
    expect(result.log).not.toMatch(/503\D[^\n]*503/);
  });

  test('the server\'s Retry-After is the wait when it is longer than the next one (red team: a Retry-After of 120 s polled again after 1 s)', async () => {
    const env = await api((req, res) => {
      if (isToken(req)) res.writeHead(200, { 'Content-Type': 'application/json' }).end(tokenAnswer());
      else res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '20' }).end('maintenance');
    });
    const run = filterRun(env, ['--reach-wait', '10s']);
    const result = await runCli(run.args, { env: run.env });
    expect(result.code).toBe(4);
    expect(result.log).not.toContain('trying again in 1 s');
    expect(result.log).toMatch(/listing orders failed at offset 0: the API answered 503: maintenance, tried for \d+(\.\d)? m?s \(it asked to wait 20 s\); nothing was deleted/);
  });
});

describe('a later page of the listing', () => {
  test('a gateway\'s 503 halfway through the listing (a restart) is waited for, --reach-wait from its first failure, and the run goes on (it failed the night, exit 4)', async () => {
    let second = 0;
    const deleted: string[] = [];
    const env = await api((req, res) => {
      if (isToken(req)) return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(tokenAnswer());
      if (req.method === 'DELETE') {
        deleted.push(req.url ?? '');
        return void res.writeHead(204).end();
      }
      const offset = Number(/[?&]offset=(\d+)/.exec(req.url ?? '')?.[1] ?? 0);
      if (offset === 2 && second++ < 2) return void res.writeHead(503, { 'Content-Type': 'text/plain' }).end('restarting');
      const orders = [{ id: `ORD-${offset + 1}`, status: 'ACTIVE' }, { id: `ORD-${offset + 2}`, status: 'CANCELLED' }];
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ orders: offset < 4 ? orders : [], pagination: { records: 4 } }));
    });
    const run = filterRun(env, [], '{"match": {"status": ["ACTIVE"]}, "pageSize": 2}');
    const result = await runCli(run.args, { env: run.env });
    expect(result.code).toBe(0);
    expect(result.log).toContain('The API stopped serving (the API answered 503: restarting); trying again in 1 s, for up to 30 s in all.');
    expect(result.log).toContain('trying again in 2 s');
    expect(deleted.sort()).toEqual(['/api/v3/orders/ORD-1', '/api/v3/orders/ORD-3']);
  });

  test('one that never comes back ends the run after --reach-wait, naming the page, nothing deleted', async () => {
    const env = await api((req, res) => {
      if (isToken(req)) return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(tokenAnswer());
      if (/[?&]offset=0(&|$)/.test(req.url ?? '')) return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(PAGE.replace('"records":2', '"records":4'));
      res.writeHead(502, { 'Content-Type': 'text/plain' }).end('bad gateway');
    });
    const run = filterRun(env, ['--reach-wait', '2s'], '{"match": {"status": ["ACTIVE"]}, "pageSize": 2}');
    const result = await runCli(run.args, { env: run.env });
    expect(result.code).toBe(4);
    expect(result.log).toContain('The API stopped serving (the API answered 502: bad gateway); trying again in 1 s, for up to 2 s in all.');
    expect(result.log).toMatch(/listing orders failed at offset 2: the API answered 502: bad gateway, tried for \d+(\.\d)? s; nothing was deleted\. Run it again once the API answers/);
  });
});

describe('a stop during the first contact', () => {
  test('Ctrl-C while the first page is in flight ends the run without saying it will try again (red team: "trying again in 1 s", then "Stopped")', async () => {
    let signalled: () => void = () => undefined;
    const pageArrived = new Promise<void>((resolve) => (signalled = resolve));
    const env = await api((req, res) => {
      if (isToken(req)) return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(tokenAnswer());
      signalled();
      setTimeout(() => res.writeHead(503, { 'Content-Type': 'text/plain' }).end('restarting'), 1500).unref(); // after the stop, which comes at once
    });
    const run = filterRun(env, ['--reach-wait', '60s']);
    const cli = startCli(run.args, { env: run.env });
    await pageArrived;
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result.code).toBe(130);
    expect(result.log).not.toContain('trying again');
  });

  test('Ctrl-C after a pre-issued token\'s reads says nothing was deleted, never that nothing was sent (red team: "nothing was sent" after three GETs)', async () => {
    const env = await api((req, res) => {
      if (isFirstRead(req)) res.writeHead(200, { 'Content-Type': 'application/json' }).end(PAGE);
      else res.writeHead(503, { 'Content-Type': 'text/plain' }).end('restarting');
    }, true);
    const run = filterRun(env, ['--reach-wait', '60s']);
    const cli = startCli(run.args, { env: run.env });
    await cli.printed(/not serving yet/);
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result.code).toBe(130);
    expect(result.log).toContain('Stopped by SIGINT before any order was deleted; nothing was deleted.');
    expect(result.log).not.toContain('nothing was sent');
  });
});
