import { resolve } from 'node:path';
import { usageError } from '../common/errors.js';
import { parseHttpUrl } from '../common/http-url.js';
import { MIN_SECRET_LENGTH, secrets } from '../common/secrets.js';
import type { Credentials } from '../exsited/auth.js';
import { DEFAULT_ALLOWED_HOSTS } from '../exsited/host-allowlist.js';
import { runOptionKeys, specOf, type RunOptionKey, type RunSettings } from './options.js';
import type { Layer } from './values.js';

export interface Layers {
  /** The flags given on the command line, and only those (commander holds no defaults). */
  flags: Partial<Record<RunOptionKey, unknown>>;
  /** A job spec's options (config/job-spec), and its file. */
  job?: { path: string; options: Partial<Record<RunOptionKey, unknown>> };
  env: NodeJS.ProcessEnv;
}

/** The options of one run: each option from its layer, checked, plus what derives from them. */
export interface RunOptions extends RunSettings {
  /** Where each option's value came from: a message or a printed command can tell a person's choice from a default. */
  from: Record<RunOptionKey, Layer>;
  credentials: Credentials;
  /** The built-in hosts and every --allow-host. */
  allowedHosts: string[];
  /** A bearer token for the metrics Pushgateway (EXSITED_METRICS_PUSHGATEWAY_TOKEN): from the environment only. */
  metricsPushToken?: string;
}

/**
 * Resolves `run`'s options once, from one table (config/options): defaults ← job spec ← environment ←
 * flags, the later winning — so a deployer's EXSITED_BASE_URL beats a job baked into an image, and a flag
 * beats both (a resume's recorded run comes between the job spec and the environment: withRecorded).
 * Lists (allowed hosts) add up across layers. Every value is checked where it is taken from, and every
 * problem of every layer is told at once (exit 2).
 */
export function resolveRunOptions(given: Layers, use: { continuing?: string } = {}): RunOptions {
  const layers = use.continuing ? continuingLayers(given, use.continuing) : given;
  const problems: string[] = [];
  const settings: Record<string, unknown> = {};
  const from = {} as Record<RunOptionKey, Layer>;
  for (const key of runOptionKeys) {
    const spec = specOf(key);
    const given: Array<[Layer, unknown, string]> = [];
    if (spec.default !== undefined) given.push(['default', spec.default, '']);
    if (layers.job?.options[key] !== undefined) given.push(['job', layers.job.options[key], `--job ${layers.job.path}: ${key}`]);
    const envValue = spec.env ? layers.env[spec.env] : undefined;
    if (envValue !== undefined && envValue !== '') given.push(['env', envValue, spec.env as string]);
    if (layers.flags[key] !== undefined) given.push(['flag', layers.flags[key], spec.flag as string]);

    const parsed = given.map(([layer, raw, where]) => {
      if (layer === 'default') return { layer, value: raw };
      const result = spec.value.parse(raw, layer);
      if ('problem' in result) {
        problems.push(`${where} ${result.problem}`);
        return undefined;
      }
      return { layer, value: result.value };
    }).filter((entry) => entry !== undefined);
    const chosen = parsed.at(-1);
    from[key] = chosen?.layer ?? 'default';
    settings[key] = spec.value.merges ? [...new Set(parsed.flatMap((entry) => entry.value as unknown[]))] : chosen?.value;
  }
  if (problems.length === 1) throw usageError(problems[0] as string);
  if (problems.length > 1) throw usageError(`${problems.length} problems with the options:\n${problems.map((p) => `  ${p}`).join('\n')}`);

  const options = settings as RunSettings;
  checkCombinations(options);
  const credentials = credentialsFrom(layers.env);
  checkPathsShowable(options);
  // A host name only: `user:password@host` there was recorded in run.start in clear (red team), as --base-url's would be.
  if (options.allowHost.some((host) => /[@/\s]/.test(host))) {
    throw usageError('--allow-host takes host names (host or host:port), never a URL or credentials: an entry holds "@", "/" or a space; nothing was sent');
  }
  checkGatewayCredentials(options.metricsPush, layers.env);
  return {
    ...options,
    from,
    credentials,
    allowedHosts: [...DEFAULT_ALLOWED_HOSTS, ...options.allowHost],
    ...(layers.env.EXSITED_METRICS_PUSHGATEWAY_TOKEN ? { metricsPushToken: layers.env.EXSITED_METRICS_PUSHGATEWAY_TOKEN } : {}),
  };
}

/**
 * The options that say which run this is, or act on its audit folder: a run continued by --auto-resume takes
 * the first from its log, not from the layers; --keep-for is the night's, applied once the new run is done.
 */
