import { afterEach, describe, expect, test } from '@jest/globals';
import type { RetryRecord } from '../src/common/domain.js';
import { Backoff } from '../src/engine/backoff.js';
import { RetryPolicy } from '../src/engine/retry-policy.js';
import { deleteWithRetry } from '../src/engine/order-deleter.js';
import pLimit from 'p-limit';
import { RateController } from '../src/engine/rate-controller.js';
import { RetryBudget } from '../src/engine/retry-budget.js';
import { RunControl } from '../src/engine/run-control.js';
import { TokenSource } from '../src/exsited/auth.js';
import { createHttpClient, destroyAgents } from '../src/exsited/http.js';
import { DEMO_CLIENT, type FakeExsited, type FakeExsitedOptions } from '../src/fake-exsited/server.js';
import { fakeApi } from './helpers/cli.js';

let fake: FakeExsited | undefined;
let cleanup: Array<() => void> = [];
afterEach(async () => {
  cleanup.forEach((fn) => fn());
  cleanup = [];
  await fake?.close();
});

/** A deleter over real HTTP to the fake API; its sleeps are recorded, not waited. */
async function setUp(options: Partial<FakeExsitedOptions>, retries = 3) {
  const api = await fakeApi(5, options);
  fake = api.fake;
  const http = createHttpClient({ baseUrl: new URL(fake.url), concurrency: 2, timeoutMs: 300 });
  const slept: number[] = [];
  const backoff = new Backoff({ retries, baseMs: 100, capMs: 1000, random: () => 0.5, sleep: async (ms) => void slept.push(ms) });
  const control = new RunControl(0);
  cleanup.push(() => destroyAgents(http));
  const retriesLogged: RetryRecord[] = [];
  const retry = new RetryPolicy(backoff, control.stopping);
  const tokens = new TokenSource(http, { kind: 'client_credentials', ...DEMO_CLIENT }, (attempt) => new RetryPolicy(backoff, control.aborting).run(attempt));
  let clock = 0; // the controller's pauses pass on a fake clock
  const rate = new RateController({ now: () => clock, sleep: async (ms) => void (clock += ms) });
  const deps = { http, tokens, retry, rate, slots: pLimit(2), budget: new RetryBudget(), control, onRetry: (r: RetryRecord) => retriesLogged.push(r) };
  const remove = (orderId: string) => deleteWithRetry(orderId, deps);
  return { orders: api.orders, remove, slept, retriesLogged, control, tokens, rate };
}

describe('deleteWithRetry', () => {
  test('waits at least Retry-After after a 429, and backs off with jitter otherwise', async () => {
    const { orders, remove, slept, retriesLogged, rate } = await setUp({ faults: { throttle: 1, retryAfterS: 30 } }, 2);
    const record = await remove(orders[0]?.id as string);
    expect(record).toMatchObject({ outcome: 'failed', httpStatus: 429, attempts: 3 });
    expect(slept).toEqual([30_000, 30_000]);
    // The Retry-After belongs to this order: the controller hears of the 429s, but three answers are no
    // window, so nobody else waits.
    expect(rate.throttledAnswers).toBe(3);
    expect(rate.throttledMs).toBe(0);
    expect(retriesLogged.map((r) => [r.attempt, r.httpStatus, r.delayMs])).toEqual([[1, 429, 30_000], [2, 429, 30_000]]);
  });

  test('transport errors are retried with their code; a hang times out', async () => {
    const { orders, remove, retriesLogged, slept } = await setUp({ faults: { reset: 0.5, hang: 0.5, seed: 9 } }, 3);
    const record = await remove(orders[0]?.id as string);
    expect(record).toMatchObject({ outcome: 'failed', httpStatus: null, attempts: 4 });
    expect(['ECONNRESET', 'ETIMEDOUT']).toContain(record?.error?.code);
    expect(new Set(retriesLogged.map((r) => r.errorCode))).toEqual(new Set(['ECONNRESET', 'ETIMEDOUT']));
    expect(slept).toEqual([50, 100, 200]); // full jitter at random() = 0.5: half of base·2^(n-1)
  });

  test('a 401 renews the token and resends at once; only the first is free', async () => {
    const { orders, remove, slept, tokens } = await setUp({ faults: { unauthorized: 1 } }, 2);
    const record = await remove(orders[0]?.id as string);
    expect(record).toMatchObject({ outcome: 'failed', httpStatus: 401, attempts: 4 });
    expect(slept).toEqual([50, 100]);
    expect(tokens.renewals).toBe(4); // the first grant, then one renewal per 401 but the last
  });

  test('delete-then-503: the retry finds the order gone, which is already_absent', async () => {
    const { orders, remove } = await setUp({ faults: { deleteThen503: 1 } }, 2);
    const record = await remove(orders[0]?.id as string);
    expect(record).toMatchObject({ outcome: 'already_absent', httpStatus: 404, attempts: 2 });
    expect(fake?.orders.has(orders[0]?.id as string)).toBe(false);
  });

  test('once the run is stopping, an order waiting to retry is left pending', async () => {
    const { orders, remove, control } = await setUp({ faults: { statuses: { 503: 1 } } }, 5);
    control.stop({ kind: 'signal', signal: 'SIGTERM' });
    expect(await remove(orders[0]?.id as string)).toBeUndefined();
  });
});
