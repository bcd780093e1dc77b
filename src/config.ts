import { usageError } from './common/errors.js';
import { MIN_SECRET_LENGTH, secrets } from './common/secrets.js';
import { quoted } from './common/text.js';
import { MAX_TIMER_MS } from './engine/backoff.js';
import type { Credentials } from './exsited/auth.js';
import { DEFAULT_ALLOWED_HOSTS } from './exsited/host-allowlist.js';
import { parseShard, type Shard } from './sources/shard.js';

/** The options of one `run`, resolved once (defaults ← environment ← flags) and validated. */
export interface RunOptions {
  ids?: string;
  /** A filter file: the orders are selected by listing them (see sources/filter-spec). */
  filter?: string;
  format?: string;
  column?: string;
  idPattern?: string;
  auditLog?: string;
  /** --audit-dir: each run gets <dir>/<UTC time>-<runId>.ndjson. */
  auditDir?: string;
  /** --auto-resume: first resume the latest log in --audit-dir if it did not finish. */
  autoResume: boolean;
  /** --shard i/n: only the orders whose ID hashes to shard i of n. */
  shard?: Shard;
  resume: boolean;
  force: boolean;
  dryRun: boolean;
  yes: boolean;
  concurrency: number;
  retries: number;
  timeoutMs: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  graceMs: number;
  /** --rps: a rate cap shared by all workers; undefined: none until the server throttles. */
  rps?: number;
  /** --halt-after: consecutive orders failed with one cause before the run halts; 0: never. */
  haltAfter: number;
  /** --max-duration in ms: the run stops dispatching at this deadline; undefined: none. */
  maxDurationMs?: number;
  /** --max-deletes: a selection larger than this is refused before any DELETE. */
  maxDeletes: number;
  /** --progress-interval: how often a progress line is printed off a terminal. */
  progressIntervalMs: number;
  /** --summary-json: where to write the run's outcome as JSON. */
  summaryJson?: string;
  /** $GITHUB_STEP_SUMMARY: a markdown summary is appended there. */
  stepSummary?: string;
  /** From --base-url or EXSITED_BASE_URL; a resume falls back to the recorded one, else the default. */
  baseUrl?: string;
  /** --allow-host values as given (they go into the printed resume command). */
  allowHostFlags: string[];
  allowedHosts: string[];
  credentials: Credentials;
}

/** The flags as commander hands them over: strings, booleans and the repeatable --allow-host. */
export interface RunFlags {
  ids?: string;
  filter?: string;
  format?: string;
  column?: string;
  idPattern?: string;
  auditLog?: string;
  auditDir?: string;
  autoResume?: boolean;
  shard?: string;
  job?: string;
  resume?: boolean;
  force?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  concurrency: string;
  retries: string;
  timeoutMs: string;
  backoffBaseMs: string;
  backoffCapMs: string;
  graceMs: string;
  rps?: string;
  haltAfter: string;
  maxDuration?: string;
  maxDeletes: string;
  summaryJson?: string;
  progressInterval: string;
  baseUrl?: string;
  allowHost: string[];
}

export const DEFAULTS = {
  concurrency: '8',
  retries: '5',
  timeoutMs: '30000',
  backoffBaseMs: '500',
  backoffCapMs: '30000',
  graceMs: '10000',
  haltAfter: '25',
  maxDeletes: '10000',
  progressInterval: '10s',
} as const;

