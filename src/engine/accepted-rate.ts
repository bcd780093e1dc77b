/** Answers counted over at least this long, or the last MIN_COUNT of them if they took longer. */
const MIN_SPAN_MS = 1000;
const MIN_COUNT = 20;

/**
 * What the server accepted lately, per second: answers not throttled over the last second, or over the
 * last MIN_COUNT of them if they took longer (a slow API accepts two or three a second, and a count that
 * small says little). Timed on the clock that stops while everyone waits out a Retry-After, and never
 * over less than a second, because shorter spans mislead: a fixed window's quota is spent early in its
 * second, and a bucket's saved tokens go in a few milliseconds.
 */
export class AcceptedRate {
  /** When answers not throttled came (active time). */
  private times: number[] = [];
  private head = 0;

  /** An answer not throttled at `active`. */
  accepted(active: number): void {
    this.times.push(active);
  }

  /** Everything counted so far is forgotten. */
  forget(): void {
    this.times = [];
    this.head = 0;
  }

  /** Requests/s accepted lately as of `active`, and how many answers that is from. */
  lately(active: number): { rate: number; count: number } {
    while (this.times.length - this.head > MIN_COUNT && (this.times[this.head] as number) <= active - MIN_SPAN_MS) this.head++;
    if (this.head > 4096) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    const count = this.times.length - this.head;
    if (count === 0) return { rate: 0, count };
    return { rate: (count * 1000) / Math.max(MIN_SPAN_MS, active - (this.times[this.head] as number)), count };
  }
}
