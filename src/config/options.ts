import { age, choice, count, duration, flag, httpUrl, list, name, path, period, positive, shard, text, type Value } from './values.js';

/** The headings of `run --help`, in order. */
export const GROUPS = {
  input: 'Which orders',
  resume: 'Continuing a run',
  safety: 'Safety',
  speed: 'Speed and retries',
  output: 'Audit log and output',
  connection: 'Connection',
} as const;

export interface OptionSpec<T> {
  /** The command-line flag, e.g. `--max-deletes`; none for an option set only by the environment. */
  flag?: string;
  help: string;
  group: keyof typeof GROUPS;
  value: Value<T>;
  default?: T;
  /** The environment variable that sets it, between a job spec (or a recorded run) and the flags. */
  env?: string;
  /** Whether a job spec may set it. */
  job: boolean;
  /**
   * Whether it shapes the run, so that a resume continues with the recorded value unless it is given
   * again: the guards, the pace, the retry and halt policy, the deadline, the accepted IDs and the shard.
   */
  recorded: boolean;
  /**
   * A limit (deletions, failures in a row, time, requests at once or a second): a resume takes the lower of
   * the recorded value and the job spec's, so that a job's limit, lowered since its run stopped, binds the
   * run's unattended resume too. `unlimited`: the value that means no limit (--halt-after 0); none set is none too.
   */
  ceiling?: { unlimited?: T };
}

/** A Pushgateway's job is a segment of the push's path: a `/` in it would add labels to the grouping key. */
const METRICS_JOB_NAME = '1 to 100 of A-Z a-z 0-9 _ : - (a "/" would add labels to the grouping key)';

const option = <T, S extends OptionSpec<T>>(spec: S & OptionSpec<T>): S => spec;

/**
 * The options of `run`: the one list. Commander's options, the job spec's keys and their checks, the
 * options run.start records and the resolution of every layer are derived from it (config/resolve).
 */
