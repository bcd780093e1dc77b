import { createHash } from 'node:crypto';
import { closest, distance } from 'fastest-levenshtein';
import * as z from 'zod';
import { usageError } from '../common/errors.js';
import { parseDuration } from '../common/durations.js';
import { readJsonFile } from '../common/json-file.js';
import type { ListedOrder } from '../exsited/orders.js';
import { orderIdValidator } from './order-id.js';

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/;
/** A real calendar date and time of day (Date.parse would take 2026-02-30 for March 2). */
const isInstant = (text: string) => {
  if (!ISO_INSTANT.test(text) || Number.isNaN(Date.parse(text))) return false;
  const [y, m, d, hh = 0, mm = 0, ss = 0] = (text.match(/\d+/g) ?? []).map(Number) as number[];
  return new Date(Date.UTC(y as number, (m as number) - 1, d)).getUTCDate() === d && hh < 24 && mm < 60 && ss < 60;
};
const RELATIVE = /^now(?:-(\d+(?:m|h|d)))?$/;
/** `now`, `now-30m`, `now-12h`, `now-1d`: relative to when the filter is read (for scheduled jobs). */
const relativeInstant = (text: string, now: number) => {
  const [, ago] = RELATIVE.exec(text) as RegExpExecArray;
  return ago ? now - (parseDuration(ago) as number) : now;
};
const instant = z.string().refine((text) => RELATIVE.test(text) || isInstant(text), {
  message: 'expected an ISO 8601 date or instant with a time zone (2026-07-01, 2026-07-01T00:00:00Z) or now-<n>m|h|d',
}).transform((text) => (RELATIVE.test(text) ? relativeInstant(text, Date.now()) : Date.parse(text)));
const regex = z.string().min(1).transform((text, ctx) => {
  try {
    return new RegExp(text, 'u');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(error as Error).message}` });
    return z.NEVER;
  }
});
const anyOf = z.array(z.string().min(1)).min(1, 'expected at least one value');
/** Account IDs go into a URL path (/accounts/{id}/orders): the shape of an order ID, never `..` or `/`. */
const isSegment = orderIdValidator();
const accountIds = z.array(z.string().superRefine((value, ctx) => {
  const reason = isSegment(value);
  if (reason) ctx.addIssue({ code: 'custom', message: `not an account ID (${reason}): ${JSON.stringify(value)}` });
})).min(1, 'expected at least one value');
const prefix = z.string().min(1, 'expected a non-empty prefix');

const criteriaSchema = z.strictObject({
  status: anyOf.optional(),
  accountId: accountIds.optional(),
  createdBy: anyOf.optional(),
  lastUpdatedBy: anyOf.optional(),
  currency: anyOf.optional(),
  createdBefore: instant.optional(),
  createdAfter: instant.optional(),
  lastUpdatedBefore: instant.optional(),
  lastUpdatedAfter: instant.optional(),
  nameStartsWith: prefix.optional(),
  originStartsWith: prefix.optional(),
  idPattern: regex.optional(),
  customAttributes: z.record(z.string().min(1), z.string())
    .refine((attributes) => Object.keys(attributes).length > 0, 'expected at least one attribute: an empty object is no criterion')
    .optional(),
});

const filterSchema = z.strictObject({
  match: criteriaSchema,
  matchAll: z.literal(true).optional(),
  pageSize: z.number().int().min(1).max(1000).default(100),
});

export type Criteria = z.infer<typeof criteriaSchema>;
export interface OrderFilter {
  criteria: Criteria;
  /** "matchAll": true — the filter says it means every order it lists. */
  matchAll: boolean;
  pageSize: number;
  /** For the audit log: the criteria as written, and the sha256 of the file. */
  match: unknown;
  sha256: string;
}

/**
 * Reads and validates a filter file. Unknown keys (a typo such as `stauts` must never widen a
 * selection), wrong types, bad regular expressions and dates are usage errors naming the key path; a
 * filter without criteria is refused unless it says `"matchAll": true`. `signal` ends the wait for a
 * FIFO's writer (rethrowing its reason).
 */
export async function readFilter(path: string, signal?: AbortSignal): Promise<OrderFilter> {
  const { data, text } = await readJsonFile(path, '--filter', signal);
  const parsed = filterSchema.safeParse(data);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error.issues, data);
    throw usageError(`--filter ${path}: ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was selected:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  const { match, matchAll, pageSize } = parsed.data;
  const given = Object.values(match).filter((value) => value !== undefined).length;
  if (given === 0 && !matchAll) {
    throw usageError(`--filter ${path}: "match" has no criteria, which would select every order; ` +
      'add criteria, or say "matchAll": true if that is really meant');
  }
  return { criteria: match, matchAll: !!matchAll, pageSize, match: (data as { match: unknown }).match, sha256: createHash('sha256').update(text).digest('hex') };
}

/**
 * The schema's findings in plain words: an unknown key with the nearest known one ("stauts": did you
 * mean "status"?), a missing "match" with the unknown key that was probably meant, a text where a list
 * is needed with the list to write.
 */
function describeIssues(issues: z.core.$ZodIssue[], data: unknown): string[] {
  const at = (keys: PropertyKey[]) => keys.map(String).join('.') || '(top level)';
  const valueAt = (keys: PropertyKey[]) => keys.reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined), data);
  const nearest = (key: string, known: string[]) => {
    const near = closest(key, known);
    return distance(near.toLowerCase(), key.toLowerCase()) <= 2 ? near : undefined;
  };
  const topLevelUnknown = issues.flatMap((issue) => (issue.code === 'unrecognized_keys' && issue.path.length === 0 ? issue.keys : []));
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const known = issue.path.length === 0 ? Object.keys(filterSchema.shape) : Object.keys(criteriaSchema.shape);
      return issue.keys
        .filter((key) => !(issue.path.length === 0 && nearest(key, ['match']) === 'match' && valueAt(['match']) === undefined))
        .map((key) => {
          const guess = nearest(key, known);
          return `${at([...issue.path, key])}: unknown key${guess ? ` (did you mean "${guess}"?)` : `; known keys: ${known.join(', ')}`}`;
        });
    }
    const given = valueAt(issue.path);
    if (issue.code === 'invalid_type' && issue.path.length === 1 && issue.path[0] === 'match' && given === undefined) {
      const meant = topLevelUnknown.find((key) => nearest(key, ['match']) === 'match');
      return [`match is missing${meant ? ` — did you write "${meant}"?` : ': the criteria go in "match": { … }'}`];
    }
    if (issue.code === 'invalid_type' && issue.expected === 'array' && typeof given === 'string') {
      return [`${at(issue.path)} takes a list: write ${JSON.stringify([given])}`];
    }
    if (issue.code === 'invalid_type' && given === undefined) return [`${at(issue.path)} is missing`];
    return [`${at(issue.path)}: ${issue.message}`];
  });
}

