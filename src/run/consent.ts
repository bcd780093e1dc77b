import { humanDuration } from '../common/durations.js';
import { refusal as refused } from '../common/errors.js';
import type { RunOptions } from '../config/resolve.js';
import { confirmDeletion, personPresent, type Terminal } from '../guards/confirmation.js';
import { checkCredentials } from '../guards/credentials.js';
import type { SelectionDeps } from '../planner/selection.js';
import type { RunContext } from './context.js';
import type { OpenedLog, RecordedRun } from './open.js';
import type { RunPlan } from './plan.js';

/** Before anything else: a deletion without --yes needs a person to answer the question. */
export function refuseWithoutAPerson(options: Pick<RunOptions, 'dryRun' | 'yes' | 'ids'>, terminal: Terminal): void {
  // With the IDs on stdin (`cat ids.txt | … --ids -`), a person at a terminal is asked on the terminal itself.
  if (options.dryRun || options.yes || personPresent(terminal, options.ids === '-')) return;
  throw refused('nobody is at a terminal to confirm the deletion (stdin is not one, and this process has no terminal of its own): pass --yes (or "yes": true in the job spec) to delete without ' +
    'asking, or --dry-run to see what would be deleted; nothing was sent');
}

/**
 * Phase 3: consent. The credentials checked (a token, and for a dry run an authenticated read), then — for
 * a deletion without --yes — the person shown the host, the count and a sample, and the count typed back.
 * Returns the time spent waiting for the answer (not run time), or undefined when the run was stopped
 * meanwhile; a person who does not confirm is a refusal (exit 3), with nothing recorded.
 */
export async function obtainConsent(run: RecordedRun, plan: RunPlan, deps: SelectionDeps, log: OpenedLog, context: RunContext): Promise<{ waitedMs: number } | undefined> {
  const { options, host } = run;
  const { control, terminal } = context;
  const checked = await checkCredentials(deps, host, options.dryRun && plan.input.source.kind !== 'filter', (text) => context.console.say(text, 'warn'));
  if (control.stopping.aborted) return undefined;
  log.events.emit({ type: 'notice', level: 'info', text: checked });
  if (plan.refusal || options.dryRun || options.yes || plan.count === 0) return { waitedMs: 0 };
  const asked = Date.now();
  const { input, count } = plan;
  const answer = await confirmDeletion({
    host: new URL(host).host, count, sample: [...take(input.scanned.pending, 5)], manifest: input.source.kind === 'filter' ? input.spec.path : undefined,
    details: input.details, emphasis: (text) => context.console.emphasis(text), waitMs: options.confirmWait,
  }, terminal, options.ids === '-', control.stopping);
  if (!answer.confirmed) {
    const why = control.reason?.kind === 'signal' ? (control.reason.signal === 'SIGINT' ? 'Ctrl-C' : control.reason.signal) : Date.now() - asked >= options.confirmWait ? `no answer within ${humanDuration(options.confirmWait)}, --confirm-wait` : 'no answer';
    throw refused(answer.typed === undefined
      ? `not confirmed (${why}). Nothing was deleted.`
      : `not confirmed: you typed ${answer.typed === '' ? 'nothing' : JSON.stringify(answer.typed)}, the count is ${count}. Nothing was deleted.`);
  }
  return { waitedMs: Date.now() - asked };
}

function* take<T>(items: Iterable<T>, n: number): Generator<T> {
  if (n <= 0) return;
  let taken = 0;
  for (const item of items) {
    yield item;
    if (++taken >= n) return;
  }
}
