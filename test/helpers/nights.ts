import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Audit logs of nights long past, for the history: the journal stamps its lines with the clock of the
 * moment, so a month of nights is written here, line by line, in the layout the journal writes
 * (`{"level":"info","time":…,"runId":…,"event":…}`: test/records.test.ts pins that layout, and the log
 * reader reads these lines on the same fast path as the journal's).
 */
export interface NightRun {
  runId: string;
  /** When it started (ISO 8601). */
  at: string;
  selected?: number;
  deleted?: number;
  alreadyAbsent?: number;
  wouldDelete?: number;
  /** Its failed orders: the HTTP status and the server's code of each. */
  failed?: Array<[number | null, string]>;
  retries?: number;
  /** How it ended; `killed`: no run.end. */
  status?: 'completed' | 'failed' | 'interrupted' | 'halted' | 'crashed' | 'killed';
  exitCode?: number;
  durationMs?: number;
  throttledMs?: number;
  tokens?: { obtained: number; shared: number };
  reason?: string;
  dryRun?: boolean;
  resumeOf?: string;
  /** Time between two order lines (ms): the lines span the run. */
  stepMs?: number;
  /** The IDs its order lines name, in the order they are written (deleted, absent, would delete, failed); by default its own. */
  orderIds?: string[];
}

const EXIT = { completed: 0, failed: 1, interrupted: 130, halted: 4, crashed: 70 } as const;

/** The lines of one run, as the journal writes them. */
function runLines(run: NightRun): string[] {
  const start = Date.parse(run.at);
  const step = run.stepMs ?? 10;
  let clock = start;
  const line = (event: string, fields: Record<string, unknown>) => JSON.stringify({ level: 'info', time: new Date(clock).toISOString(), runId: run.runId, event, ...fields });
  const selected = run.selected ?? (run.deleted ?? 0) + (run.alreadyAbsent ?? 0) + (run.failed?.length ?? 0) + (run.wouldDelete ?? 0);
  const lines = [line('run.start', {
    recordVersion: 2, version: '0.1.0', source: { kind: 'text', path: 'ids.txt', sha256: 'a'.repeat(64), count: selected },
    baseUrl: 'https://api-stage.exsited.com', options: { dryRun: run.dryRun === true }, ...(run.resumeOf ? { resumeOf: run.resumeOf } : {}),
  })];
  let n = 0;
  const order = (outcome: string, rest: Record<string, unknown>) => {
    clock += step;
    n++;
    lines.push(line('order', { orderId: run.orderIds?.[n - 1] ?? `${run.runId}-${n}`, outcome, ...rest }));
  };
  for (let i = 0; i < (run.deleted ?? 0); i++) order('deleted', { httpStatus: 204, attempts: 1, durationMs: 5 });
  for (let i = 0; i < (run.alreadyAbsent ?? 0); i++) order('already_absent', { httpStatus: 404, attempts: 1, durationMs: 5 });
  for (let i = 0; i < (run.wouldDelete ?? 0); i++) order('would_delete', { httpStatus: 200, attempts: 1, durationMs: 5 });
  for (const [httpStatus, code] of run.failed ?? []) order('failed', { httpStatus, attempts: 1, durationMs: 5, error: { code, message: `refused: ${code}` } });
  for (let i = 0; i < (run.retries ?? 0); i++) lines.push(line('order.retry', { orderId: `${run.runId}-1`, attempt: 1, httpStatus: 503, delayMs: 100 }));
  const status = run.status ?? ((run.failed?.length ?? 0) > 0 ? 'failed' : 'completed');
  if (status === 'killed') return lines;
  clock = start + (run.durationMs ?? clock - start + 5);
  lines.push(line('run.end', {
    status, exitCode: run.exitCode ?? EXIT[status], durationMs: run.durationMs ?? clock - start, dryRun: run.dryRun === true,
    ...(run.reason ? { reason: run.reason } : {}),
    summary: {
      selected, deleted: run.deleted ?? 0, alreadyAbsent: run.alreadyAbsent ?? 0, failed: run.failed?.length ?? 0, skipped: 0, wouldDelete: run.wouldDelete ?? 0,
      pending: 0, retries: run.retries ?? 0, throttledMs: run.throttledMs ?? 0, ratePerSecond: 1, tokens: run.tokens ?? { obtained: 1, shared: 0 },
    },
    resources: { maxRssMb: 60, cpuMs: 100 },
  }));
  return lines;
}

/** A log of one or more runs (a run and its resumes) in `dir`, named as the tool names its logs. */
export function writeLog(dir: string, runs: NightRun[]): string {
  const first = runs[0] as NightRun;
  const path = join(dir, `${first.at.replace(/[-:.]/g, '')}-${first.runId}.ndjson`);
  writeFileSync(path, `${runs.flatMap(runLines).join('\n')}\n`);
  return path;
}
