import { usageError } from '../common/errors.js';
import { parseFaultSpec, type FaultPlan } from '../fake-exsited/faults.js';
import { parseLimit, parseOutage, type LimitPlan, type OutagePlan } from '../fake-exsited/limits.js';
import { count, duration, flag, parsedBy, path, period, text, type Value } from './values.js';

/** A flag of a command other than `run` (whose options have layers: config/options): the flag, its help, its value, its default. */
export interface FlagSpec<T> {
  flag: string;
  help: string;
  value: Value<T>;
  default?: T;
  /** Shown as the default in help when it differs from `value.show(default)`. */
  shownDefault?: string;
  /** Commander refuses the command line without it (exit 2, naming it). */
  required?: boolean;
}

const spec = <T, S extends FlagSpec<T>>(s: S & FlagSpec<T>): S => s;

/** `report`'s flags. */
export const REPORT_OPTIONS = {
  json: spec({ flag: '--json', value: flag(), default: false, help: 'print the report as JSON on stdout' }),
  failedCsv: spec({
    flag: '--failed-csv', value: path('<path>'),
    help: 'write the orders whose latest outcome is failed: order_id,http_status,error_code,message (usable as --ids)',
  }),
  html: spec({
    flag: '--html', value: path('<path>'),
    help: 'write the report as one self-contained HTML page: charts of throughput, throttling, retries and failures by cause, time per order',
  }),
  timeline: spec({ flag: '--timeline', value: path('<path>'), help: 'write the per-interval series (outcomes, retries and failures by cause, pace, pauses) as CSV' }),
  interval: spec({
    flag: '--interval', value: duration(), help: 'the interval of --timeline and the charts, such as 1s or 5m (default: about 240 across the runs)',
  }),
  expectEvery: spec({
    flag: '--expect-every', value: period(),
    help: 'with a folder: a run is expected this often (24h for a nightly job); a period without one is shown as a missed night',
  }),
};

/** A time zone the runtime knows (IANA: `Europe/Berlin`, `UTC`). */
const timeZone = parsedBy('<zone>', (zone: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    throw new Error(`${JSON.stringify(zone)} is not a time zone this machine knows (IANA names such as Europe/Berlin or UTC)`);
  }
  return zone;
});

/** `schedule`'s flags (its cron expression is an argument, checked by the scheduler). */
export const SCHEDULE_OPTIONS = {
  job: spec({ flag: '--job', value: path('<path>'), required: true, help: 'the job spec each run uses' }),
  timezone: spec({ flag: '--timezone', value: timeZone, help: 'read the expression in this IANA time zone (default: the machine\'s)' }),
};

/** `fake-api`'s flags. */
export const FAKE_API_OPTIONS = {
  port: spec({ flag: '--port', value: count(0, 65_535), default: 8787, help: 'port to listen on (0: any free port)' }),
  host: spec({ flag: '--host', value: text('<host>'), default: '127.0.0.1', help: 'address to listen on' }),
  orders: spec({
    flag: '--orders', value: text('<n|file>'), default: '500', help: 'generate this many orders, or load them from a JSON file',
  }),
  seed: spec({ flag: '--seed', value: count(0, 2 ** 31 - 1), default: 1, help: 'seed for generated orders and faults' }),
  faults: spec({
    flag: '--faults', value: parsedBy<FaultPlan>('<spec>', (t) => parseFaultSpec(t)), default: {} as FaultPlan, shownDefault: 'none',
    help: 'injected faults, e.g. 503:0.05,500:0.02,429:0.02,reset:0.01,hang:0.01,delete-then-503:0.02,401:0.01',
  }),
  retryAfter: spec({ flag: '--retry-after', value: count(0, 3600), default: 1, help: 'Retry-After seconds sent with injected 429s' }),
  latencyMs: spec({ flag: '--latency-ms', value: count(0, 600_000), default: 0, help: 'delay before every answer, in milliseconds' }),
  oneLiveToken: spec({
    flag: '--one-live-token', value: flag(), default: false,
    help: 'a new access token ends the earlier ones, as Exsited reportedly does: runs sharing credentials sign each other out',
  }),
  limit: spec({
    flag: '--limit', value: parsedBy<LimitPlan>('<spec>', parseLimit, () => ''),
    help: 'a rate limit on DELETE shared by every client: bucket:RATE[:BURST] (a token bucket) or window:N[:SECONDS] (N per calendar second, or per SECONDS: a quota)',
  }),
  outage: spec({
    flag: '--outage', value: parsedBy<OutagePlan>('<spec>', parseOutage, () => ''),
    help: 'every DELETE answered 503 for a while, e.g. 10s@2s: for 10 s, from 2 s after the first DELETE; 30s@10s:429: answered 429 (Retry-After 1 s), a gateway refusing everyone',
  }),
  tokenTtl: spec({ flag: '--token-ttl', value: count(1, 86_400 * 30), default: 3600, help: 'access token lifetime in seconds' }),
  writeIds: spec({ flag: '--write-ids', value: path('<path>'), help: 'also write the IDs of its orders to this CSV, to try a real run with --ids' }),
};

type Parsed<T extends Record<string, FlagSpec<unknown>>> = {
  [K in keyof T]: T[K] extends FlagSpec<infer V> ? (T[K] extends { default: unknown } ? V : V | undefined) : never;
};

/**
 * A command's flags (as commander gave them: strings, or true for a switch), each checked by its table's
 * value, defaults filled in. A bad value is a usage error (exit 2) in one line, naming the command, the flag
 * and what it must be; several are told at once.
 */
export function resolveFlags<T extends Record<string, FlagSpec<unknown>>>(command: string, table: T, flags: Record<string, unknown>): Parsed<T> {
  const problems: string[] = [];
  const resolved: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(table)) {
    const raw = flags[key];
    if (raw === undefined) {
      resolved[key] = option.default;
      continue;
    }
    const parsed = option.value.parse(raw, 'flag');
    if ('problem' in parsed) problems.push(`${option.flag} ${parsed.problem}`);
    else resolved[key] = parsed.value;
  }
  if (problems.length > 0) throw usageError(`${command}: ${problems.join('; ')}`);
  return resolved as Parsed<T>;
}
