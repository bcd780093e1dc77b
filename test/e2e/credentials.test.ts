import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, readAudit, runCli, runInProcess, workDir, writeFile } from '../helpers/cli.js';

let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** Two inputs of `each` orders out of a fake holding 2·each + 100 (the last 100 in no input), in one-live-token mode. */
async function twoInputs(each: number) {
  const api = await fakeApi(2 * each + 100, { oneLiveToken: true, faults: { latencyMs: 15 } });
  fake = api.fake;
  const dir = workDir();
  const ids = api.orders.map((o) => o.id);
  const inputs = [ids.slice(0, each), ids.slice(each, 2 * each)].map((part, i) => writeFile(dir, `ids-${i}.txt`, part.join('\n')));
  return { api, dir, ids, inputs, untouched: ids.slice(2 * each) };
}

/** The orders whose latest line in a log (its last run chain) is a success. */
function succeeded(logs: string[]): string[] {
  return logs.flatMap((log) => readAudit(log).filter((l) => l.event === 'order' && (l.outcome === 'deleted' || l.outcome === 'already_absent')).map((l) => l.orderId as string));
}

describe('several runs on one set of credentials, against a server that keeps one live token per client', () => {
  test('two runs at once: no token war (a handful of tokens), each exits 0 or halts with 4 naming the cause; the resume finishes', async () => {
    const { dir, inputs, untouched } = await twoInputs(500);
    const logs = inputs.map((_, i) => join(dir, `run-${i}.ndjson`));
    const env = credentialsEnv(fake!);

    const results = await Promise.all(inputs.map((input, i) => runCli(['run', '--yes', '--ids', input, '--audit-log', logs[i]!, '--concurrency', '8'], { env })));

    // Without the renewal policy the two renewed at every 401, dozens of times, signing each other out.
    expect(fake!.tokenRequests.length).toBeLessThanOrEqual(6);
    for (const result of results) {
      expect([0, 4]).toContain(result.code);
      if (result.code === 4) expect(result.log).toMatch(/another client is using these credentials.*its own API client/s);
    }
    // They did overlap, and met each other: the test means something.
    expect(results.map((r) => r.log).join('\n')).toMatch(/refused the access token this run obtained (\d+ ms|[\d.]+ s) ago \(401\): another client may be using these credentials; renewing in 1 s/);
    for (const id of untouched) expect(fake!.orders.has(id)).toBe(true);

    // One at a time, the resume of whatever halted finishes it.
    for (const [i, result] of results.entries()) {
      if (result.code !== 4) continue;
      const resumed = await runInProcess(['run', '--resume', '--yes', '--audit-log', logs[i]!], { env });
      expect(resumed.code).toBe(0);
    }
    const done = succeeded(logs);
    expect(done).toHaveLength(1000);
    expect(new Set(done).size).toBe(1000);
    expect(fake!.orders.size).toBe(100);
  });

  test('another application keeps taking tokens: the run renews slowly, then halts (exit 4) naming the cause; nothing is lost, and the resume finishes', async () => {
    const { dir, inputs } = await twoInputs(400);
    const log = join(dir, 'run.ndjson');
    const env = credentialsEnv(fake!);
    // A test runner on the same API client, signing in every 300 ms for as long as the run lasts.
    let stealing = true;
    const thief = (async () => {
      while (stealing) {
        await fetch(`${fake!.url}/api/v1/oauth2/token`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ grant_type: 'client_credentials', client_id: env.EXSITED_CLIENT_ID, client_secret: env.EXSITED_CLIENT_SECRET, redirect_uri: env.EXSITED_REDIRECT_URI }),
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();
    const result = await runInProcess(['run', '--yes', '--ids', inputs[0]!, '--audit-log', log, '--concurrency', '8'], { env });
    stealing = false;
    await thief;

    expect(result.code).toBe(4);
    expect(result.log).toMatch(/refused this run's new access token 3 times in a row.*another client is using these credentials/s);
    expect(fake!.tokenRequests.filter((t) => t.grant === 'client_credentials').length).toBeGreaterThan(3);
    const end = readAudit(log).at(-1);
    expect(end).toMatchObject({ status: 'halted', exitCode: 4, summary: { tokens: { obtained: 3 } } });

    const resumed = await runInProcess(['run', '--resume', '--yes', '--audit-log', log], { env });
    expect(resumed.code).toBe(0);
    const done = succeeded([log]);
    expect(done).toHaveLength(400);
    expect(new Set(done).size).toBe(400);
  });

  test('with a shared token cache: both complete with exit 0 on one token, kept owner-only and out of every output', async () => {
    const { dir, inputs, untouched } = await twoInputs(200);
    const logs = inputs.map((_, i) => join(dir, `run-${i}.ndjson`));
    const cache = join(dir, 'token-cache.json');
    const env = { ...credentialsEnv(fake!), EXSITED_TOKEN_CACHE: cache };

    const results = await Promise.all(inputs.map((input, i) => runCli(['run', '--yes', '--ids', input, '--audit-log', logs[i]!, '--concurrency', '8'], { env })));

    expect(results.map((r) => r.code)).toEqual([0, 0]);
    expect(fake!.tokenRequests).toHaveLength(1);
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    for (const token of fake!.issuedTokens) {
      for (const result of results) expect(result.stdout + result.stderr).not.toContain(token);
      for (const log of logs) expect(JSON.stringify(readAudit(log))).not.toContain(token);
    }
    for (const log of logs) expect(readAudit(log).at(-1)?.summary.tokens).toBeDefined();
    expect(results.map((r, i) => readAudit(logs[i]!).at(-1)?.summary.tokens)).toEqual(expect.arrayContaining([{ obtained: 1, shared: 0 }, { obtained: 0, shared: 1 }]));
    for (const id of untouched) expect(fake!.orders.has(id)).toBe(true);
    expect(fake!.orders.size).toBe(100);
  });

  test('a token cache others can read is refused before anything is sent (exit 2), saying how to fix it', async () => {
    const { dir, inputs } = await twoInputs(5);
    const cache = writeFile(dir, 'token-cache.json', '{"version":1,"tokens":{}}');
    const result = await runInProcess(['run', '--yes', '--ids', inputs[0]!, '--audit-log', join(dir, 'a.ndjson'), '--token-cache', cache], { env: credentialsEnv(fake!) });
    expect(result.code).toBe(2);
    expect(result.log).toMatch(new RegExp(`--token-cache ${cache}: readable or writable by others \\(mode 644\\).*chmod 600`));
    expect(fake!.tokenRequests).toHaveLength(0);
  });
});
