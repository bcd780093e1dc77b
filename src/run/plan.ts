import { prepareOutputFile } from '../common/output-files.js';
import { protectFile } from '../common/protected-files.js';
import { sourceOf } from '../config/resolve.js';
import { guardRefusal } from '../guards/limits.js';
import { prepareInput, type PreparedInput } from '../planner/input.js';
import type { RunContext } from './context.js';
import type { OpenedLog, RecordedRun } from './open.js';
import type { LazyApi } from './request-deps.js';

/** Why a guard refuses the run, and the --max-deletes that would let it through (when raising it can). */
interface Refusal {
  reason: string;
  raiseMaxDeletesTo?: number;
}

/** What the run will do: its orders, validated, and whether a guard refuses it. */
export interface RunPlan {
  input: PreparedInput;
  /** Orders to finish in this run. */
  count: number;
  refusal?: Refusal;
}

/**
 * Phase 2: the orders of this run — read and validated from the input, listed by a filter, or as the
 * recorded run had them — and the guards applied to them (a filter that selects everything, more than
 * --max-deletes). Undefined when the run was stopped before the input was whole: nothing was deleted.
 */
export async function planRun(run: RecordedRun, log: OpenedLog, api: LazyApi, context: RunContext): Promise<RunPlan | undefined> {
  const { options, resume, host } = run;
  const { control, terminal } = context;
  const input = await prepareInput(options, resume, {
    runId: log.runId, auditLog: log.auditLog, control, events: log.events, api: () => api.make(), stdin: terminal.stdin,
  });
  if (!input || control.stopping.aborted) return undefined;
  protectFile('the run\'s input', { path: input.spec.path }); // no output may replace it, whatever is put at its path meanwhile
  const count = input.scanned.pending.size;
  // Where the limit came from, unless a person just gave it: a job's, or the recorded run's (a resume's limit may be neither the job's nor the flag's).
  const from = options.from.maxDeletes === 'job' || options.from.maxDeletes === 'recorded' ? sourceOf(options, 'maxDeletes') : undefined;
  const refusal = guardRefusal(input.source, new URL(host).host, count, options.maxDeletes, from);
  if (options.metricsFile) prepareOutputFile(options.metricsFile, '--metrics-file');
  return { input, count, ...(refusal ? { refusal } : {}) };
}
