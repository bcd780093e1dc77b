import { Counter, Gauge, Pushgateway, Registry } from 'prom-client';
import { OUTCOMES, RUN_STATUSES } from '../common/domain.js';
import { describeFileError, writeFileAtomically } from '../common/files.js';
import { secrets } from '../common/secrets.js';
import { describeTransportError } from '../exsited/responses.js';
import type { RunEvents } from '../engine/events.js';
import type { Console } from './console.js';

export interface MetricsOptions {
  /** --metrics-push: a Pushgateway's URL (user:password@ in it for basic auth). */
  push?: string;
  /** A bearer token for the gateway (EXSITED_METRICS_PUSHGATEWAY_TOKEN). */
  pushToken?: string;
  /** --metrics-file: the Prometheus text format, for node_exporter's textfile collector. */
  file?: string;
  /** The group: job name, and the shard (`2_of_4`) or `all`. */
  job: string;
  shard: string;
  /** During a run, metrics go out this often. */
  intervalMs: number;
  /** The pace now (requests/s; Infinity: unpaced). */
  rate: () => number;
  /** Everyone waiting out a Retry-After so far, ms. */
  throttledMs: () => number;
}

/** A push or a file write may take this long; the run's end waits no longer for it. */
const PUSH_TIMEOUT_MS = 3000;
const PREFIX = 'exsited_cleanup_';

/**
 * The run's metrics for a monitoring system (prom-client): pushed to a Pushgateway — grouped by job and
 * shard, POSTed so that a run that fails leaves the last success's timestamp in place — and/or written to a
 * file in the text format (temp file and rename), at the end of every run that started and every
 * `intervalMs` while it deletes. A subscriber of the run's events; a push or write that fails is a warning
 * and never fails or holds up the run (3 s at most at its end). No label takes a value from outside a fixed
 * set: outcomes, statuses and retry causes are the tool's own words.
 */
