import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FaultPlan } from '../../src/fake-exsited/faults.js';
import { DEMO_CLIENT, type FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, FAST, fakeApi, readAudit, runInProcess, workDir, writeFile } from '../helpers/cli.js';

let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** Each fault class on its own, seeded; the same properties hold for every one. */
type Seen = (fake: FakeExsited) => boolean;
const answered = (result: number | string): Seen => (api) => api.deletes.some((d) => d.result === result);

const CLASSES: Array<[string, FaultPlan & { tokenTtlS?: number }, Seen]> = [
  ['500', { statuses: { 500: 0.25 } }, answered(500)],
  ['502', { statuses: { 502: 0.25 } }, answered(502)],
  ['503', { statuses: { 503: 0.25 } }, answered(503)],
  ['504', { statuses: { 504: 0.25 } }, answered(504)],
  ['429 with Retry-After', { throttle: 0.05, retryAfterS: 1 }, answered(429)],
  ['connection reset', { reset: 0.2 }, answered('reset')],
  ['hang past the timeout', { hang: 0.1 }, answered('hang')],
  ['delete then 503', { deleteThen503: 0.3 }, (api) => api.deletes.some((d, i) => d.result === 503 && api.deletes.slice(i + 1).some((e) => e.orderId === d.orderId && e.result === 404))],
  ['spurious 401', { unauthorized: 0.1 }, answered(401)],
  ['token expiry every second', { latencyMs: 80, tokenTtlS: 1 }, (api) => api.tokenRequests.filter((t) => t.status === 200).length >= 2],
];

describe('fault classes, one at a time', () => {
  test.each(CLASSES)('%s: every target deleted, nothing else touched, one line per order, bounds kept', async (_name, { tokenTtlS, ...faults }, seen) => {
    const api = await fakeApi(70, { faults: { seed: 17, latencyMs: 2, ...faults }, tokenTtlS });
    fake = api.fake;
    const dir = workDir();
    const targets = api.orders.slice(0, 60).map((o) => o.id);
    const input = writeFile(dir, 'ids.txt', targets.join('\n'));
    const log = join(dir, 'a.ndjson');

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '4', '--timeout-ms', '250', '--retries', '8', ...FAST], {
      env: credentialsEnv(fake),
    });

    expect(seen(fake)).toBe(true); // the fault did happen
    expect(result.code).toBe(0);
    expect(new Set(fake.deleted)).toEqual(new Set(targets));
    expect(fake.orders.size).toBe(10);
    expect(fake.deletes.every((d) => targets.includes(d.orderId))).toBe(true);
    // An attempt the client gave up on (--timeout-ms, on a busy machine) may still be at the server when its retry comes.
    const gaveUp = readAudit(log).filter((l) => l.event === 'order.retry' && /TIMEDOUT|ECONNABORTED/.test(String(l.errorCode))).length;
    expect(fake.stats.maxInFlight).toBeLessThanOrEqual(4 + gaveUp);
    const orders = readAudit(log).filter((l) => l.event === 'order');
    expect(orders.map((l) => l.orderId).sort()).toEqual([...targets].sort());
    const recordedAt = new Map(orders.map((l) => [l.orderId as string, Date.parse(l.time as string)]));
    expect(fake.deletes.filter((d) => d.at > (recordedAt.get(d.orderId) ?? 0) + 1)).toEqual([]);
    for (const [i, d] of fake.deletes.entries()) {
      if (d.result !== 429) continue;
      const next = fake.deletes.slice(i + 1).find((e) => e.orderId === d.orderId);
      expect(next && next.at - d.at).toBeGreaterThanOrEqual(995);
    }
    const output = result.stdout + result.stderr + readFileSync(log, 'utf8');
    for (const secret of [DEMO_CLIENT.clientSecret, ...fake.issuedTokens]) expect(output).not.toContain(secret);
  });
});