export function resolveRunOptions(flags: RunFlags, env: NodeJS.ProcessEnv): RunOptions {
  if (flags.resume && !flags.auditLog) throw usageError('--resume needs --audit-log PATH: the log of the run to continue');
  if (flags.auditLog && flags.auditDir) throw usageError('--audit-log and --audit-dir both name where the log goes; give one of them');
  if (flags.autoResume && !flags.auditDir) throw usageError('--auto-resume needs --audit-dir: the folder whose latest log it continues');
  if (flags.ids && flags.filter) throw usageError('--ids and --filter select orders in two different ways; give one of them');
  if (!flags.resume && !flags.ids && !flags.filter) {
    throw usageError('--ids PATH (a .csv file, a text file with one ID per line, or - for stdin) or --filter PATH (a filter file) is required');
  }
  const envHosts = (env.EXSITED_ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim()).filter(Boolean);
  return {
    ids: flags.ids,
    filter: flags.filter,
    format: flags.format,
    column: flags.column,
    idPattern: flags.idPattern,
    auditLog: flags.auditLog,
    auditDir: flags.auditDir,
    autoResume: !!flags.autoResume,
    shard: flags.shard === undefined ? undefined : parseShard(flags.shard),
    resume: !!flags.resume,
    force: !!flags.force,
    dryRun: !!flags.dryRun,
    yes: !!flags.yes,
    concurrency: integer('--concurrency', flags.concurrency, 1, 1024),
    retries: integer('--retries', flags.retries, 0, 100),
    timeoutMs: integer('--timeout-ms', flags.timeoutMs, 1, 3_600_000),
    backoffBaseMs: integer('--backoff-base-ms', flags.backoffBaseMs, 0, 3_600_000),
    backoffCapMs: integer('--backoff-cap-ms', flags.backoffCapMs, 0, 3_600_000),
    graceMs: integer('--grace-ms', flags.graceMs, 0, 3_600_000),
    rps: flags.rps === undefined ? undefined : positiveNumber('--rps', flags.rps),
    haltAfter: integer('--halt-after', flags.haltAfter, 0, 1_000_000),
    maxDurationMs: flags.maxDuration === undefined ? undefined : durationMs('--max-duration', flags.maxDuration),
    maxDeletes: integer('--max-deletes', flags.maxDeletes, 0, 100_000_000),
    summaryJson: flags.summaryJson,
    progressIntervalMs: durationMs('--progress-interval', flags.progressInterval),
    stepSummary: env.GITHUB_STEP_SUMMARY || undefined,
    baseUrl: flags.baseUrl ?? (env.EXSITED_BASE_URL || undefined),
    allowHostFlags: flags.allowHost,
    allowedHosts: [...DEFAULT_ALLOWED_HOSTS, ...envHosts, ...flags.allowHost],
    credentials: credentialsFrom(env),
  };
}

function integer(flag: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw usageError(`${flag} must be a whole number from ${min} to ${max}, got ${quoted(raw)}`);
  }
  return value;
}

function positiveNumber(flag: string, raw: string): number {
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !(value > 0)) throw usageError(`${flag} must be a number above 0, got ${quoted(raw)}`);
  return value;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `45m`, `1h30m`, `90s`, `2h`, `500ms`; a bare number is seconds. */
export function durationMs(flag: string, raw: string): number {
  const text = raw.trim();
  const parts = /^\d+(\.\d+)?$/.test(text) ? [[text, text, 's']] : [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  const total = parts.reduce((sum, [, n, unit]) => sum + Number(n) * (UNIT_MS[unit as string] as number), 0);
  if (parts.map((p) => p[0]).join('') !== text || !(total > 0)) {
    throw usageError(`${flag} must be a duration such as 45m, 1h30m or 90s, got ${quoted(raw)}`);
  }
  if (total > MAX_TIMER_MS) throw usageError(`${flag} must be at most 24 days (596h), got ${quoted(raw)}`);
  return Math.round(total);
}

/** Variables that hold a secret: each is scrubbed from every output whether or not this run uses it. */
const SECRET_VARIABLES = ['EXSITED_CLIENT_SECRET', 'EXSITED_ACCESS_TOKEN'] as const;

/**
 * A pre-issued EXSITED_ACCESS_TOKEN wins; otherwise all three client-credential variables are needed.
 * Every secret the environment holds is registered with the scrubber before anything is printed; one
 * too short to be told from ordinary text could not be kept out of logs, and is refused.
 */
function credentialsFrom(env: NodeJS.ProcessEnv): Credentials {
  for (const name of SECRET_VARIABLES) {
    const value = env[name];
    if (value && value.length < MIN_SECRET_LENGTH) {
      throw usageError(`${name} is too short to be a real secret (fewer than ${MIN_SECRET_LENGTH} characters): it could not be told ` +
        'from ordinary text, so it could not be kept out of logs; nothing was sent');
    }
    secrets.register(value);
  }
  secrets.register(env.EXSITED_CLIENT_ID);
  if (env.EXSITED_ACCESS_TOKEN) return { kind: 'access_token', accessToken: env.EXSITED_ACCESS_TOKEN };
  const names = ['EXSITED_CLIENT_ID', 'EXSITED_CLIENT_SECRET', 'EXSITED_REDIRECT_URI'] as const;
  const missing = names.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw usageError(`credentials missing: set ${missing.join(', ')} (OAuth2 client credentials), or EXSITED_ACCESS_TOKEN`);
  }
  return {
    kind: 'client_credentials',
    clientId: env.EXSITED_CLIENT_ID as string,
    clientSecret: env.EXSITED_CLIENT_SECRET as string,
    redirectUri: env.EXSITED_REDIRECT_URI as string,
  };
}