const upper = (values: string[] | undefined) => values && new Set(values.map((v) => v.toUpperCase()));

/**
 * Each criterion given, by its key in the filter (`status`, `customAttributes.test_data`), as a test of a
 * listed order: every one must hold; a list means any of its values; dates compare as instants (`…Before`
 * strictly earlier, `…After` strictly later); statuses ignore case. An order missing a field that a
 * criterion reads does not match. Apart, so that a selection can say how many orders each one excluded.
 */
export function criterionChecks({ criteria: c }: OrderFilter): Array<{ key: string; holds: (order: ListedOrder) => boolean }> {
  const statuses = upper(c.status);
  // The server's JSON: a field that is not text reads as missing (no match), never as a crash.
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const time = (value: unknown) => (typeof value === 'string' ? Date.parse(value) : Number.NaN);
  const checks: Array<{ key: string; holds: (order: ListedOrder) => boolean }> = [];
  const add = (key: string, given: unknown, holds: (order: ListedOrder) => boolean) => void (given !== undefined && checks.push({ key, holds }));
  const inList = (values: string[]) => (value: string | undefined) => value !== undefined && values.includes(value);
  add('status', statuses, (o) => statuses!.has((text(o.status) ?? '').toUpperCase()));
  if (c.accountId) add('accountId', c.accountId, (o) => inList(c.accountId!)(text(o.account_id)));
  if (c.createdBy) add('createdBy', c.createdBy, (o) => inList(c.createdBy!)(text(o.created_by)));
  if (c.lastUpdatedBy) add('lastUpdatedBy', c.lastUpdatedBy, (o) => inList(c.lastUpdatedBy!)(text(o.last_updated_by)));
  if (c.currency) add('currency', c.currency, (o) => inList(c.currency!)(text(o.currency?.name)));
  add('createdBefore', c.createdBefore, (o) => time(o.created_on) < c.createdBefore!);
  add('createdAfter', c.createdAfter, (o) => time(o.created_on) > c.createdAfter!);
  add('lastUpdatedBefore', c.lastUpdatedBefore, (o) => time(o.last_updated_on) < c.lastUpdatedBefore!);
  add('lastUpdatedAfter', c.lastUpdatedAfter, (o) => time(o.last_updated_on) > c.lastUpdatedAfter!);
  add('nameStartsWith', c.nameStartsWith, (o) => (text(o.name) ?? '').startsWith(c.nameStartsWith!));
  add('originStartsWith', c.originStartsWith, (o) => (text(o.origin) ?? '').startsWith(c.originStartsWith!));
  add('idPattern', c.idPattern, (o) => c.idPattern!.test(o.id));
  for (const [name, value] of Object.entries(c.customAttributes ?? {})) {
    add(`customAttributes.${name}`, value, (o) => (Array.isArray(o.custom_attributes) ? o.custom_attributes : []).some((attribute) => attribute?.name === name && attribute.value === value));
  }
  return checks;
}

