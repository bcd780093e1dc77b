import { secrets } from '../../common/secrets.js';

/**
 * Text as HTML (and SVG) text or attribute value: whatever a server or a file put in it stays text.
 * Secrets are scrubbed first: once escaped, a secret holding `&` or `<` no longer looks like itself.
 */
export function esc(value: string | number): string {
  return secrets.scrub(String(value)).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A count for people: 1,234,567. */
export const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** A figure with at most `digits` decimals, trailing zeros dropped: 12.5, 3, 0.25. */
export const num = (n: number, digits = 1): string => String(Number(n.toFixed(digits)));

/** A span of time for people: 850 ms, 12.3 s, 4 min 5 s, 2 h 10 min. */
export function span(ms: number): string {
  if (ms < 1000) return `${num(ms, ms < 10 ? 1 : 0)} ms`;
  if (ms < 60_000) return `${num(ms / 1000)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

/** A moment, UTC, to the second: 2026-11-28 06:42:35 UTC. */
export const moment = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
/** The time of day only, UTC: 06:42:35. */
export const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

/** A paced rate for people: 36.5/s, or unpaced. */
export const rateText = (rps: number | null): string => (rps === null ? 'unpaced' : `${num(rps)}/s`);

/** What each decision of the rate controller did, in the words of the legend, the marks and the table. */
export const DECISION_WORDS = { cut: 'rate cut', ceiling: 'step back below the ceiling', lift: 'limit lifted', noise: 'cuts undone (noise)' } as const;
