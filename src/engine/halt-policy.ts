import { failureCause, NOT_THE_API } from '../common/domain.js';
import type { OrderRecord } from '../common/records.js';

/**
 * --halt-after: when that many orders in a row fail with the same cause (403 on every order, 5xx after
 * all retries, a refused connection), the cause is not the orders; going on would only log it ten
 * thousand times. Any other outcome, or another cause, breaks the streak. A service that is not serving
 * is one cause however it shows (a 5xx or 408 after all retries, or no usable answer: a gateway's 502, a
 * reset, a timeout, a proxy's page where the API's answer was due, in any mix): a dying service mixed them and was never
 * halted (red team). 0 disables the policy.
 */
export class HaltPolicy {
  private key: string | undefined;
  private streak = 0;
  /** The streak's causes in words, and how many orders each. */
  private causes = new Map<string, number>();

  constructor(private readonly haltAfter: number) {}

  /** Whether the next failure recorded could halt the run: then the next request waits for it to be recorded. */
  near(): boolean {
    return this.haltAfter > 0 && this.streak + 1 >= this.haltAfter;
  }

  /** Returns why the run must halt, once the streak reaches --halt-after. */
  observe(record: OrderRecord): string | undefined {
    if (record.outcome !== 'failed') {
      this.streak = 0;
      this.key = undefined;
      return undefined;
    }
    const cause = failureCause(record);
    const key = notServing(record) ? NOT_SERVING : cause;
    if (key !== this.key) {
      this.streak = 0;
      this.causes.clear();
    }
    this.key = key;
    this.streak++;
    this.causes.set(cause, (this.causes.get(cause) ?? 0) + 1);
    if (this.haltAfter === 0 || this.streak < this.haltAfter) return undefined;
    const named = this.causes.size === 1 ? cause : `the service not serving: ${listed([...this.causes].sort((a, b) => b[1] - a[1]))}`;
    return `${this.streak} orders in a row failed with ${named} (last: ${record.orderId}: ${record.error?.message ?? ''}); ` +
      'fix the cause and resume (--halt-after sets the limit)';
  }
}

const NOT_SERVING = 'not serving';
/** Causes named in a halt's words, the most frequent first, as "Failures by cause" lists them: a server that words every 5xx its own way cannot make the reason grow with --halt-after. */
const NAMED = 5;

function listed(causes: Array<[string, number]>): string {
  const named = causes.slice(0, NAMED).map(([words, orders]) => `${words} (${orders})`);
  const rest = causes.slice(NAMED);
  if (rest.length > 0) named.push(`${rest.length} other causes (${rest.reduce((sum, [, orders]) => sum + orders, 0)})`);
  return named.join(', ');
}
/** Something other than the API answering (a proxy's page: NOT_THE_API) is the service not served too: a gateway alternating 503s and 404 pages was never halted (red team). */
const notServing = (record: OrderRecord): boolean => record.httpStatus === null || record.httpStatus === 408 || record.httpStatus >= 500 || record.error?.code === NOT_THE_API;
