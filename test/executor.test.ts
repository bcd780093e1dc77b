import { afterEach, describe, expect, test } from '@jest/globals';
import type { OrderRecord } from '../src/common/domain.js';
import { Backoff } from '../src/engine/backoff.js';
import { RunEvents } from '../src/engine/events.js';
import { executeDeletions } from '../src/engine/executor.js';
import { RateLimiter } from '../src/engine/rate-limiter.js';
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
async function setUp(count: number, options: Partial<FakeExsitedOptions> = {}, clientSecret = DEMO_CLIENT.clientSecret) {
  const api = await fakeApi(count, options);
  fake = api.fake;
  const http = createHttpClient({ baseUrl: new URL(fake.url), concurrency: 2, timeoutMs: 1000 });
  clients.push(http);
  const control = new RunControl(0);
  const backoff = new Backoff({ retries: 1, baseMs: 1, capMs: 1 });
  const tokens = new TokenSource(http, { kind: 'client_credentials', ...DEMO_CLIENT, clientSecret }, (attempt) => new RetryPolicy(backoff, control.aborting).run(attempt));
  const events = new RunEvents();
  const tally = new RunTally(count, 0, events);
  const records: OrderRecord[] = [];
  events.on('order.finished', ({ record }) => records.push(record));
  const deps = { http, tokens, retry: new RetryPolicy(backoff, control.stopping), limiter: new RateLimiter({ burst: 2 }), control, events, tally };
  const run = (dryRun = false, haltAfter = 25) =>
    executeDeletions({ pending: new Set(api.orders.map((o) => o.id)), dryRun, concurrency: 2, haltAfter }, deps);
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

  test('credentials refused before any order: a refusal (exit 3), nothing sent', async () => {
    const { run, control } = await setUp(5, {}, 'wrong-secret-0123456789');
    await run();
    expect(control.reason).toMatchObject({ kind: 'halt', exitCode: 3, message: expect.stringMatching(/authentication failed: token endpoint answered 401/) });
    expect(fake?.deletes).toHaveLength(0);
  });
});
