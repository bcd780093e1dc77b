import { humanDuration } from '../common/durations.js';
import { decisionText } from '../engine/decision-words.js';
import type { RunEvents } from '../engine/events.js';
import type { ThrottleDecision } from '../engine/throttle-decision.js';
import type { Console } from './console.js';

/** A cause says at most one line per this long; what came meanwhile is said at its end, the latest only. */
const LIVE_WINDOW_MS = 10_000;

/** What each decision of the rate controller means for the person watching. */
const PACE_NEWS: Readonly<Record<ThrottleDecision['kind'], string>> = {
  cut: 'The server throttled this run',
  ceiling: 'The server throttled this run near its known limit',
  lift: 'The server no longer throttles this run',
  noise: 'The server\'s 429s do not depend on this run\'s pace',
  restore: 'The server accepts this run again after refusing it',
  raise: 'The server accepts more of this run than its known limit',
};

/** The time, and a timer that never holds the process (returns its cancel): injected by the tests. */
export interface LiveClock {
  now: () => number;
  timer: (fire: () => void, ms: number) => () => void;
}

const REAL_CLOCK: LiveClock = {
  now: () => Date.now(),
  timer: (fire, ms) => {
    const timer = setTimeout(fire, ms).unref();
    return () => clearTimeout(timer);
  },
};

/**
 * Issue 23, item 5: what matters said while it happens, at warn level, in every log format — what a person
 * at `kubectl logs` sees during an outage, not only in the summary: the service failing and answering again
 * (and for how long), a change of pace the server forced (a rate cut and the new pace, the 429s found to be
 * noise, everyone waiting out a Retry-After), and a halt's cause as the run stops. At most one line per cause
 * every 10 s: a run of cuts, or a flapping service, is one line, then the latest when the window ends, with
 * how many it stands for; what still waits when the run ends is said then, before the summary (so this
 * subscribes before the console's summary). The audit log keeps every one. A subscriber to the run's events.
 */
export function reportLiveWarnings(events: RunEvents, console: Console, clock: LiveClock = REAL_CLOCK): void {
  const causes = new Map<string, { lastAt: number; folded: number; waiting?: { text: string; cancel: () => void } }>();
  const tell = (cause: string, text: string) => {
    const now = clock.now();
    const state = causes.get(cause) ?? { lastAt: Number.NEGATIVE_INFINITY, folded: 0 };
    causes.set(cause, state);
    if (now - state.lastAt >= LIVE_WINDOW_MS) {
      state.lastAt = now;
      console.say(text, 'warn', { event: 'live', cause });
      return;
    }
    state.folded++;
    if (state.waiting) {
      state.waiting.text = text;
      return;
    }
    const cancel = clock.timer(() => {
      const { waiting, folded } = state;
      state.waiting = undefined;
      state.folded = 0;
      state.lastAt = clock.now();
      if (waiting) console.say(`${waiting.text}${folded > 1 ? ` (the latest of ${folded} in ${humanDuration(LIVE_WINDOW_MS)})` : ''}`, 'warn', { event: 'live', cause });
    }, state.lastAt + LIVE_WINDOW_MS - now);
    state.waiting = { text, cancel };
  };
  events
    // One cause: what is said last is the latest state (a flapping service, held back, ends on how it is now).
    .on('service', ({ change }) => tell('service', change.state === 'failing'
      ? `The service is failing: ${change.failures} of the last ${change.answers} answers were errors or no answer; new requests wait, a probe a second.`
      : `The service answers again${change.failingMs !== undefined ? ` after ${humanDuration(change.failingMs)} of failing` : ''}; requests go on at the run's pace.`))
    .on('throttle', ({ decision }) => tell('pace', `${PACE_NEWS[decision.kind]}: ${decisionText(decision)}` +
      `${decision.pauseMs > 0 ? `; everyone waits ${humanDuration(decision.pauseMs)} (its Retry-After)` : ''}.`))
    .on('run.stopping', ({ stop }) => {
      if (stop.kind === 'halt') tell('stop', `Stopping: ${stop.reason}. The requests under way finish and are recorded.`);
    })
    // What still waits is said now, before the summary (subscribed before it): a short outage is told whole.
    .on('run.ended', () => {
      for (const [cause, state] of causes) {
        if (!state.waiting) continue;
        state.waiting.cancel();
        console.say(state.waiting.text, 'warn', { event: 'live', cause });
        state.waiting = undefined;
      }
    });
}
