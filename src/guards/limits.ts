import type { SourceRecord } from '../common/records.js';

/** --max-deletes: the reason to refuse, when the selection is larger than the limit. */
export function exceedsMaxDeletes(count: number, maxDeletes: number, from?: string): string | undefined {
  if (count <= maxDeletes) return undefined;
  return `${count} orders are selected, more than --max-deletes ${maxDeletes}${from ? ` (${from})` : ''}: nothing was deleted`;
}

/**
 * A filter run that selected every order it listed would empty what it listed, whatever criteria made it
 * so (an empty object, a list of every status, `createdBefore: now`, every account named in `accountId`):
 * refused unless the filter says `"matchAll": true`. The selection decides, not the criteria: the list of
 * accounts a filter names may be every account there is, and nothing in the listing tells. Decided from
 * the recorded selection, so a resume of such a run is refused too.
 */
export function selectsEverything(source: SourceRecord, host: string): string | undefined {
  const { filter, listed } = source;
  if (source.kind !== 'filter' || !filter || filter.matchAll) return undefined;
  const selected = source.selected ?? source.count; // logs written before `selected` was recorded
  if (listed === undefined || listed === 0 || selected !== listed) return undefined;
  const byAccount = filter.scope === 'accounts' || (filter.scope === undefined && (filter.match as { accountId?: unknown } | null)?.accountId !== undefined);
  return `the filter ${filter.path} selected every one of the ${listed} orders listed on ${host}` +
    `${byAccount ? ' (every order of the accounts it names: they may be every account there is)' : ''}: it would empty ` +
    `${byAccount ? 'those accounts' : 'the environment'}. If that is really meant, add "matchAll": true to the filter and run it again; nothing was deleted`;
}

/** Why the guards refuse a run, and the --max-deletes that would let it through (none when only the filter can). */
export interface GuardRefusal {
  reason: string;
  raiseMaxDeletesTo?: number;
}

/**
 * The guards' verdict on a selection of `pending` orders: what the run decides by, and what its next step
 * is built from, by the console as the run ends and by the report from the recorded run.start.
 */
export function guardRefusal(source: SourceRecord, host: string, pending: number, maxDeletes: number, from?: string): GuardRefusal | undefined {
  const everything = selectsEverything(source, host);
  if (everything) return { reason: everything };
  const tooMany = exceedsMaxDeletes(pending, maxDeletes, from);
  return tooMany ? { reason: tooMany, raiseMaxDeletesTo: pending } : undefined;
}
