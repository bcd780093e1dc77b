import axios, { AxiosHeaders, type AxiosAdapter, type AxiosResponse } from 'axios';
import pLimit from 'p-limit';
import { IdSet } from '../../src/common/id-set.js';
import type { OrderRecord } from '../../src/common/records.js';
import { Backoff } from '../../src/engine/backoff.js';
import { RunEvents } from '../../src/engine/events.js';
import { executeDeletions } from '../../src/engine/executor.js';
import { RateController } from '../../src/engine/rate-controller.js';
import type { ThrottleDecision } from '../../src/engine/throttle-decision.js';
import { RetryBudget } from '../../src/engine/retry-budget.js';
import { RetryPolicy } from '../../src/engine/retry-policy.js';
import { RunControl } from '../../src/engine/run-control.js';
import { RunTally } from '../../src/engine/tally.js';
import { TokenSource } from '../../src/exsited/auth.js';
import { RequestLimit, type LimitPlan, type OutagePlan } from '../../src/fake-exsited/limits.js';
import { seededRandom } from '../../src/fake-exsited/seeded-random.js';
import { VirtualClock } from './virtual-time.js';

/**
 * The deletion phase — the real engine: dispatch, slots, the retry policy and its backoff, the rate
 * controller, the retry budget, the run's stop and deadline — against a simulated Exsited on simulated
 * time (test/helpers/virtual-time). The API answers DELETE as the fake does (204, 404 once gone; a limit,
 * an outage, random 429s), through an axios adapter, so the client's own reading of answers is used too.
 * What the e2e tests asserted of rates and waits on a real clock, which a busy machine bends, is asserted
 * here exactly, in milliseconds of real time. Deterministic for a seed.
 */
export interface SimApi {
  orders: number;
  /** The round trip, ms; each half varies by ±25%, as a network does. */
  latencyMs?: number;
  limit?: LimitPlan;
  outage?: OutagePlan;
  /** Random 429s, at this chance, with this Retry-After (s). */
  noise?: { chance: number; retryAfterS: number };
  seed?: number;
}

/** The run's options, as the flags give them; the backoff is the e2e tests' FAST one (5–50 ms). */
export interface SimRun {
  concurrency: number;
  rps?: number;
  retries?: number;
  maxDurationMs?: number;
}

/** A DELETE as the simulated server saw it: when it arrived and what it answered (status). */
export interface SimDelete {
  orderId: string;
  at: number;
  result: number;
}

export interface SimResult {
  deletes: SimDelete[];
  /** The outcomes, in the order the audit log would record them. */
  records: OrderRecord[];
  decisions: ThrottleDecision[];
  rate: RateController;
  budget: RetryBudget;
  control: RunControl;
  /** The orders the API still holds. */
  remaining: Set<string>;
  /** Requests the limit refused (429). */
  limited: number;
  /** When the deletion phase returned, ms of simulated time. */
  endedAt: number;
}

export const simOrderIds = (count: number) => Array.from({ length: count }, (_, i) => `ORD-SIM-${String(i).padStart(5, '0')}`);

export async function simulateDeletion(api: SimApi, run: SimRun): Promise<SimResult> {
  const clock = new VirtualClock();
  const server = simulatedApi(api, clock);
  const control = new RunControl(30_000, clock.timer); // --grace-ms's default
  if (run.maxDurationMs !== undefined) control.setDeadline(run.maxDurationMs);
  const backoff = new Backoff({
    retries: run.retries ?? 5, baseMs: 5, capMs: 50, random: seededRandom((api.seed ?? 1) + 2000), sleep: clock.sleep,
  });
  const decisions: ThrottleDecision[] = [];
  const rate = new RateController({ cap: run.rps, now: clock.now, sleep: clock.sleep, onDecision: (d) => decisions.push(d) });
  const budget = new RetryBudget({ now: clock.now, sleep: clock.sleep });
  const events = new RunEvents();
  const pending = new IdSet(simOrderIds(api.orders));
  const tally = new RunTally(pending.size, 0, events);
  const records: OrderRecord[] = [];
  events.on('order.finished', ({ record }) => records.push(record));
  const http = axios.create({ baseURL: 'https://api.sim.test', adapter: server.adapter, validateStatus: () => true });
  // A pre-issued token: the token endpoint is not what these runs are about.
  const tokens = new TokenSource(http, { kind: 'access_token', accessToken: 'sim-token-0123456789' }, async () => undefined, { now: clock.now, sleep: clock.sleep });
  const deps = {
    http, tokens, retry: new RetryPolicy(backoff, control.stopping), rate, slots: pLimit(run.concurrency), budget, control, events, tally, wait: clock.sleep,
  };
  await clock.run(executeDeletions({ pending, dryRun: false, concurrency: run.concurrency, haltAfter: 25 }, deps));
  return { deletes: server.deletes, records, decisions, rate, budget, control, remaining: server.remaining, limited: server.limited, endedAt: clock.now() };
}

/** The simulated API: DELETE /api/v3/orders/:id, decided when the request arrives, answered half a round trip later. */
function simulatedApi(api: SimApi, clock: VirtualClock) {
  const remaining = new Set(simOrderIds(api.orders));
  const limit = api.limit ? new RequestLimit(api.limit, clock.now) : undefined;
  const random = seededRandom(api.seed ?? 1);
  const jitter = seededRandom((api.seed ?? 1) + 1000);
  const half = () => ((api.latencyMs ?? 2) / 2) * (0.75 + 0.5 * jitter());
  let firstAt: number | undefined;

  const answer = (orderId: string): { status: number; headers?: Record<string, string> } => {
    const now = clock.now();
    firstAt ??= now;
    const { outage, noise } = api;
    if (outage && now >= firstAt + outage.afterMs && now < firstAt + outage.afterMs + outage.durationMs) return { status: 503 };
    if (noise && random() < noise.chance) return { status: 429, headers: { 'retry-after': String(noise.retryAfterS) } };
    const limited = limit?.take();
    if (limited && !limited.allowed) {
      server.limited++;
      return { status: 429, headers: { 'retry-after': String(limited.retryAfterS) } };
    }
    return { status: remaining.delete(orderId) ? 204 : 404 };
  };

  const adapter: AxiosAdapter = (config) => new Promise<AxiosResponse>((resolve, reject) => {
    const signal = config.signal as AbortSignal | undefined;
    const canceled = () => Object.assign(new Error('canceled'), { code: 'ERR_CANCELED', __CANCEL__: true });
    if (signal?.aborted) {
      reject(canceled());
      return;
    }
    const orderId = decodeURIComponent(String(config.url).split('/').pop()!);
    let cancelTimer = () => {};
    const onAbort = () => {
      cancelTimer();
      reject(canceled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    cancelTimer = clock.timer(() => {
      const { status, headers = {} } = answer(orderId);
      server.deletes.push({ orderId, at: clock.now(), result: status });
      cancelTimer = clock.timer(() => {
        signal?.removeEventListener('abort', onAbort);
        const data = status >= 400 ? { errors: [{ code: String(status), message: status === 429 ? 'Too many requests' : status === 503 ? 'Service unavailable' : 'Not found' }] } : '';
        resolve({ data, status, statusText: '', headers: new AxiosHeaders(headers), config, request: {} });
      }, half());
    }, half());
  });

  const server = { deletes: [] as SimDelete[], remaining, limited: 0, adapter };
  return server;
}
