/** A count for people: 1,234,567. */
export const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** A figure with at most `digits` decimals, trailing zeros dropped: 12.5, 3, 0.25. */
export const num = (n: number, digits = 1): string => String(Number(n.toFixed(digits)));

/** A moment, UTC, to the second: 2026-11-28 06:42:35 UTC. */
export const moment = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
/** The time of day only, UTC: 06:42:35. */
export const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);
