import { humanDuration } from '../common/durations.js';
import { rateText } from '../engine/decision-words.js';
import type { RunSummary } from '../common/records.js';

/**
 * Throttling, told one way everywhere (console, text report, step summary, page, --summary-json, metrics),
 * in three figures defined once (docs/usage.md, "Throttling, in three figures"):
 * - **answered 429**: requests the server answered 429, of all it answered;
 * - **everyone waited**: time every request waited out the server's Retry-After together;
 * - **the pace the server accepted**: requests/s it let through when it throttled (null: it never did).
 * The retry budget's hold (the service failing, not throttling) is told beside them, never as throttling.
 */
export interface Throttling {
  /** DELETE requests answered, and those answered 429 (a dry run's checks are not counted). */
  requests: number;
  answered429: number;
  /** Time everyone waited out a Retry-After, ms. */
  waitedMs: number;
  /** The pace the server accepted, requests/s (the last one found); null when it did not throttle enough to find one. */
  acceptedRps: number | null;
  /** Times the rate was cut. */
  cuts: number;
  /** Time new orders were held because the service was failing (the retry budget), ms. */
  heldMs: number;
}

export const NO_THROTTLING: Throttling = { requests: 0, answered429: 0, waitedMs: 0, acceptedRps: null, cuts: 0, heldMs: 0 };

/** A run's figures, as run.end records them (`throttledMs` and `summary.throttling`). */
export function throttlingOf(summary: Pick<RunSummary, 'throttledMs' | 'throttling'>): Throttling {
  const t = summary.throttling;
  return {
    requests: t?.requests ?? 0, answered429: t?.throttled ?? 0, waitedMs: summary.throttledMs, acceptedRps: t?.ceilingRps ?? null,
    cuts: t?.cuts ?? 0, heldMs: t?.budgetHeldMs ?? 0,
  };
}

/** Runs one after another: their figures added; the pace accepted, the latest found. */
export function addThrottling(a: Throttling, b: Throttling): Throttling {
  return {
    requests: a.requests + b.requests, answered429: a.answered429 + b.answered429, waitedMs: a.waitedMs + b.waitedMs,
    acceptedRps: b.acceptedRps ?? a.acceptedRps, cuts: a.cuts + b.cuts, heldMs: a.heldMs + b.heldMs,
  };
}

const share = (t: Throttling) => `${((t.answered429 * 100) / Math.max(1, t.requests)).toFixed(1)}%`;

/**
 * The summaries' row: `none of 891 requests answered 429`, or `24 of 891 requests answered 429 (2.7%); everyone waited
 * 1.2 s; the server accepted about 98/s (rate cut 2 times)`, and the retry budget's hold apart.
 */
/** `98/s`; below 1/s with its figures (`0.26/s`, not `0/s`). */
const aboutRate = (rps: number) => (rps >= 1 ? `${Math.round(rps)}/s` : rateText(rps));

export function throttlingText(t: Throttling): string {
  const parts = [t.answered429 === 0 ? (t.requests === 0 ? 'no request answered 429' : `none of ${t.requests} requests answered 429`) : `${t.answered429} of ${t.requests} requests answered 429 (${share(t)})`];
  if (t.waitedMs > 0) parts.push(`everyone waited ${humanDuration(t.waitedMs)}`);
  if (t.acceptedRps !== null) parts.push(`the server accepted about ${aboutRate(t.acceptedRps)} (rate cut ${t.cuts} ${t.cuts === 1 ? 'time' : 'times'})`);
  else if (t.answered429 > 0) parts.push('noise: the rate was not cut');
  if (t.heldMs > 0) parts.push(`requests held ${humanDuration(t.heldMs)} while the service failed (retry budget)`);
  return parts.join('; ');
}

/** The page's sentence: whether the server throttled, in the same figures. */
export function throttlingSentence(t: Throttling): string {
  const throttled = t.answered429 === 0
    ? `The server answered none of ${t.requests} requests 429: it did not throttle this run.`
    : `The server answered ${t.answered429} of ${t.requests} requests 429 (${share(t)}).`;
  const accepted = t.acceptedRps !== null ? ` The pace it accepted: about ${aboutRate(t.acceptedRps)} (the rate cut ${t.cuts} ${t.cuts === 1 ? 'time' : 'times'}).`
    : t.answered429 > 0 ? ' Noise: the rate was not cut.' : '';
  const waited = t.waitedMs > 0 ? ` Everyone waited out a Retry-After for ${humanDuration(t.waitedMs)} in all.` : '';
  const held = t.heldMs > 0 ? ` Apart from throttling, requests were held ${humanDuration(t.heldMs)} while the service failed (the retry budget).` : '';
  return `${throttled}${accepted}${waited}${held}`;
}
