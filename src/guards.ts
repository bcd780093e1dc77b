import type { SourceRecord } from './audit/records.js';
import { createInterface } from 'node:readline/promises';

/** What a user is asked to confirm: enough to recognise a wrong target before anything is deleted. */
export interface DeletionPlan {
  host: string;
  count: number;
  sample: string[];
  manifest?: string;
}

/** --max-deletes: the reason to refuse, when the selection is larger than the limit. */
export function exceedsMaxDeletes(count: number, maxDeletes: number): string | undefined {
  if (count <= maxDeletes) return undefined;
  return `${count} orders are selected, more than --max-deletes ${maxDeletes}: nothing was deleted. ` +
    `Check the selection; if it is right, run again with --max-deletes ${count} (or more)`;
}

/**
 * A filter run that read the whole order listing and selected every order in it would empty the
 * environment, whatever criteria made it so (an empty object, a list of every status, `createdBefore:
 * now`): refused unless the filter says `"matchAll": true`. Listing one account's orders is not the whole
 * listing. Decided from the recorded selection, so a resume of such a run is refused too.
 */
export function selectsEverything(source: SourceRecord, host: string): string | undefined {
  const { filter, listed, selected } = source;
  if (source.kind !== 'filter' || !filter || filter.matchAll || filter.scope !== 'all') return undefined;
  if (listed === undefined || listed === 0 || selected !== listed) return undefined;
  return `the filter ${filter.path} selected every one of the ${listed} orders listed on ${host}: it would empty the environment. ` +
    'If that is really meant, add "matchAll": true to the filter and run it again; nothing was deleted';
}

/** Whether a person is there to ask: stdin and stderr both terminals. */
export const canPrompt = (input: NodeJS.ReadableStream, output: NodeJS.WritableStream) =>
  !!(input as { isTTY?: boolean }).isTTY && !!(output as { isTTY?: boolean }).isTTY;

/**
 * Shows the host, the count, a sample and the manifest, and proceeds only when the user types the
 * count back (as a wrong mass delete is a typed "y" away in most tools).
 */
export async function confirmDeletion(
  plan: DeletionPlan, input: NodeJS.ReadableStream, output: NodeJS.WritableStream, signal?: AbortSignal,
): Promise<boolean> {
  output.write([
    `About to DELETE ${plan.count} orders on ${plan.host}, permanently.`,
    `  for example: ${plan.sample.join(', ')}${plan.count > plan.sample.length ? ', …' : ''}`,
    ...(plan.manifest ? [`  every one is listed in ${plan.manifest}`] : []),
    '',
  ].join('\n'));
  const rl = createInterface({ input, output, terminal: false });
  const closed = new Promise<string>((resolve) => rl.once('close', () => resolve('')));
  try {
    const question = rl.question(`Type the number of orders (${plan.count}) to go ahead, anything else to stop: `, { signal: signal ?? new AbortController().signal });
    const answer = await Promise.race([question.catch(() => ''), closed]); // Ctrl-C (the run stopping) is a no
    return answer.trim() === String(plan.count);
  } finally {
    rl.close();
  }
}