const NEW_RUN_KEYS: RunOptionKey[] = ['ids', 'filter', 'auditDir', 'autoResume', 'auditLog', 'resume', 'keepFor'];

/** The layers of a run that continues `auditLog` (--auto-resume): the same job, environment and flags, bar what picks a new run. */
function continuingLayers(layers: Layers, auditLog: string): Layers {
  const without = (options: Partial<Record<RunOptionKey, unknown>>) => Object.fromEntries(Object.entries(options).filter(([key]) => !NEW_RUN_KEYS.includes(key as RunOptionKey)));
  return {
    ...layers,
    flags: { ...without(layers.flags), resume: true, auditLog },
    ...(layers.job ? { job: { ...layers.job, options: without(layers.job.options) } } : {}),
  };
}

function checkCombinations(o: RunSettings): void {
  if (o.auditLog && o.auditDir) throw usageError('--audit-log and --audit-dir both name where the log goes; give one of them');
  if (o.autoResume && !o.auditDir) throw usageError('--auto-resume needs --audit-dir: the folder whose latest log it continues');
  if (o.keepFor !== undefined && !o.auditDir) throw usageError('--keep-for needs --audit-dir: the folder whose old logs it deletes');
  if (o.expectEvery !== undefined && !o.historyHtml) throw usageError('--expect-every needs --history-html: the page that shows a missed night');
  if (o.historyHtml) refuseLogLikePage(o.historyHtml, '--history-html');
  if (o.ids && o.filter) throw usageError('--ids and --filter select orders in two different ways; give one of them');
  if (!o.resume && !o.ids && !o.filter) {
    throw usageError('--ids PATH (a .csv file, a text file with one ID per line, or - for stdin) or --filter PATH (a filter file) is required');
  }
}

/** The gateway takes a password or a token, not both: with both, one would be sent and the other silently ignored. */
function checkGatewayCredentials(push: string | undefined, env: NodeJS.ProcessEnv): void {
  const parsed = push ? parseHttpUrl(push) : undefined;
  if (parsed && 'url' in parsed && parsed.url.password !== '' && env.EXSITED_METRICS_PUSHGATEWAY_TOKEN) {
    throw usageError('EXSITED_METRICS_PUSHGATEWAY holds a user and password and EXSITED_METRICS_PUSHGATEWAY_TOKEN a token: ' +
      'the gateway takes one of them; unset the other; nothing was sent');
  }
}

/**
 * A path holding a credential of the run (a folder named after the client ID) would be recorded and printed
 * redacted: the resume could not open its input, nor a person the file a message names (red team:
 * `[REDACTED]/ids.csv: no such file`). Refused before anything is sent; the credentials are registered by now.
 */
function checkPathsShowable(options: Partial<Record<RunOptionKey, unknown>>): void {
  // The working folder too: recorded in run.start (a report run elsewhere places the run's files by it; red
  // team: its collision check missed the recorded input, which --failed-csv then overwrote), as is the job spec's full path.
  for (const [what, path] of [['the working folder', process.cwd()], ['--job', typeof options.job === 'string' ? resolve(options.job) : undefined]] as const) {
    if (path !== undefined && secrets.holds(path)) {
      throw usageError(`${what} ${secrets.scrub(path)} holds a credential of this run (the client ID or a secret), which this tool never records or prints; ` +
        'run it from (or give) a path without it; nothing was sent');
    }
  }
  for (const key of runOptionKeys) {
    const { placeholder } = specOf(key).value;
    const value = options[key];
    if ((placeholder === '<path>' || placeholder === '<dir>') && typeof value === 'string' && secrets.holds(value)) {
      throw usageError(`${specOf(key).flag ?? specOf(key).env} ${secrets.scrub(value)}: the path holds a credential of this run (the client ID or a secret), ` +
        'which this tool never records or prints: the audit log could not say where the file is; use a path without it (a link, another folder); nothing was sent');
    }
  }
}

/**
 * Every variable a proxy is read from (proxy-from-env: `<protocol>_proxy` and `all_proxy`, in lower and
 * upper case), whichever this run uses: an http proxy's credentials were printed whole (red team).
 */
const PROXY_VARIABLES = ['https_proxy', 'http_proxy', 'all_proxy'].flatMap((name) => [name, name.toUpperCase()]);

/** Variables that hold a secret: each is scrubbed from every output whether or not this run uses it. */
const SECRET_VARIABLES = ['EXSITED_CLIENT_SECRET', 'EXSITED_ACCESS_TOKEN', 'EXSITED_METRICS_PUSHGATEWAY_TOKEN'] as const;

