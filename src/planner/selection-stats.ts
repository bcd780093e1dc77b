import type { ListedOrder } from '../exsited/orders.js';
import type { Criteria } from '../sources/filter-spec.js';

/** The selected orders by status, account and age: what a person checks before confirming. */
export type Breakdown = Record<'status' | 'account' | 'age', Record<string, number>>;

const AGES: Array<[string, number]> = [['under a day', 86_400_000], ['1–7 days', 7 * 86_400_000], ['7–30 days', 30 * 86_400_000], ['30–365 days', 365 * 86_400_000]];
const SEEN_KEPT = 50;
const SHOWN = 6;

/**
 * What a listing shows about a filter, gathered page by page: the breakdown of the selection, and the
 * values of the listed orders for each criterion given, so that a value no order has (a typo such as
 * `test_dta`, `ACTVE`) is said before anything is confirmed.
 */
export class SelectionStats {
  readonly breakdown: Breakdown = { status: {}, account: {}, age: {} };
  private readonly seen = new Map<string, Set<string>>();

  constructor(private readonly criteria: Criteria, private readonly now = Date.now()) {}

  listed(order: ListedOrder): void {
    const c = this.criteria;
    if (c.status) this.see('status', order.status);
    if (c.createdBy) this.see('created by', order.created_by);
    if (c.lastUpdatedBy) this.see('last updated by', order.last_updated_by);
    if (c.currency) this.see('currency', order.currency?.name);
    if (c.accountId) this.see('account', order.account_id);
    for (const name of Object.keys(c.customAttributes ?? {})) {
      for (const attribute of order.custom_attributes ?? []) {
        this.see('custom attribute', attribute.name);
        if (attribute.name === name) this.see(`custom attribute ${name}`, attribute.value);
      }
    }
  }

  selected(order: ListedOrder): void {
    const add = (dimension: keyof Breakdown, key: string) => (this.breakdown[dimension][key] = (this.breakdown[dimension][key] ?? 0) + 1);
    add('status', order.status ?? '(none)');
    add('account', order.account_id ?? '(none)');
    const created = Date.parse(order.created_on ?? '');
    const age = this.now - created;
    add('age', Number.isNaN(created) ? 'unknown' : (AGES.find(([, limit]) => age < limit)?.[0] ?? 'over a year'));
  }

  /** A sentence for each criterion value no listed order has. */
  hints(): string[] {
    const c = this.criteria;
    const hints: string[] = [];
    const check = (what: string, wanted: string[] | undefined, sameCase = true) => {
      const seen = this.seen.get(what) ?? new Set<string>();
      const has = (value: string) => (sameCase ? seen.has(value) : [...seen].some((s) => s.toUpperCase() === value.toUpperCase()));
      for (const value of wanted ?? []) {
        if (!has(value)) hints.push(`no listed order has ${what} ${JSON.stringify(value)}; seen: ${shown(seen)}`);
      }
    };
    check('status', c.status, false);
    check('created by', c.createdBy);
    check('last updated by', c.lastUpdatedBy);
    check('currency', c.currency);
    check('account', c.accountId);
    for (const [name, value] of Object.entries(c.customAttributes ?? {})) {
      const names = this.seen.get('custom attribute') ?? new Set<string>();
      if (!names.has(name)) hints.push(`no listed order carries the custom attribute ${JSON.stringify(name)}; seen: ${shown(names)}`);
      else check(`custom attribute ${name}`, [value]);
    }
    return hints;
  }

  private see(what: string, value: string | undefined): void {
    if (value === undefined) return;
    const seen = this.seen.get(what) ?? new Set<string>();
    if (seen.size < SEEN_KEPT) seen.add(value);
    this.seen.set(what, seen);
  }
}

/** The breakdown in a few lines, the largest groups first. */
export function describeBreakdown(breakdown: Breakdown): string[] {
  const line = (label: string, counts: Record<string, number>) => {
    const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
    const more = entries.length > SHOWN ? `, and ${entries.length - SHOWN} more` : '';
    return `by ${label}: ${entries.slice(0, SHOWN).map(([key, n]) => `${key} ${n}`).join(', ')}${more}`;
  };
  if (Object.keys(breakdown.status).length === 0) return [];
  return [line('status', breakdown.status), line('account', breakdown.account), line('age', breakdown.age)];
}

function shown(values: Set<string>): string {
  if (values.size === 0) return 'none';
  const list = [...values].slice(0, 10).map((v) => JSON.stringify(v)).join(', ');
  return values.size > 10 ? `${list}, …` : list;
}
