import { RateController } from '../../src/engine/rate-controller.js';
import type { ThrottleDecision } from '../../src/engine/throttle-decision.js';
import { RequestLimit, type LimitPlan } from '../../src/fake-exsited/limits.js';
import { seededRandom } from '../../src/fake-exsited/seeded-random.js';

/**
 * A discrete-event simulation of clients deleting orders through a rate-limited server, on simulated time:
 * each client has its concurrency, latency and RateController (the real one, with the simulation's clock);
 * an order that is throttled waits out its own Retry-After (or, without one, a full-jitter backoff) without
 * holding a slot, as the engine does.
 * Deterministic for a seed.
 */
export interface SimServer {
  limit?: LimitPlan;
  /**
   * Random 429s, at this chance, with this Retry-After (s; none: the order waits a full-jitter backoff from
   * 100 ms, as the engine does), from `fromMs` until `toMs` (by default the whole run); `every`: all but every Nth
   * request of a client throttled, whatever the chance.
   */
  noise?: { chance: number; retryAfterS?: number; fromMs?: number; toMs?: number; every?: number };
  seed?: number;
}

export interface SimClient {
  orders: number;
  concurrency?: number;
  latencyMs?: number;
  /** When the client starts, ms. */
  startMs?: number;
  cap?: number;
  /** --shard i/n's n: the client is one of n shards of a run, whose limit they may share (src/engine/limit-sharing.ts). */
  sharers?: number;
}

export interface ClientResult {
  sent: number;
  throttled: number;
  done: number;
  startedAt: number;
  finishedAt: number;
  /** When each order was deleted. */
  doneAt: number[];
  decisions: ThrottleDecision[];
  /** The paced rate as told (pace records). */
  paces: Array<{ at: number; rps: number }>;
  /** Any order sent again sooner than the Retry-After it was given. */
  earlyRetries: number;
  /** The longest an order waited beyond its own Retry-After (or backoff) before it was sent again, ms. */
  overdueMs: number;
  /** When the controller found the server refusing the client, and why: the run halts there. */
  refused?: { at: number; reason: string };
}

/** The engine's backoff without a Retry-After: full jitter, from 100 ms, doubling, at most 30 s. */
const backoffMs = (retry: number, random: () => number) => Math.round(random() * Math.min(30_000, 100 * 2 ** (retry - 1)));

export function simulate(server: SimServer, clients: SimClient[], untilMs = 600_000): ClientResult[] {
  let now = 0;
  const limit = server.limit ? new RequestLimit(server.limit, () => now) : undefined;
  const random = seededRandom(server.seed ?? 1);
  const jitter = seededRandom((server.seed ?? 1) + 1000);
  const backoffRandom = seededRandom((server.seed ?? 1) + 2000);
  const events: Array<{ at: number; seq: number; run: () => void }> = [];
  let seq = 0;
  const schedule = (at: number, run: () => void) => {
    // Kept in order by binary insertion: time, then the order scheduled.
    const event = { at, seq: seq++, run };
    let low = 0;
    let high = events.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((events[mid] as typeof event).at <= at) low = mid + 1;
      else high = mid;
    }
    events.splice(low, 0, event);
  };

  const results = clients.map((client, id) => {
    const result: ClientResult = { sent: 0, throttled: 0, done: 0, startedAt: client.startMs ?? 0, finishedAt: Number.NaN, doneAt: [], decisions: [], paces: [], earlyRetries: 0, overdueMs: 0 };
    const controller = new RateController({
      cap: client.cap, sharers: client.sharers, now: () => now, onDecision: (d) => result.decisions.push(d), onPace: (rps) => result.paces.push({ at: now, rps }),
      onRefused: (reason) => (result.refused ??= { at: now, reason }),
    });
    const concurrency = client.concurrency ?? 16;
    const latency = client.latencyMs ?? 20;
    let next = 0;
    let inFlight = 0;
    const waiting: Array<{ order: number; readyAt: number }> = [];
    let wake: number | undefined;
    /** One pending wake-up at a time: the earliest; a superseded one does nothing when it comes. */
    const wakeAt = (at: number) => {
      if (wake !== undefined && wake <= at) return;
      wake = at;
      schedule(at, () => {
        if (wake !== at) return;
        wake = undefined;
        pump();
      });
    };
    const pump = () => {
      if (result.refused) return; // halted: nothing more is sent
      while (inFlight < concurrency) {
        const ready = waiting.findIndex((w) => w.readyAt <= now);
        const order = ready >= 0 ? waiting.splice(ready, 1)[0]?.order : next < client.orders ? next++ : undefined;
        if (order === undefined) break;
        const reservation = controller.reserve(now);
        if (!('ticket' in reservation)) {
          waiting.unshift({ order, readyAt: now });
          wakeAt(now + reservation.waitMs);
          return;
        }
        send(order, now, reservation.ticket);
      }
      // (A plain loop: under Jest each lookup of a global such as Math is slow, and this runs for every answer.)
      let soonest = Number.POSITIVE_INFINITY;
      for (const w of waiting) if (w.readyAt < soonest) soonest = w.readyAt;
      if (soonest !== Number.POSITIVE_INFINITY && soonest > now) wakeAt(soonest);
    };
    const retryAfterOf = new Map<number, number>();
    const retries = new Map<number, number>();
    let noiseCount = 0;
    const send = (order: number, sentAt: number, ticket: number) => {
      const notBefore = retryAfterOf.get(order);
      if (notBefore !== undefined && sentAt < notBefore) result.earlyRetries++;
      if (notBefore !== undefined) result.overdueMs = Math.max(result.overdueMs, sentAt - notBefore);
      inFlight++;
      result.sent++;
      // Each half of the round trip varies by ±25%, as a network does (and as lock-step clients would not).
      const half = () => (latency / 2) * (0.75 + 0.5 * jitter());
      schedule(sentAt + half(), () => {
        const { noise } = server;
        // (`every`: instead of by chance, all but every Nth request of the period are throttled.)
        const noisy = noise && now >= (noise.fromMs ?? 0) && now < (noise.toMs ?? Number.POSITIVE_INFINITY) && (noise.every ? ++noiseCount % noise.every !== 0 : random() < noise.chance);
        const limited = limit?.take();
        const throttled = noisy || (limited !== undefined && !limited.allowed);
        const retryAfterS = noisy ? noise.retryAfterS : limited && !limited.allowed ? limited.retryAfterS : 0;
        schedule(now + half(), () => {
          inFlight--;
          controller.answered(ticket, throttled, throttled && retryAfterS !== undefined ? retryAfterS * 1000 : undefined);
          if (throttled) {
            result.throttled++;
            const retry = (retries.get(order) ?? 0) + 1;
            retries.set(order, retry);
            const waitMs = retryAfterS === undefined ? backoffMs(retry, backoffRandom) : retryAfterS * 1000;
            retryAfterOf.set(order, now + waitMs);
            waiting.push({ order, readyAt: now + waitMs });
          } else {
            result.done++;
            result.doneAt.push(now);
            if (result.done === client.orders) result.finishedAt = now;
          }
          pump();
        });
      });
    };
    schedule(result.startedAt, pump);
    return result;
  });

  while (events.length > 0) {
    const event = events.shift()!;
    if (event.at > untilMs) break;
    now = event.at;
    event.run();
  }
  return results;
}

/** Orders deleted per second between two moments. */
export const rateBetween = (result: ClientResult, fromMs: number, toMs: number) =>
  (result.doneAt.filter((at) => at >= fromMs && at < toMs).length * 1000) / (toMs - fromMs);
