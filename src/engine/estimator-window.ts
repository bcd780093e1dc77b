/** The answers the estimator judges together (throttle-estimator.ts): since the last decision, at least a second and 20 of them. */
export interface Window {
  start: number;
  /** The active time the window began at: its answers over its length are the rate it sent at. */
  activeStart: number;
  answers: number;
  throttled: number;
  /** The lowest pace in force while it lasted, requests/s. */
  minPace: number;
  retryAfters: number[];
  /** The latest moment a throttled answer's Retry-After ends (wall clock): a date and a delta alike. */
  latestDeadline: number;
  /** The latest answers' throttled flags (at most RECENT_ANSWERS). */
  recent: boolean[];
  /** How many of `recent` are throttled. */
  recentThrottled: number;
}

/** A window from `start` (wall clock), begun at `activeStart` on the clock that stops during pauses. */
export function newWindow(start: number, activeStart: number): Window {
  return { start, activeStart, answers: 0, throttled: 0, minPace: Number.POSITIVE_INFINITY, retryAfters: [], latestDeadline: Number.NEGATIVE_INFINITY, recent: [], recentThrottled: 0 };
}