export const RUN_OPTIONS = {
  ids: option({
    flag: '--ids', group: 'input', value: path('<path>'), job: true, recorded: false,
    help: 'the order IDs: a .csv file with a header row, a text file with one ID per line, or - to read them from stdin',
  }),
  filter: option({
    flag: '--filter', group: 'input', value: path('<path>'), job: true, recorded: false,
    help: 'select the orders with a filter file instead (see docs/usage.md, "Filter files"); they are listed and written to a manifest first',
  }),
  format: option({
    flag: '--format', group: 'input', value: choice(['csv', 'text'] as const, '<format>'), job: true, recorded: false,
    help: 'how to read --ids: csv, or text (one ID per line); by default, csv for a .csv file, else text',
  }),
  column: option({
    flag: '--column', group: 'input', value: text('<name>'), job: true, recorded: false,
    help: 'the CSV column holding the IDs; by default the column named order_id (or orderId, "Order ID"), else id',
  }),
  idPattern: option({
    flag: '--id-pattern', group: 'input', value: text('<regex>'), job: true, recorded: true,
    help: 'accept order IDs matching this regular expression, instead of letters, digits, - and _ (at most 100); ' +
      '/ \\ ? # % spaces and . .. are refused whatever it says',
  }),
  shard: option({
    flag: '--shard', group: 'input', value: shard(), job: true, recorded: true,
    help: 'take only part i of n of the orders (each order is always in the same part; for several workers on one input)',
  }),
  job: option({
    flag: '--job', group: 'input', value: path('<path>'), job: false, recorded: false,
    help: 'read options from a job spec (JSON, option names in camelCase); options given here and in the environment win',
  }),
  resume: option({
    flag: '--resume', group: 'resume', value: flag(), default: false, job: false, recorded: false,
    help: 'continue the run recorded in --audit-log (or the newest unfinished one in --audit-dir): orders already deleted ' +
      'or absent are skipped, the rest sent again, with the run\'s own options unless given again',
  }),
  force: option({
    flag: '--force', group: 'resume', value: flag(), default: false, job: false, recorded: false,
    help: 'with --resume: accept an input, a way of reading it, or an API host that differs from the recorded one',
  }),
  autoResume: option({
    flag: '--auto-resume', group: 'resume', value: flag(), default: false, job: true, recorded: false,
    help: 'with --audit-dir: if the newest run there did not finish (stopped or killed), continue it first, then start this one',
  }),
  dryRun: option({
    flag: '--dry-run', group: 'safety', value: flag(), default: false, job: true, recorded: false,
    help: 'check everything and delete nothing: each listed order is asked for (would_delete, or not found); resuming the dry run deletes exactly those',
  }),
  failOnAbsent: option({
    flag: '--fail-on-absent', group: 'safety', value: flag(), default: false, job: true, recorded: false,
    help: 'exit 1 (status failed) when a listed order was not found (a dry run asks for each) or was already absent: a typo in the list fails the step',
  }),
  yes: option({
    flag: '--yes', group: 'safety', value: flag(), default: false, job: true, recorded: false,
    help: 'go ahead without asking; without it, a person at a terminal types the count to confirm, and nobody there means refused',
  }),
  confirmWait: option({
    flag: '--confirm-wait', group: 'safety', value: duration(), default: 600_000, job: true, recorded: false,
    help: 'how long the question waits for the count to be typed; then the run is refused (exit 3), as with nobody at the terminal',
  }),
  maxDeletes: option({
    flag: '--max-deletes', group: 'safety', value: count(0, 100_000_000), default: 10_000, job: true, recorded: true, ceiling: {},
    help: 'refuse, before deleting anything, when more orders than this are selected',
  }),
  haltAfter: option({
    flag: '--halt-after', group: 'safety', value: count(0, 1_000_000), default: 25, job: true, recorded: true, ceiling: { unlimited: 0 },
    help: 'stop when this many orders in a row fail for the same reason (0: never)',
  }),
  maxDuration: option({
    flag: '--max-duration', group: 'safety', value: duration(), job: true, recorded: true, ceiling: {},
    help: 'stop starting new orders after this long (e.g. 45m, 1h30m), finish those under way, and exit 4; resume later',
  }),
  concurrency: option({
    flag: '--concurrency', group: 'speed', value: count(1, 1024), default: 8, job: true, recorded: true, ceiling: {},
    help: 'DELETE requests under way at once, at most',
  }),
  rps: option({
    flag: '--rps', group: 'speed', value: positive(), job: true, recorded: true, ceiling: {},
    help: 'at most this many DELETE requests a second, all workers together (e.g. 20, or 0.5); by default no cap until the server slows the run down',
  }),
  retries: option({
    flag: '--retries', group: 'speed', value: count(0, 100), default: 5, job: true, recorded: true,
    help: 'times an order is tried again after a network error, a timeout, 429 or 5xx',
  }),
  timeoutMs: option({
    flag: '--timeout-ms', group: 'speed', value: count(1, 3_600_000), default: 30_000, job: true, recorded: true,
    help: 'how long one HTTP request may take, in milliseconds',
  }),
  backoffBaseMs: option({
    flag: '--backoff-base-ms', group: 'speed', value: count(0, 3_600_000), default: 100, job: true, recorded: true,
    help: 'the first retry waits a random time up to this many milliseconds; each further retry up to twice as long',
  }),
  backoffCapMs: option({
    flag: '--backoff-cap-ms', group: 'speed', value: count(0, 3_600_000), default: 30_000, job: true, recorded: true,
    help: 'the longest wait between retries, unless the server asks for more (Retry-After, at most 5 minutes)',
  }),
  reachWait: option({
    flag: '--reach-wait', group: 'speed', value: duration(), default: 30_000, job: true, recorded: false,
    help: 'before the run starts, keep trying an API that cannot be reached at all (refused, not resolved, no answer) this long, then exit 5',
  }),
  graceMs: option({
    flag: '--grace-ms', group: 'speed', value: count(0, 3_600_000), default: 10_000, job: true, recorded: true,
    help: 'when stopped (Ctrl-C, a signal, a halt), how long requests under way may still finish',
  }),
  auditLog: option({
    flag: '--audit-log', group: 'output', value: path('<path>'), job: true, recorded: false,
    help: 'the audit log to write (JSON lines), or to continue with --resume; by default a new runs/<time>-<id>.ndjson',
  }),
  auditDir: option({
    flag: '--audit-dir', group: 'output', value: path('<dir>'), job: true, recorded: false,
    help: 'give each run a new log in this folder (<dir>/<time>-<id>.ndjson)',
  }),
  keepFor: option({
    flag: '--keep-for', group: 'output', value: age(), job: true, recorded: false,
    help: 'with --audit-dir: after the run, delete the logs there (and their manifests) of runs that finished on their own longer ago than this (e.g. 30d); never an unfinished, locked or reviewed (dry-run) one',
  }),
  summaryJson: option({
    flag: '--summary-json', group: 'output', value: path('<path>'), job: true, recorded: false,
    help: 'at the end, write the outcome (status, exit code, counts, host, times) to this JSON file',
  }),
  htmlReport: option({
    flag: '--html-report', group: 'output', value: path('<path>'), job: true, recorded: false,
    help: 'at the end, write the run (with its earlier resumes) as one self-contained HTML page: what `report --html` writes',
  }),
  historyHtml: option({
    flag: '--history-html', group: 'output', value: path('<path>'), job: true, recorded: false,
    help: 'at the end (after --keep-for), write the history of the audit folder\'s runs as one page: what `report <folder> --html` writes',
  }),
  expectEvery: option({
    flag: '--expect-every', group: 'output', value: period(), job: true, recorded: false,
    help: 'with --history-html: a run is expected this often (24h for a nightly job); a period without one is shown as a missed night',
  }),
  metricsPush: option({
    flag: '--metrics-push', group: 'output', env: 'EXSITED_METRICS_PUSHGATEWAY', job: true, recorded: false,
    value: httpUrl('<url>', 'put user:password@ in EXSITED_METRICS_PUSHGATEWAY\'s URL (the environment), or a bearer token in ' +
      'EXSITED_METRICS_PUSHGATEWAY_TOKEN'),
    help: 'push the run\'s metrics to this Prometheus Pushgateway (http or https, no credentials: see docs/deployment.md, "Metrics"), at its end ' +
      'and every --metrics-interval',
  }),
  metricsFile: option({
    flag: '--metrics-file', group: 'output', value: path('<path>'), job: true, recorded: false,
    help: 'write the run\'s metrics to this file in the Prometheus text format (for node_exporter\'s textfile collector)',
  }),
  metricsJob: option({
    flag: '--metrics-job', group: 'output', value: name(/[A-Za-z0-9_:-]{1,100}/, METRICS_JOB_NAME, '<name>'), default: 'exsited_order_cleanup', job: true, recorded: false,
    help: 'the job name the metrics are grouped under (with the shard); A-Z a-z 0-9 _ : - only',
  }),
  metricsInterval: option({
    flag: '--metrics-interval', group: 'output', value: duration(), default: 30_000, job: true, recorded: false,
    help: 'while a run deletes, push or write its metrics this often',
  }),
  progressInterval: option({
    flag: '--progress-interval', group: 'output', value: duration(), default: 10_000, job: true, recorded: false,
    help: 'when not on a terminal, print a progress line this often (on a terminal the progress line updates itself)',
  }),
  logFormat: option({
    flag: '--log-format', group: 'output', value: choice(['human', 'text', 'json', 'pretty'] as const, '<format>'), env: 'EXSITED_LOG_FORMAT', job: true, recorded: false,
    help: 'how the console speaks: human (plain sentences, warnings in colour: the default on a terminal), text (each line with its time and level; pretty is the same), json (one object per line, the default elsewhere)',
  }),
  stepSummary: option({
    group: 'output', value: path('<path>'), env: 'GITHUB_STEP_SUMMARY', job: false, recorded: false,
    help: 'GitHub Actions\' step summary file: a markdown table of the outcome is appended to it',
  }),
  baseUrl: option({
    flag: '--base-url', group: 'connection', env: 'EXSITED_BASE_URL', job: true, recorded: false,
    value: httpUrl('<url>', 'the API\'s credentials go in EXSITED_CLIENT_ID, EXSITED_CLIENT_SECRET and EXSITED_REDIRECT_URI', false),
    help: 'the Exsited API; by default https://dev-api.exsited.com (a resume uses the recorded one)',
  }),
  tokenCache: option({
    flag: '--token-cache', group: 'connection', value: path('<path>'), env: 'EXSITED_TOKEN_CACHE', job: true, recorded: false,
    help: 'share one access token with the other runs on this machine (or shared volume) through this file, owner-only, ' +
      'instead of each obtaining its own and signing the others out (see docs/usage.md, "Credentials")',
  }),
  allowHost: option({
    flag: '--allow-host', group: 'connection', value: list('<host>'), default: [] as string[], env: 'EXSITED_ALLOWED_HOSTS', job: true, recorded: false,
    help: 'also allow this API host (repeatable); only Exsited\'s dev and staging hosts and this machine are allowed otherwise',
  }),
};

export type RunOptionKey = keyof typeof RUN_OPTIONS;

type ValueOf<S> = S extends OptionSpec<infer T> ? (S extends { default: unknown } ? T : T | undefined) : never;

/** The options of one run, typed: what the resolver produces from every layer. */
export type RunSettings = { -readonly [K in RunOptionKey]: ValueOf<(typeof RUN_OPTIONS)[K]> };

export const runOptionKeys = Object.keys(RUN_OPTIONS) as RunOptionKey[];
export const specOf = (key: RunOptionKey): OptionSpec<unknown> => RUN_OPTIONS[key] as OptionSpec<unknown>;