/**
 * Registers the environment's credentials with the scrubber: by `run` before anything is printed, and by
 * `report` before it prints or writes a page (a log written before a credential was known to the tool
 * must not carry it onward).
 */
export function registerSecretsOf(env: NodeJS.ProcessEnv): void {
  for (const name of SECRET_VARIABLES) secrets.register(env[name]);
  secrets.register(env.EXSITED_CLIENT_ID, { parts: false }); // an identifier, often made of words: found whole only
  // The gateway's user:password (only the environment may hold them), as written and as sent (basic auth);
  // and any a base URL or a proxy holds by mistake (refused, but nothing may print them meanwhile).
  for (const name of ['EXSITED_METRICS_PUSHGATEWAY', 'EXSITED_BASE_URL', ...PROXY_VARIABLES]) {
    const parsed = env[name] ? parseHttpUrl(env[name] as string) : undefined;
    if (parsed && 'url' in parsed) secrets.registerUrl(parsed.url);
  }
}

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
  }
  registerSecretsOf(env);
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

/**
 * The options of a resume: the recorded run's own (run.start's `options`) for every option that shapes
 * it, unless the environment or a flag gives it again — the recorded run sits between the job spec and
 * the environment. A run refused by --max-deletes 10 stays refused on resume until a flag raises it.
 * A limit the job spec sets lower than the recorded one binds (options' `ceiling`): a job's --max-deletes
 * lowered since its run stopped is the most its nightly resume may delete. Logs of earlier versions
 * recorded a few options under other names; they are read too.
 */
export function withRecorded(options: RunOptions, recorded: Record<string, unknown>): RunOptions {
  const raw: Record<string, unknown> = { ...recorded };
  if (typeof raw.maxDurationMs === 'number' && raw.maxDuration === undefined) raw.maxDuration = `${raw.maxDurationMs}ms`;
  const resolved = { ...options, from: { ...options.from } } as RunOptions & Record<string, unknown>;
  const problems: string[] = [];
  for (const key of runOptionKeys) {
    const spec = specOf(key);
    const value = raw[key];
    if (!spec.recorded || value === undefined || value === null || options.from[key] === 'env' || options.from[key] === 'flag') continue;
    const parsed = spec.value.parse(value, 'recorded');
    if ('problem' in parsed) problems.push(`the recorded run's ${key} ${parsed.problem}`);
    else if (options.from[key] === 'job' && spec.ceiling && !atMost(parsed.value, options[key], spec.ceiling.unlimited)) continue; // the job's lower limit binds
    else {
      (resolved as Record<string, unknown>)[key] = parsed.value;
      resolved.from[key] = 'recorded';
    }
  }
  if (problems.length > 0) throw usageError(`the recorded run's options cannot be read back (the log was edited?):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return resolved;
}

/** Whether a recorded limit lets no more through than the job's: `unlimited` (or none given) is the most there is. */
function atMost(recorded: unknown, job: unknown, unlimited: unknown): boolean {
  const most = (value: unknown) => (value === undefined || value === unlimited ? Infinity : value as number);
  return most(recorded) <= most(job);
}

/** Where an option's value came from, as a person named it: `--base-url`, `EXSITED_BASE_URL`, `--job FILE: baseUrl`. */
export function sourceOf(options: RunOptions, key: RunOptionKey): string {
  const spec = specOf(key);
  switch (options.from[key]) {
    case 'flag': return spec.flag ?? key;
    case 'env': return spec.env ?? key;
    case 'job': return `--job ${options.job ?? ''}: ${key}`;
    case 'recorded': return `the recorded run's ${key}`;
    default: return `the default ${key}`;
  }
}

/** The options a run records in run.start: those that shape it, as JSON their parsers read back. */
export function recordedOptions(options: RunOptions): Partial<Record<RunOptionKey, unknown>> {
  const recorded: Partial<Record<RunOptionKey, unknown>> = {};
  for (const key of runOptionKeys) {
    const spec = specOf(key);
    const value = options[key];
    if (spec.recorded && value !== undefined) recorded[key] = spec.value.record ? spec.value.record(value) : value;
  }
  return recorded;
}

/**
 * A history page is never named like an audit log (`*.ndjson`): in an audit folder — through whatever link —
 * every later history and --auto-resume would try to read it as one. Refused before anything is sent.
 */
export function refuseLogLikePage(path: string, what: string): void {
  if (/\.ndjson$/i.test(path)) throw usageError(`${what} ${path}: a page named like an audit log (*.ndjson) would be read as one; nothing was written`);
}
