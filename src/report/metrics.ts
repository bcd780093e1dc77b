import { Counter, Gauge, Registry } from 'prom-client';
import { OUTCOMES, RUN_STATUSES, STOP_CAUSES, retryLabel, sameInput, type StopCause } from '../common/domain.js';
import { describeFileError, readRegularFile } from '../common/files.js';
import { writeOutputFile } from '../common/output-files.js';
import { secrets } from '../common/secrets.js';
import type { RunEvents } from '../engine/events.js';
import type { Console } from './console.js';
import { PushQueue } from './push-queue.js';
import { pushgateway } from './pushgateway.js';
import type { RunReport } from './run-report.js';
import type { StoryEnd } from './run-story.js';

export interface MetricsOptions {
  /** --metrics-push: a Pushgateway's URL, checked by the options (user:password@ in it for basic auth, from the environment only). */
  push?: string;
  /** A bearer token for the gateway (EXSITED_METRICS_PUSHGATEWAY_TOKEN). */
  pushToken?: string;
  /** --metrics-file: the Prometheus text format, for node_exporter's textfile collector. */
  file?: string;
  /** The group: job name, and the shard (`2_of_4`) or `all`. */
  job: string;
  shard: string;
  /** A dry run deletes nothing: it reports in a group of its own (`mode="dry_run"`) and never sets the last success. */
  dryRun: boolean;
  /** During a run, metrics go out this often. */
  intervalMs: number;
  /** The pace now (requests/s; Infinity: unpaced). */
  rate: () => number;
  /** Throttling so far: requests answered, those answered 429, and everyone waiting out a Retry-After (ms). */
  throttling: () => { requests: number; answered429: number; waitedMs: number };
  /** An --auto-resume night: the story of the run it continued first, counted in from the start. */
  carried?: RunReport;
  /** This run's input, by kind and sha256: the same list as the carried run's is counted once (as the story counts it). */
  input?: { kind: string; sha256: string };
}

/** A push may take this long; the run's end waits no longer for its metrics, in all. */
const PUSH_TIMEOUT_MS = 3000;
const PREFIX = 'exsited_cleanup_';

/**
 * The run's metrics for a monitoring system (prom-client): pushed to a Pushgateway (report/pushgateway),
 * grouped by job and shard, and/or written to a file in the text format (temp file and rename; a pipe or a
 * device in place, without blocking: report/push-queue holds one write to a slow reader at a time), at the end
 * of every run that started and every `intervalMs` while it deletes. A subscriber of the run's events.
 * Pushes go one at a time, the latest state replacing one that waits (report/push-queue), so a gateway that
 * never answers costs one push in flight, never a pile; the file is written at once, whatever the gateway
 * does. A failure is one warning and never fails the run; its end waits 3 s at most. No label takes a value
 * from outside a fixed set: outcomes, statuses and retry causes are the tool's own words. A dry run says
 * so (`dry_run` 1), pushes to a group of its own (`mode="dry_run"`) and never sets the last success: a
 * person's dry run must not silence the nightly job's alert.
 */
export function reportMetrics(events: RunEvents, console: Console, options: MetricsOptions): { end: (story: RunReport, end: StoryEnd) => void; flush: () => Promise<void> } {
  let startedAt = Date.now();
  let total = 0;
  let finished = 0;
  let timer: NodeJS.Timeout | undefined;
  let told: RunReport | undefined;
  const carried = options.carried;
  const out = metricsOutputs(console, options, (m) => {
    if (told) return tellStory(m, told);
    const t = options.throttling();
    m.duration.set((Date.now() - startedAt + (carried?.activeMs ?? 0)) / 1000);
    m.pending.set(total - finished);
    m.throttled.set((t.waitedMs + (carried?.throttling.waitedMs ?? 0)) / 1000);
    m.requests.set(t.requests + (carried?.throttling.requests ?? 0));
    m.answered429.set(t.answered429 + (carried?.throttling.answered429 ?? 0));
    m.rate.set(options.rate());
  });
  const { m, send } = out;
  if (carried) countStory(m, carried);
  events
    .on('run.started', ({ startedAt: at }) => {
      startedAt = at;
      m.setStatus('running');
    })
    .on('deletion.started', ({ total: count }) => {
      total = count;
      // The night's new run of the list its continued run read: the same orders, counted once (red team: 400 for 200).
      m.selected.set(carried && options.input && sameInput(carried.input, options.input) ? Math.max(count, carried.selected) : count + (carried?.selected ?? 0));
      send();
      timer = setInterval(send, options.intervalMs).unref();
    })
    .on('order.finished', ({ record }) => {
      finished++;
      m.orders.inc({ outcome: record.outcome });
    })
    .on('retry.scheduled', ({ record }) => m.retries.inc({ cause: retryLabel(record.httpStatus, record.errorCode) }))
    .on('run.ended', () => clearInterval(timer));
  return {
    /** The last metrics, from the story of the run (and of the run an --auto-resume night continued first). */
    end: (story, end) => {
      clearInterval(timer);
      told = story;
      countStory(m, story);
      m.ended(end.status, end.exitCode, end.cause);
      send();
    },
    flush: async () => {
      clearInterval(timer);
      await out.flush();
    },
  };
}

