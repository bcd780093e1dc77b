import { describe, expect, test } from '@jest/globals';
import { RateController } from '../src/engine/rate-controller.js';
import type { ThrottleDecision } from '../src/engine/throttle-decision.js';
import { simulate } from './helpers/throttle-sim.js';

/**
 * Issue 21, case 15: a Retry-After of ~40 s (an HTTP date, or delta-seconds: both are read as "until then")
 * was waited once per order and then again as a 37 s "everyone waits" pause, after which a pace record
 * said "paced at 204176.72/s": the climb (4t³ for a newcomer) had run through the pause.
 */
function controller() {
  const clock = { now: 1_000_000 };
  const decisions: ThrottleDecision[] = [];
  const paces: number[] = [];
  const c = new RateController({ now: () => clock.now, sleep: async (ms) => void (clock.now += ms), onDecision: (d) => decisions.push(d), onPace: (rps) => paces.push(rps) });
  /** `n` answers, `spacingMs` apart, sent as fast as the controller allows: every `every`-th throttled, with the Retry-After `retryAfter(now)` gives. */
  const answers = (n: number, every: number, retryAfter: (now: number) => number, spacingMs = 5) => {
    for (let i = 1; i <= n; i++) {
      let reservation = c.reserve(clock.now);
      while (!('ticket' in reservation)) {
        clock.now += reservation.waitMs;
        reservation = c.reserve(clock.now);
      }
      clock.now += spacingMs;
      const throttled = every > 0 && i % every === 0;
      c.answered(reservation.ticket, throttled, throttled ? retryAfter(clock.now) : undefined);
    }
  };
  /** Sends at the pace for `ms`, the answers never coming back. */
  const sendFor = (ms: number) => {
    const end = clock.now + ms;
    while (clock.now < end) {
      const reservation = c.reserve(clock.now);
      if ('waitMs' in reservation) clock.now = Math.min(end, clock.now + reservation.waitMs);
    }
  };
  return { c, clock, decisions, paces, answers, sendFor };
}

describe('a long Retry-After', () => {
  test.each([
    ['a newcomer (searching upward, 4t³)', 0, 1],
    ['a known limit (climbing 4/s each second)', 100, 2],
  ])('everyone waits 40 s; after the pause the rate is what the cut set and one second of climbing, not forty: %s', (_name, before, every) => {
    const { c, clock, decisions, paces, answers, sendFor } = controller();
    answers(before, 0, () => 0);
    answers(20, every, () => 40_000);
    const cut = decisions[0]!;
    expect(cut).toMatchObject({ kind: 'cut', pauseMs: 40_000 });
    clock.now += 40_000;
    sendFor(1); // the first request after the pause: a pace record, if the rate moved
    expect(c.rateAt()).toBeLessThan(cut.rateAfter + 5); // before: + 4·40³ (256,000/s) or + 4·40 (160/s)
    for (const rps of paces) expect(rps).toBeLessThan(cut.rateAfter + 5);
  });

  test('nothing sent for 40 s (every order waiting out its own Retry-After): the rate has not climbed meanwhile', () => {
    const { c, clock, decisions, answers } = controller();
    answers(100, 0, () => 0);
    answers(600, 5, () => 40_000, 4); // 20% throttled: a cut without a pause
    const cut = decisions[0]!;
    expect(cut).toMatchObject({ kind: 'cut', pauseMs: 0 });
    clock.now += 40_000;
    expect(c.rateAt()).toBeLessThan(cut.rateAfter + 5); // before: + 160/s
  });

  test('an HTTP date: the pause ends at that date, not the date plus the time the window took to judge', () => {
    const { c, clock, decisions, answers } = controller();
    const date = clock.now + 40_000;
    answers(20, 2, (now) => date - now, 100); // a throttled answer every 200 ms, each saying "until <date>"
    expect(decisions[0]).toMatchObject({ kind: 'cut' });
    expect(clock.now + decisions[0]!.pauseMs).toBe(date); // before: date + 1 s (the median answer's delta, counted from the judgement)
    expect(c.paused).toBe(true);
  });

  test('everyone waits once: a later cut, clearly over again, does not pause everyone again (each throttled order waits its own Retry-After)', () => {
    const { clock, decisions, answers } = controller();
    answers(100, 0, () => 0);
    answers(20, 2, () => 40_000);
    expect(decisions[0]).toMatchObject({ kind: 'cut', pauseMs: 40_000 });
    clock.now += 40_000;
    answers(100, 0, () => 0);
    answers(20, 1, () => 40_000);
    expect(decisions.at(-1)).toMatchObject({ kind: 'cut', share: 0.5, pauseMs: 0 }); // clearly over again; before: another 40 s for everyone
  });

  test('a short Retry-After (a second, as a bucket says) still pauses everyone each time: clients sharing a limit back off together', () => {
    const { clock, decisions, answers } = controller();
    answers(100, 0, () => 0);
    answers(20, 2, () => 1000);
    clock.now += 1000;
    answers(100, 0, () => 0);
    answers(20, 1, () => 1000);
    expect(decisions.map((d) => [d.kind, d.pauseMs])).toEqual([['cut', 1000], ['cut', 1000]]);
  });
});

describe('random 429s with a Retry-After of 40 s, in simulation', () => {
  test.each([0.3, 0.5])('%p of DELETEs answered 429, 300 orders: one pause, no order held longer than its own Retry-After and the pace, no pace above what was sent', (chance) => {
    for (const seed of [1, 2, 3]) {
      const [run] = simulate({ noise: { chance, retryAfterS: 40 }, seed }, [{ orders: 300, concurrency: 8 }], 3_600_000);
      expect(run!.done).toBe(300);
      expect(run!.decisions.filter((d) => d.pauseMs > 0).length).toBeLessThanOrEqual(1);
      expect(run!.earlyRetries).toBe(0);
      expect(run!.overdueMs).toBeLessThan(20_000); // its turn at the pace; before: 40 s more (a pause that began as its own wait ended)
      expect(Math.max(0, ...run!.paces.map((p) => p.rps))).toBeLessThan(400); // 8 slots at 20 ms send at most 400/s
    }
  });

  test('half the DELETEs answered 429 with a Retry-After of 40 s, 100 orders: the noise is found, though after the first pause every window is a burst of retries between long waits', () => {
    for (const seed of [1, 2, 3]) {
      const [run] = simulate({ noise: { chance: 0.5, retryAfterS: 40 }, seed }, [{ orders: 100, concurrency: 8 }], 3_600_000);
      expect(run!.decisions.filter((d) => d.kind === 'noise')).toHaveLength(1);
      expect(run!.decisions.filter((d) => d.kind === 'cut').length).toBeLessThanOrEqual(6);
    }
  });
});