/** A predicate for listed orders: every criterion holds. */
export const orderMatcher = (filter: OrderFilter) => matcherOf(criterionChecks(filter));

/** The predicate of criteria already made (a selection keeps them, to count what each excluded). */
export const matcherOf = (checks: ReturnType<typeof criterionChecks>) => (order: ListedOrder): boolean => checks.every((check) => check.holds(order));

/** The longest a manifest cell other than the ID gets, in characters. */
const CELL_MAX = 1000;

/** The manifest's columns: order_id, what a person reviews it by (name, status, currency, total), then the fields the criteria read. */
export function manifestColumns({ criteria: c }: OrderFilter): Array<[string, (order: ListedOrder) => string]> {
  // A listing is the server's JSON: a field that is not text (or a number) is shown empty, never as [object Object];
  // one longer than a person reads is cut (the manifest is read back as a CSV, whose records have a size limit).
  const cell = (read: (order: ListedOrder) => unknown) => (o: ListedOrder) => {
    const value = read(o);
    const text = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
    return text.length > CELL_MAX ? `${text.slice(0, CELL_MAX)}…` : text;
  };
  const columns: Array<[string, (order: ListedOrder) => string]> = [
    ['order_id', (o) => o.id], ['name', cell((o) => o.name)], ['status', cell((o) => o.status)], ['currency', cell((o) => o.currency?.name)], ['total', cell((o) => o.total)],
  ];
  const add = (given: unknown, name: string, read: (order: ListedOrder) => unknown) => {
    if (given !== undefined && !columns.some(([n]) => n === name)) columns.push([name, cell(read)]);
  };
  add(c.status, 'status', (o) => o.status);
  add(c.accountId, 'account_id', (o) => o.account_id);
  add(c.createdBy, 'created_by', (o) => o.created_by);
  add(c.lastUpdatedBy, 'last_updated_by', (o) => o.last_updated_by);
  add(c.currency, 'currency', (o) => o.currency?.name);
  add(c.createdBefore ?? c.createdAfter, 'created_on', (o) => o.created_on);
  add(c.lastUpdatedBefore ?? c.lastUpdatedAfter, 'last_updated_on', (o) => o.last_updated_on);
  add(c.nameStartsWith, 'name', (o) => o.name);
  add(c.originStartsWith, 'origin', (o) => o.origin);
  for (const name of Object.keys(c.customAttributes ?? {})) {
    add(name, `custom:${name}`, (o) => (Array.isArray(o.custom_attributes) ? o.custom_attributes : []).find((attribute) => attribute?.name === name)?.value);
  }
  return columns;
}