const OUTCOME_FIELDS = { deleted: 'deleted', already_absent: 'alreadyAbsent', failed: 'failed', would_delete: 'wouldDelete' } as const;

/** The counters set to the story's counts: each order once, by its latest outcome; retries by cause. */
function countStory(m: Instruments, story: RunReport): void {
  m.orders.reset();
  m.retries.reset();
  for (const outcome of OUTCOMES) m.orders.inc({ outcome }, story[OUTCOME_FIELDS[outcome]]);
  for (const [cause, n] of Object.entries(story.retriesByCause)) m.retries.inc({ cause }, n);
}

/** The gauges of the moment, from the story once it is told. */
function tellStory(m: Instruments, story: RunReport): void {
  m.duration.set(story.activeMs / 1000);
  m.selected.set(story.selected);
  m.pending.set(story.pending);
  m.notChecked.set(story.notChecked);
  m.throttled.set(story.throttling.waitedMs / 1000);
  m.requests.set(story.throttling.requests);
  m.answered429.set(story.throttling.answered429);
  if (story.throttling.acceptedRps !== null) m.accepted.set(story.throttling.acceptedRps);
}

/**
 * The metrics of a run that never started (run/not-started.ts: refused, exit 2 or 3, or stopped before
 * its first DELETE): its status (`refused` among them) and exit code, nothing counted, pushed and written
 * once — the gateway and the file no longer show the last run's status as the current one.
 */
export async function reportNotStarted(console: Console, options: Omit<MetricsOptions, 'intervalMs' | 'rate' | 'throttling'>, status: string, exitCode: number, cause: StopCause,
  durationMs: number): Promise<void> {
  const out = metricsOutputs(console, options, () => undefined);
  out.m.duration.set(durationMs / 1000); // the summary's durationMs (red team: 0 here, 1.3 s there)
  out.m.ended(status, exitCode, cause);
  out.send();
  await out.flush();
}

/** The registry and where it goes: the gateway and the file, each through a queue of its own; `sample` sets the gauges of the moment before each. */
function metricsOutputs(console: Console, options: Omit<MetricsOptions, 'intervalMs' | 'rate' | 'throttling'>, sample: (m: Instruments) => void) {
  const registry = new Registry();
  const m = instruments(registry, options.dryRun);
  // A file holds one run: the last success of an earlier one is kept in it across runs that do not set one
  // (a file has no gateway to keep it); the gateway keeps its own.
  const keptSuccess = options.file !== undefined ? lastSuccessIn(options.file) : undefined;
  const warned = new Set<string>();
  const warn = (key: string, text: string) => {
    if (warned.has(key)) return;
    warned.add(key);
    console.say(text, 'warn');
  };
  secrets.register(options.pushToken);
  const gateway = options.push
    ? pushgateway({ url: options.push, token: options.pushToken, job: options.job, shard: options.shard, dryRun: options.dryRun, timeoutMs: PUSH_TIMEOUT_MS })
    : undefined;
  const queue = gateway && new PushQueue(async (signal) => {
    sample(m);
    await gateway.post(await registry.metrics(), registry.contentType, signal).catch((error: unknown) =>
      warn('push', `the metrics could not be pushed to ${gateway.shown} (${secrets.scrub((error as Error).message)}); the run's outcome does not depend on them`));
  });
  // The file likewise, apart: a pipe whose reader is slow holds one write, never a pile, and never the gateway's.
  const { file } = options;
  const fileQueue = file !== undefined ? new PushQueue(async (signal) => {
    sample(m);
    await writeOutputFile(file, withSuccess(await registry.metrics(), keptSuccess), { signal })
      .catch((error: unknown) => warn('file', `the metrics file ${file} could not be written (${describeFileError(error)})`));
  }) : undefined;
  return {
    m,
    send: () => {
      queue?.request();
      fileQueue?.request();
    },
    flush: async () => {
      await Promise.all([fileQueue?.drain(PUSH_TIMEOUT_MS), queue?.drain(PUSH_TIMEOUT_MS)]);
      gateway?.close();
    },
  };
}

