import { afterEach, describe, expect, test } from '@jest/globals';
import type { RetryRecord } from '../src/common/records.js';
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
  const tokenWaits: number[] = [];
  const tokens = new TokenSource(http, { kind: 'client_credentials', ...DEMO_CLIENT }, (attempt) => new RetryPolicy(backoff, control.aborting).run(attempt), {
    sleep: async (ms) => void tokenWaits.push(ms),
  });
  let clock = 0; // the controller's pauses pass on a fake clock
  const rate = new RateController({ now: () => clock, sleep: async (ms) => void (clock += ms) });
  const deps = { http, tokens, retry, rate, slots: pLimit(2), budget: new RetryBudget(), control, onRetry: (r: RetryRecord) => retriesLogged.push(r) };
  const remove = (orderId: string) => deleteWithRetry(orderId, deps);
  return { orders: api.orders, remove, slept, retriesLogged, control, tokens, rate, tokenWaits };
}

describe('deleteWithRetry', () => {
  test('waits at least Retry-After after a 429, and backs off with jitter otherwise', async () => {
    const { orders, remove, slept, retriesLogged, rate } = await setUp({ faults: { throttle: 1, retryAfterS: 30 } }, 2);
    const record = await remove(orders[0]?.id as string);
    expect(record).toMatchObject({ outcome: 'failed', httpStatus: 429, attempts: 3 });
    expect(slept).toEqual([31_500, 31_500]); // Retry-After, and a twentieth more at random() = 0.5
    // The Retry-After belongs to this order: the controller hears of the 429s, but three answers are no
    // window, so nobody else waits.
    expect(rate.throttledAnswers).toBe(3);
    expect(rate.throttledMs).toBe(0);
    expect(retriesLogged.map((r) => [r.attempt, r.httpStatus, r.delayMs])).toEqual([[1, 429, 31_500], [2, 429, 31_500]]);
  });

  test('transport errors are retried with their code; a hang times out', async () => {
    const { orders, remove, retriesLogged, slept } = await setUp({ faults: { reset: 0.5, hang: 0.5, seed: 9 } }, 3);
    const record = await remove(orders[0]?.id as string);
    expect(record).toMatchObject({ outcome: 'failed', httpStatus: null, attempts: 4 });
    expect(['ECONNRESET', 'ETIMEDOUT']).toContain(record?.error?.code);
    expect(new Set(retriesLogged.map((r) => r.errorCode))).toEqual(new Set(['ECONNRESET', 'ETIMEDOUT']));
    expect(slept).toEqual([50, 100, 200]); // full jitter at random() = 0.5: half of base·2^(n-1)
  });

  test('a token issued moments ago is renewed after three 401s in a row, only after 1 s, then 2 s; the third such token halts (another client holds the credentials)', async () => {
    const { orders, remove, tokenWaits, tokens } = await setUp({ faults: { unauthorized: 1 } }, 10);
    await expect(remove(orders[0]?.id as string)).rejects.toThrow(/refused this run's new access token 3 times in a row.*another client is using these credentials/);
    expect(tokenWaits).toEqual([1000, 2000]);
    expect(tokens.renewals).toBe(3); // the first grant and two renewals: never a token war
  });

  test('a stop while the token is being renewed sends nothing once the token comes: the order stays for the resume (red team: DELETEs went out after Ctrl-C)', async () => {
    const { orders, tokens } = await setUp({}, 2);
    const control = new RunControl(60_000); // requests under way may finish for a minute: only the stop itself keeps this one back
    const deleted = () => orders.filter((order) => !fake?.orders.has(order.id)).length;
    const get = tokens.get.bind(tokens);
    tokens.get = async (signal) => {
      const token = await get(signal);
      control.stop({ kind: 'signal', signal: 'SIGINT' }); // Ctrl-C while the token was on its way
      return token;
    };
    const http = createHttpClient({ baseUrl: new URL(fake?.url as string), concurrency: 2, timeoutMs: 300 });
    cleanup.push(() => destroyAgents(http));
    const backoff = new Backoff({ retries: 2, baseMs: 100, capMs: 1000, random: () => 0.5, sleep: async () => undefined });
    const deps = { http, tokens, retry: new RetryPolicy(backoff, control.stopping), rate: new RateController(), slots: pLimit(2), budget: new RetryBudget(), control, onRetry: () => undefined };
    expect(await deleteWithRetry(orders[0]?.id as string, deps)).toBeUndefined();
    expect(deleted()).toBe(0);
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
