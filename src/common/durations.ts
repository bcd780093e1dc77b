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