type Instruments = ReturnType<typeof instruments>;

/** The text format with the kept last success added, when this run set none of its own. */
function withSuccess(text: string, kept: number | undefined): string {
  const name = `${PREFIX}last_success_timestamp_seconds`;
  if (kept === undefined || text.includes(`\n${name} `)) return text;
  return `${text}# HELP ${name} When a run last completed with exit 0 (Unix time).\n# TYPE ${name} gauge\n${name} ${kept}\n`;
}

/** The last success a metrics file this tool wrote holds, if it is a file and holds one. */
function lastSuccessIn(path: string): number | undefined {
  try {
    const text = readRegularFile(path, 1024 * 1024, 'a metrics file')?.text ?? '';
    const value = Number(new RegExp(`^${PREFIX}last_success_timestamp_seconds (\\S+)$`, 'm').exec(text)?.[1]);
    return Number.isFinite(value) && value > 0 ? value : undefined;
  } catch {
    return undefined; // a pipe, a device, unreadable: nothing to keep
  }
}

/** The metrics, registered in the order the text format lists them. */
function instruments(registry: Registry, dryRun: boolean) {
  const registers = [registry];
  const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name: `${PREFIX}${name}`, help, labelNames, registers });
  /** A gauge that is absent, not 0, until a value is set: registered then (again is a no-op). */
  const setLater = (name: string, help: string) => {
    const late = new Gauge({ name: `${PREFIX}${name}`, help, registers: [] });
    return { set: (value: number) => void (late.set(value), registry.registerMetric(late)) };
  };
  const orders = new Counter({ name: `${PREFIX}orders_total`, help: 'Orders finished, by outcome.', labelNames: ['outcome'], registers });
  for (const outcome of OUTCOMES) orders.inc({ outcome }, 0);
  const retries = new Counter({ name: `${PREFIX}retries_total`, help: 'Retries scheduled, by cause.', labelNames: ['cause'], registers });
  // Throttling in its three figures (docs/usage.md, "Throttling, in three figures").
  const requests = gauge('requests', 'DELETE requests the server answered, this run (and the run an --auto-resume night continued first).');
  const answered429 = gauge('requests_answered_429', 'Requests the server answered 429 (throttled), of those.');
  const throttled = gauge('throttled_seconds', 'Everyone waited: time every request waited out the server\'s Retry-After together.');
  // Set once the server throttled enough to find one.
  const accepted = setLater('accepted_rate_requests_per_second', 'The pace the server accepted when it throttled.');
  const duration = gauge('run_duration_seconds', 'How long the run has taken (the last run, once it ended).');
  const selected = gauge('orders_selected', 'Orders the run set out to finish.');
  const pending = gauge('orders_pending', 'Orders not finished yet (left for a resume, once the run ended).');
  const notChecked = gauge('orders_not_checked', 'Listed orders a dry run of a list stopped before checking: its resumes leave them out.');
  const rate = gauge('rate_limit_requests_per_second', 'The pace the run keeps to (+Inf: unpaced).');
  const status = gauge('last_run_status', 'The last run\'s status: 1 for the current one.', ['status']);
  const stopCause = gauge('last_run_stop_cause', 'Why the last run ended as it did (a deadline, credentials, the service failing…): 1 for its cause.', ['cause']);
  const exitCode = gauge('last_run_exit_code', 'The last run\'s exit code.');
  const ended = gauge('last_run_timestamp_seconds', 'When the last run ended (Unix time).');
  gauge('dry_run', 'Whether the last run was a dry run (1), which deleted nothing, or deleted (0).').set(dryRun ? 1 : 0);
  // Registered only by a run that deletes and succeeds: the gateway keeps the last success's value through
  // failed runs, and a dry run (in a group of its own on a gateway) never stands for the job's success.
  const success = setLater('last_success_timestamp_seconds', 'When a run last completed with exit 0 (Unix time).');
  const setStatus = (current: string) => {
    for (const name of [...RUN_STATUSES, 'refused', 'unreachable', 'running']) status.set({ status: name }, name === current ? 1 : 0);
  };
  const end = (current: string, code: number, cause: StopCause | undefined) => {
    setStatus(current);
    for (const name of STOP_CAUSES) stopCause.set({ cause: name }, name === cause ? 1 : 0);
    exitCode.set(code);
    const now = Date.now() / 1000;
    ended.set(now);
    if (code === 0 && !dryRun) success.set(now);
  };
  return { orders, retries, requests, answered429, throttled, accepted, duration, selected, pending, notChecked, rate, setStatus, ended: end };
}
