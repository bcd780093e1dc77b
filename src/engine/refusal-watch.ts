/**
 * Nothing but 429s for this long, and at least REFUSED_ANSWERS of them: the server is refusing this client,
 * not pacing it, and the run halts (exit 4, resumable). Timed on the clock that stops while everyone waits
 * out a Retry-After, so a long Retry-After honoured is not held against the server. A limit, however low,
 * accepts something in a minute at the pace the controller goes down to (the floor, one request every
 * 20 s); and any answer that is not a 429 starts the count again.
 */
export const REFUSED_MS = 60_000;
const REFUSED_ANSWERS = 10;

export class RefusalWatch {
  /** Since when (active time) every answer was a 429, and how many there were. */
  private since: number | undefined;
  private throttled = 0;
  private told = false;

  /** An answer at `active` (active time): throttled (429) or not. */
  answered(throttled: boolean, active: number): void {
    if (!throttled) {
      this.since = undefined;
      this.throttled = 0;
      return;
    }
    this.since ??= active;
    this.throttled++;
  }

  /** Why the run must halt, once, when every answer for REFUSED_MS up to `active` was a 429. */
  refused(active: number): string | undefined {
    if (this.told || this.since === undefined || this.throttled < REFUSED_ANSWERS || active - this.since < REFUSED_MS) return undefined;
    this.told = true;
    return `every answer for ${REFUSED_MS / 1000} s was 429 Too Many Requests (${this.throttled} requests, at every pace tried): ` +
      'the server is refusing this client, not pacing it';
  }
}
