import { closest, distance } from 'fastest-levenshtein';
import { oneLine } from '../common/text.js';
import type { ListedOrder } from '../exsited/orders.js';
import type { Criteria, criterionChecks } from '../sources/filter-spec.js';

/** The selected orders by status, account and age: what a person checks before confirming. */
export type Breakdown = Record<'status' | 'account' | 'age', Record<string, number>>;

type Check = ReturnType<typeof criterionChecks>[number];

const AGES: Array<[string, number]> = [['under a day', 86_400_000], ['1–7 days', 7 * 86_400_000], ['7–30 days', 30 * 86_400_000], ['30–365 days', 365 * 86_400_000]];
const SEEN_KEPT = 50;
const SHOWN = 6;

/** What the selection says of its filter: a line for people, and whether it is worth a warning (a likely mistake). */
export interface FilterHelp {
  level: 'info' | 'warn';
  lines: string[];
}

/** A server's value as the console shows it: text only, and no longer than a person reads. */
const text = (value: unknown) => (typeof value === 'string' ? (value.length > 80 ? `${value.slice(0, 80)}…` : value) : undefined);
const attributesOf = (order: ListedOrder) => (Array.isArray(order.custom_attributes) ? order.custom_attributes : []).filter((a) => a && typeof a === 'object');

/**
 * What a listing shows about a filter, gathered page by page: the breakdown of the selection, how many
 * listed orders each criterion excluded, and the values the listed orders have for each criterion given,
 * so that when nothing (or everything) matched, the criterion that did it is named, with the likely fix
 * where a value seen is close to the one asked for (`ACTVE`: did you mean `ACTIVE`?).
 */
export class SelectionStats {
  readonly breakdown: Breakdown = { status: {}, account: {}, age: {} };
  private readonly seen = new Map<string, Set<string>>();
  private readonly excluded = new Map<string, number>();

  constructor(private readonly criteria: Criteria, private readonly checks: Check[], private readonly now = Date.now()) {}

  listed(order: ListedOrder): void {
    const c = this.criteria;
    for (const check of this.checks) if (!check.holds(order)) this.excluded.set(check.key, (this.excluded.get(check.key) ?? 0) + 1);
    if (c.status) this.see('status', text(order.status));
    if (c.createdBy) this.see('createdBy', text(order.created_by));
    if (c.lastUpdatedBy) this.see('lastUpdatedBy', text(order.last_updated_by));
    if (c.currency) this.see('currency', text(order.currency?.name));
    if (c.accountId) this.see('accountId', text(order.account_id));
    for (const name of Object.keys(c.customAttributes ?? {})) {
      for (const attribute of attributesOf(order)) {
        this.see('custom attribute', text(attribute.name));
        if (attribute.name === name) this.see(`customAttributes.${name}`, text(attribute.value));
      }
    }
  }

  selected(order: ListedOrder): void {
    const add = (dimension: keyof Breakdown, key: string) => (this.breakdown[dimension][key] = (this.breakdown[dimension][key] ?? 0) + 1);
    add('status', text(order.status) ?? '(none)');
    add('account', text(order.account_id) ?? '(none)');
    const created = Date.parse(text(order.created_on) ?? '');
    const age = this.now - created;
    add('age', Number.isNaN(created) ? 'unknown' : (AGES.find(([, limit]) => age < limit)?.[0] ?? 'over a year'));
  }

  /** Each criterion with the listed orders it excluded: `status excluded 20, createdBy 33 (all)`. */
  exclusions(listed: number): string {
    return this.checks.map(({ key }) => {
      const n = this.excluded.get(key) ?? 0;
      return `${key} ${n}${n === listed && listed > 0 ? ' (all)' : ''}`;
    }).join(', ');
  }

  /**
   * When nothing matched, or everything did: how many orders each criterion excluded, and for a value asked
   * for that no listed order has but one close to it does, the likely fix (a warning). Nothing when the
   * selection is neither (a run that went as intended), and no warning when no value looks mistyped: a
   * nightly filter that finds nothing left to delete is a good night.
   */
  help(selected: number, listed: number): FilterHelp | undefined {
    if (listed === 0 || this.checks.length === 0 || (selected > 0 && selected < listed)) return undefined;
    const fixes = this.likelyFixes();
    const head = selected === 0
      ? `Nothing matched: of ${listed} orders listed, each criterion excluded ${this.exclusions(listed)}.`
      : `Every one of the ${listed} orders listed matched: no criterion excluded any (${this.checks.map((c) => c.key).join(', ')}).`;
    // Each on one line: a filter's attribute names and the server's values never forge another (red team).
    return { level: fixes.length > 0 ? 'warn' : 'info', lines: [head, ...fixes].map(oneLine) };
  }

  /** Values asked for that no listed order has, where one it has is close: `status "ACTVE": no listed order has it; did you mean "ACTIVE"?`. */
  private likelyFixes(): string[] {
    const c = this.criteria;
    const fixes: string[] = [];
    const check = (key: string, wanted: string[] | undefined, sameCase = true) => {
      const seen = [...(this.seen.get(key) ?? [])];
      for (const value of wanted ?? []) {
        if (seen.some((s) => (sameCase ? s === value : s.toUpperCase() === value.toUpperCase()))) continue;
        const near = seen.length > 0 ? closest(value, seen) : undefined;
        if (near !== undefined && distance(near.toLowerCase(), value.toLowerCase()) <= 2) {
          fixes.push(`${key} ${JSON.stringify(value)}: no listed order has it; did you mean ${JSON.stringify(near)}? (seen: ${shown(seen)})`);
        }
      }
    };
    check('status', c.status, false);
    check('createdBy', c.createdBy);
    check('lastUpdatedBy', c.lastUpdatedBy);
    check('currency', c.currency);
    check('accountId', c.accountId);
    for (const [name, value] of Object.entries(c.customAttributes ?? {})) {
      const names = this.seen.get('custom attribute') ?? new Set<string>();
      if (names.has(name)) check(`customAttributes.${name}`, [value]);
      else check('custom attribute', [name]);
    }
    return fixes;
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
    // The server's statuses and account IDs, on one line: shown as a person is asked to confirm (red team: a forged line there).
    return oneLine(`by ${label}: ${entries.slice(0, SHOWN).map(([key, n]) => `${key} ${n}`).join(', ')}${more}`);
  };
  if (Object.keys(breakdown.status).length === 0) return [];
  return [line('status', breakdown.status), line('account', breakdown.account), line('age', breakdown.age)];
}

function shown(values: string[]): string {
  if (values.length === 0) return 'none';
  const list = values.slice(0, 10).map((v) => JSON.stringify(v)).join(', ');
  return values.length > 10 ? `${list}, …` : list;
}
