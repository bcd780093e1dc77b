import { failureCause } from '../common/domain.js';
import type { OrderRecord } from '../common/records.js';

/**
 * --halt-after: when that many orders in a row fail with the same cause (403 on every order, 5xx after
 * all retries, a refused connection), the cause is not the orders; going on would only log it ten
 * thousand times. Any other outcome, or another cause, breaks the streak. 0 disables the policy.
 */
export class HaltPolicy {
  private cause: string | undefined;
  private streak = 0;

  constructor(private readonly haltAfter: number) {}

  /** Whether the next failure recorded could halt the run: then the next request waits for it to be recorded. */
  near(): boolean {
    return this.haltAfter > 0 && this.streak + 1 >= this.haltAfter;
  }

  /** Returns why the run must halt, once the streak reaches --halt-after. */
  observe(record: OrderRecord): string | undefined {
    if (record.outcome !== 'failed') {
      this.streak = 0;
      this.cause = undefined;
      return undefined;
    }
    const cause = failureCause(record);
    this.streak = cause === this.cause ? this.streak + 1 : 1;
    this.cause = cause;
    if (this.haltAfter === 0 || this.streak < this.haltAfter) return undefined;
    return `${this.streak} orders in a row failed with ${cause} (last: ${record.orderId}: ${record.error?.message ?? ''}); ` +
      'fix the cause and resume (--halt-after sets the limit)';
  }
}