export function reportMetrics(events: RunEvents, console: Console, options: MetricsOptions): { flush: () => Promise<void> } {
  const registry = new Registry();
  const registers = [registry];
  const orders = new Counter({ name: `${PREFIX}orders_total`, help: 'Orders finished, by outcome.', labelNames: ['outcome'], registers });
  const retries = new Counter({ name: `${PREFIX}retries_total`, help: 'Retries scheduled, by cause.', labelNames: ['cause'], registers });
  const throttled = new Gauge({ name: `${PREFIX}throttled_seconds`, help: 'Time every request waited out the server\'s Retry-After, this run.', registers });
  const duration = new Gauge({ name: `${PREFIX}run_duration_seconds`, help: 'How long the run has taken (the last run, once it ended).', registers });
  const selected = new Gauge({ name: `${PREFIX}orders_selected`, help: 'Orders the run set out to finish.', registers });
  const pending = new Gauge({ name: `${PREFIX}orders_pending`, help: 'Orders not finished yet (left for a resume, once the run ended).', registers });
  const rate = new Gauge({ name: `${PREFIX}rate_limit_requests_per_second`, help: 'The pace the run keeps to (+Inf: unpaced).', registers });
  const status = new Gauge({ name: `${PREFIX}last_run_status`, help: 'The last run\'s status: 1 for the current one.', labelNames: ['status'], registers });
  const exitCode = new Gauge({ name: `${PREFIX}last_run_exit_code`, help: 'The last run\'s exit code.', registers });
  const ended = new Gauge({ name: `${PREFIX}last_run_timestamp_seconds`, help: 'When the last run ended (Unix time).', registers });
  // Registered only by a run that succeeds: the gateway keeps the last success's value through failed runs.
  const success = new Gauge({ name: `${PREFIX}last_success_timestamp_seconds`, help: 'When a run last completed with exit 0 (Unix time).', registers: [] });
  for (const outcome of OUTCOMES) orders.inc({ outcome }, 0);
  const setStatus = (current: string) => {
    for (const name of [...RUN_STATUSES, 'running']) status.set({ status: name }, name === current ? 1 : 0);
  };

  let startedAt = Date.now();
  let total = 0;
  let finished = 0;
  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> = Promise.resolve();
  const warned = new Set<string>();
  const warn = (key: string, text: string) => {
    if (warned.has(key)) return;
    warned.add(key);
    console.say(text, 'warn');
  };

  secrets.register(options.pushToken);
  const gateway = options.push ? gatewayFor(options.push, options.pushToken, registry) : undefined;

  const sample = () => {
    duration.set((Date.now() - startedAt) / 1000);
    pending.set(total - finished);
    throttled.set(options.throttledMs() / 1000);
    rate.set(options.rate());
  };

  const send = (): Promise<void> => {
    sample();
    const work = async () => {
      const tasks: Array<Promise<void>> = [];
      if (gateway) {
        tasks.push(withTimeout(gateway.client.pushAdd({ jobName: options.job, groupings: { shard: options.shard } }), PUSH_TIMEOUT_MS).then(
          () => undefined,
          (error: unknown) => warn('push', `the metrics could not be pushed to ${gateway.shown} (${secrets.scrub(describePushError(error))}); the run goes on without them`),
        ));
      }
      if (options.file) {
        const file = options.file;
        tasks.push(registry.metrics().then((text) => writeFileAtomically(file, text, 0o644)).catch((error: unknown) =>
          warn('file', `the metrics file ${file} could not be written (${describeFileError(error)})`)));
      }
      await Promise.all(tasks);
    };
    // One at a time: a slow gateway never has two pushes of ours in flight.
    sending = sending.then(work);
    return sending;
  };

  events
    .on('run.started', ({ startedAt: at }) => {
      startedAt = at;
      setStatus('running');
    })
    .on('deletion.started', ({ total: count }) => {
      total = count;
      selected.set(count);
      void send();
      timer = setInterval(() => void send(), options.intervalMs).unref();
    })
    .on('order.finished', ({ record }) => {
      finished++;
      orders.inc({ outcome: record.outcome });
    })
    .on('retry.scheduled', ({ record }) => retries.inc({ cause: retryLabel(record.httpStatus, record.errorCode) }))
    .on('run.ended', ({ outcome }) => {
      clearInterval(timer);
      setStatus(outcome.status);
      exitCode.set(outcome.exitCode);
      const now = Date.now() / 1000;
      ended.set(now);
      if (outcome.exitCode === 0) {
        success.set(now);
        registry.registerMetric(success);
      }
      selected.set(outcome.summary.selected);
      total = outcome.summary.selected;
      finished = outcome.summary.selected - outcome.summary.pending;
      void send();
    });

  return { flush: () => sending };
}

/** A retry's cause, from a fixed set: a label never takes a server's words. */
function retryLabel(httpStatus: number | undefined, errorCode: string | undefined): string {
  if (httpStatus === 429) return 'throttled';
  if (httpStatus === 401) return 'unauthorized';
  if (httpStatus !== undefined && httpStatus >= 500) return 'server_error';
  if (httpStatus === 408 || errorCode === 'ETIMEDOUT' || errorCode === 'ECONNABORTED') return 'timeout';
  if (errorCode) return 'connection';
  return 'other';
}

function gatewayFor(push: string, token: string | undefined, registry: Registry): { client: Pushgateway<'text/plain; version=0.0.4; charset=utf-8'>; shown: string } {
  const url = new URL(push);
  secrets.registerUrl(url);
  const shown = `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  const headers = token ? { Authorization: `Bearer ${token}` } : undefined;
  return { client: new Pushgateway(push, { timeout: PUSH_TIMEOUT_MS, ...(headers ? { headers } : {}) }, registry), shown };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A failed push in words: the error's code and message (shortened), the code once. */
function describePushError(error: unknown): string {
  const { code, message } = describeTransportError(error);
  return message.includes(code) ? message : `${code}: ${message}`;
}
