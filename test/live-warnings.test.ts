import { PassThrough } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import { RunEvents } from '../src/engine/events.js';
import type { ThrottleDecision } from '../src/engine/throttle-decision.js';
import { Console } from '../src/report/console.js';
import { reportLiveWarnings } from '../src/report/live-warnings.js';
import { VirtualClock } from './helpers/virtual-time.js';

/** Issue 23, item 5: what matters said while it happens, at most one line per cause every 10 s, on simulated time. */
function setUp(format: 'human' | 'json' = 'human') {
  let text = '';
  const stream = new PassThrough().on('data', (chunk: Buffer) => (text += chunk.toString()));
  const clock = new VirtualClock();
  const events = new RunEvents();
  reportLiveWarnings(events, new Console(format, stream, stream), { now: clock.now, timer: clock.timer });
  const lines = () => text.trim().split('\n').filter(Boolean);
  return { clock, events, lines };
}

const cut = (rateBefore: number, rateAfter: number, pauseMs = 0): ThrottleDecision => ({
  kind: 'cut', windowMs: 1000, answers: 40, share: 0.5, baseline: 0, acceptedRate: rateAfter, rateBefore, rateAfter, ceiling: rateAfter, pauseMs,
});

describe('warnings while it happens', () => {
  test('an outage: failing at once, answering again with how long — said when it happens, not at the summary', async () => {
    const { clock, events, lines } = setUp();
    events.emit({ type: 'service', change: { state: 'failing', failures: 18, answers: 20 } });
    expect(lines()).toEqual([expect.stringMatching(/The service is failing: 18 of the last 20 answers were errors/)]);
    await clock.run(clock.sleep(12_000));
    events.emit({ type: 'service', change: { state: 'answering', failures: 0, answers: 20, failingMs: 12_000 } });
    expect(lines()[1]).toMatch(/The service answers again after 12 s of failing/);
  });

  test('a flapping service and a run of cuts: one line per cause per 10 s, then the latest (the state now) with how many it stands for', async () => {
    const { clock, events, lines } = setUp();
    events.emit({ type: 'throttle', decision: cut(100, 80) });
    events.emit({ type: 'service', change: { state: 'failing', failures: 18, answers: 20 } });
    for (const [before, after] of [[80, 60], [60, 45], [45, 30]] as const) events.emit({ type: 'throttle', decision: cut(before, after, 2000) });
    events.emit({ type: 'service', change: { state: 'answering', failures: 0, answers: 20, failingMs: 1500 } });
    events.emit({ type: 'service', change: { state: 'failing', failures: 20, answers: 20 } }); // failing again, and still at the end
    expect(lines()).toEqual([expect.stringMatching(/rate cut from 100\/s to 80\/s/), expect.stringMatching(/failing: 18 of/)]);
    await clock.run(clock.sleep(9_999));
    expect(lines()).toHaveLength(2);
    await clock.run(clock.sleep(1));
    expect(lines().slice(2)).toEqual([
      expect.stringMatching(/rate cut from 45\/s to 30\/s; everyone waits 2 s \(its Retry-After\)\. \(the latest of 3 in 10 s\)$/),
      expect.stringMatching(/The service is failing: 20 of the last 20 .* \(the latest of 2 in 10 s\)$/), // the state now, not "answers again"
    ]);
  });

  test('a halt is said as the run stops; a signal is not (the signal handler says it); JSON lines are warn level', () => {
    const { events, lines } = setUp('json');
    events.emit({ type: 'run.stopping', stop: { kind: 'signal', signal: 'SIGTERM', reason: 'received SIGTERM' } });
    events.emit({ type: 'run.stopping', stop: { kind: 'halt', reason: '5 orders in a row failed with HTTP 403' } });
    const [line, ...rest] = lines().map((l) => JSON.parse(l) as { level: string; msg: string; cause: string });
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ level: 'warn', cause: 'stop', msg: expect.stringMatching(/^Stopping: 5 orders in a row failed with HTTP 403\./) });
  });

  test('what waits when the run ends is said then, before the summary (a short outage told whole); no timer is left behind', async () => {
    const { clock, events, lines } = setUp();
    events.emit({ type: 'service', change: { state: 'failing', failures: 18, answers: 20 } });
    events.emit({ type: 'service', change: { state: 'answering', failures: 0, answers: 20, failingMs: 2100 } });
    events.emit({ type: 'run.ended', outcome: {} as never });
    expect(lines()).toEqual([expect.stringMatching(/failing/), expect.stringMatching(/answers again after 2\.1 s of failing/)]);
    await clock.run(clock.sleep(20_000));
    expect(lines()).toHaveLength(2);
  });
});
