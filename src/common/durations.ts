/** The units of every duration this tool reads: flags (`45m`, `1h30m`), job specs, filter dates (`now-1d`). */
export const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export type DurationUnit = keyof typeof UNIT_MS;

/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer delay fires at once, every time. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `45m`, `1h30m`, `90s`, `500ms`, `2d`: a sum of parts, each a number and a unit; undefined when the text
 * is not one. A bare number is in `bareUnit`.
 */
export function parseDuration(text: string, bareUnit: DurationUnit = 's'): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * UNIT_MS[bareUnit];
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) return undefined;
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_MS[unit as DurationUnit], 0);
}

/**
 * A duration for people, wherever one is read (the summaries, the progress line, the report, the page,
 * notices): `0 s`, `850 ms`, `1 s`, `12.3 s`, `2 min 10 s`, `1 h 20 min`, `3 d 4 h`. Two units at most,
 * rounded from the whole, so that 59.96 s reads `1 min`, never `60 s`. Machine formats (JSON, the audit
 * log's fields, CSV, metrics) keep their numbers.
 */
export function humanDuration(ms: number): string {
  const rounded = Math.round(Math.max(0, ms));
  if (rounded === 0) return '0 s';
  if (rounded < UNIT_MS.s) return `${rounded} ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${tenths / 10} s`;
  const s = Math.round(ms / UNIT_MS.s);
  if (s < 3600) return twoUnits(Math.floor(s / 60), 'min', s % 60, 's');
  const m = Math.round(ms / UNIT_MS.m);
  if (m < 24 * 60) return twoUnits(Math.floor(m / 60), 'h', m % 60, 'min');
  const h = Math.round(ms / UNIT_MS.h);
  return twoUnits(Math.floor(h / 24), 'd', h % 24, 'h');
}

const twoUnits = (large: number, largeUnit: string, small: number, smallUnit: string) => `${large} ${largeUnit}${small ? ` ${small} ${smallUnit}` : ''}`;
