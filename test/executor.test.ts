import { IdSet } from '../src/common/id-set.js';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { OrderRecord } from '../src/common/records.js';
import { Backoff, type Sleep } from '../src/engine/backoff.js';
import { RunEvents } from '../src/engine/events.js';
import { executeDeletions } from '../src/engine/executor.js';
import pLimit from 'p-limit';
import { RateController } from '../src/engine/rate-controller.js';
import { RetryBudget } from '../src/engine/retry-budget.js';
import { RetryPolicy } from '../src/engine/retry-policy.js';
import { RunControl } from '../src/engine/run-control.js';
import { RunTally } from '../src/engine/tally.js';
import { TokenSource } from '../src/exsited/auth.js';
import { createHttpClient, destroyAgents } from '../src/exsited/http.js';
import { DEMO_CLIENT, type FakeExsited, type FakeExsitedOptions } from '../src/fake-exsited/server.js';
import { fakeApi } from './helpers/cli.js';

let fake: FakeExsited | undefined;
const clients: Array<ReturnType<typeof createHttpClient>> = [];
afterEach(async () => {
  clients.splice(0).forEach(destroyAgents);
  await fake?.close();
  fake = undefined;
});

/** The deletion phase over loopback HTTP to the fake, as the run composes it. */
async function setUp(count: number, options: Partial<FakeExsitedOptions> = {}, clientSecret = DEMO_CLIENT.clientSecret, sleep?: Sleep) {
  const api = await fakeApi(count, options);
  fake = api.fake;
  const http = createHttpClient({ baseUrl: new URL(fake.url), concurrency: 2, timeoutMs: 1000 });
  clients.push(http);
  const control = new RunControl(0);
  // With an injected sleep, every retry waits (a zero backoff would skip the sleep).
  const backoff = new Backoff({ retries: 1, baseMs: 1, capMs: 1, ...(sleep ? { sleep, random: () => 1 } : {}) });
  const tokens = new TokenSource(http, { kind: 'client_credentials', ...DEMO_CLIENT, clientSecret }, (attempt) => new RetryPolicy(backoff, control.aborting).run(attempt));
  const events = new RunEvents();
  const tally = new RunTally(count, 0, events);
  const records: OrderRecord[] = [];
  events.on('order.finished', ({ record }) => records.push(record));
  const deps = { http, tokens, retry: new RetryPolicy(backoff, control.stopping), rate: new RateController(), slots: pLimit(2), budget: new RetryBudget(), control, events, tally };
  const run = (dryRun = false, haltAfter = 25) =>
    executeDeletions({ pending: new IdSet(api.orders.map((o) => o.id)), dryRun, concurrency: 2, haltAfter }, deps);
  return { api, control, tally, records, run };
}

describe('executeDeletions', () => {
  test('deletes every pending order, emitting one outcome each', async () => {
    const { api, records, run, control } = await setUp(12);
    await run();
    expect(records.map((r) => r.orderId).sort()).toEqual(api.orders.map((o) => o.id).sort());
    expect(records.every((r) => r.outcome === 'deleted')).toBe(true);
    expect(control.reason).toBeUndefined();
  });

  test('a dry run authenticates, records would_delete for each, and sends no DELETE', async () => {
    const { records, run } = await setUp(5);
    await run(true);
    expect(records.map((r) => r.outcome)).toEqual(Array(5).fill('would_delete'));
    expect(fake?.deletes).toHaveLength(0);
    expect(fake?.tokenRequests).toHaveLength(1);
  });

  test('the halt policy stops the run after the same failure N times in a row, with the cause', async () => {
    const api = await fakeApi(20);
    const refusals = Object.fromEntries(api.orders.map((o) => [o.id, { status: 403, message: 'Forbidden' }]));
    await api.fake.close();
    const { run, control, records } = await setUp(20, { refusals });
    await run(false, 3);
    expect(control.reason).toMatchObject({ kind: 'halt', exitCode: 4, message: expect.stringMatching(/^3 orders in a row failed with HTTP 403/) });
    expect(records.length).toBeLessThan(20);
  });

  test('an order waiting to retry gives its slot to other orders; the in-flight bound holds', async () => {
    const api = await fakeApi(10);
    const [a, b] = api.orders.map((o) => o.id);
    await api.fake.close();
    let othersDone: () => void = () => undefined;
    const others = new Promise<void>((resolve) => (othersDone = resolve));
    // The two failing orders' retries wait until the others are done (or 10 s: before slots were freed, they never got one).
    const sleep: Sleep = () => Promise.race([others, new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref())]);
    const refusals = { [a!]: { status: 503, message: 'busy' }, [b!]: { status: 503, message: 'busy' } };
    const { run, records } = await setUp(10, { refusals, faults: { latencyMs: 5 } }, undefined, sleep);
    const watch = setInterval(() => records.length >= 8 && othersDone(), 5);
    await run();
    clearInterval(watch);
    expect(records.slice(0, 8).every((r) => r.outcome === 'deleted')).toBe(true);
    expect(records.slice(8).map((r) => [r.orderId, r.outcome]).sort()).toEqual([[a, 'failed'], [b, 'failed']].sort());
    expect(fake?.stats.maxInFlight).toBeLessThanOrEqual(2);
  });

  test('credentials refused before any order: a refusal (exit 3), nothing sent', async () => {
    const { run, control } = await setUp(5, {}, 'wrong-secret-0123456789');
    await run();
    expect(control.reason).toMatchObject({ kind: 'halt', exitCode: 3, message: expect.stringMatching(/authentication failed: token endpoint answered 401/) });
    expect(fake?.deletes).toHaveLength(0);
  });
});

describe('RunControl\'s deadline', () => {
  test('one per process; a shorter one given later binds (a resume\'s lower recorded --max-duration), a longer one does not (red team: the lower was ignored)', () => {
    const timers: Array<{ run: () => void; ms: number }> = [];
    const control = new RunControl(0, (run, ms) => void timers.push({ run, ms }));
    control.configure({ graceMs: 0, deadlineMs: 3_600_000 }); // the job's 1h, as the process started
    control.configure({ graceMs: 0, deadlineMs: 1_000 }); // the recorded run's 1 s
    control.configure({ graceMs: 0, deadlineMs: 7_200_000 });
    expect(timers.map((t) => t.ms)).toEqual([3_600_000, 1_000]);
    timers[1]!.run();
    expect(control.reason).toMatchObject({ kind: 'halt', cause: 'deadline', message: expect.stringMatching(/deadline \(1 s\)/) });
    timers[0]!.run(); // the longer one, later: the stop stays the first
    expect(control.reason).toMatchObject({ message: expect.stringMatching(/deadline \(1 s\)/) });
  });
});
