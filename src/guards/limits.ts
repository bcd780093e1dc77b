import type { SourceRecord } from '../audit/records.js';

/** --max-deletes: the reason to refuse, when the selection is larger than the limit. */
export function exceedsMaxDeletes(count: number, maxDeletes: number): string | undefined {
  if (count <= maxDeletes) return undefined;
  return `${count} orders are selected, more than --max-deletes ${maxDeletes}: nothing was deleted`;
}

/**
 * A filter run that read the whole order listing and selected every order in it would empty the
 * environment, whatever criteria made it so (an empty object, a list of every status, `createdBefore:
 * now`): refused unless the filter says `"matchAll": true`. Listing one account's orders is not the whole
 * listing. Decided from the recorded selection, so a resume of such a run is refused too.
 */
export function selectsEverything(source: SourceRecord, host: string): string | undefined {
  const { filter, listed } = source;
  if (source.kind !== 'filter' || !filter || filter.matchAll) return undefined;
  // Logs written before scope and selected were recorded: the criteria and the count tell the same.
  const byAccount = (filter.match as { accountId?: unknown } | null)?.accountId !== undefined;
  const scope = filter.scope ?? (byAccount ? 'accounts' : 'all');
  const selected = source.selected ?? source.count;
  if (scope !== 'all' || listed === undefined || listed === 0 || selected !== listed) return undefined;
  return `the filter ${filter.path} selected every one of the ${listed} orders listed on ${host}: it would empty the environment. ` +
    'If that is really meant, add "matchAll": true to the filter and run it again; nothing was deleted';
}
