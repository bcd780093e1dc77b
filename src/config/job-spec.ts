import { dirname, isAbsolute, resolve } from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import { usageError } from '../common/errors.js';
import { physicalPath } from '../common/files.js';
import { readJsonFile } from '../common/json-file.js';
import { RUN_OPTIONS, runOptionKeys, specOf, type RunOptionKey } from './options.js';

export interface JobSpec {
  path: string;
  description?: string;
  options: Partial<Record<RunOptionKey, unknown>>;
}

/** Inputs that ship with a job; every other path is the run's, relative to its working directory. */
const SHIPPED_WITH_THE_JOB: RunOptionKey[] = ['filter'];
const SECRET_LIKE = /secret|token|password|credential|client_?id/i;
const JOB_KEYS = runOptionKeys.filter((key) => specOf(key).job);

/**
 * Reads `run --job FILE`: a JSON object of `run`'s options, named as in RUN_OPTIONS (camelCase), plus a
 * free-text `description`. Every key and value is checked as the flag's would be, and every problem told
 * at once (exit 2): an unknown key (with the nearest known one), a value of the wrong kind. Credentials are
 * refused outright: they belong in the environment, never in a file. A relative `filter` path is taken
 * from the job file's folder (the filter ships with the job); other paths, like the flags', from the
 * working directory.
 */
export async function readJobSpec(path: string): Promise<JobSpec> {
  const { data } = await readJsonFile(path, '--job');
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw usageError(`--job ${path}: expected a JSON object of options`);
  const entries = Object.entries(data as Record<string, unknown>);
  // Keys that look like credentials, bar the options' own (tokenCache is a path, not a token).
  const secretKeys = entries.map(([key]) => key).filter((key) => SECRET_LIKE.test(key) && !(JOB_KEYS as string[]).includes(key));
  if (secretKeys.length > 0) {
    throw usageError(`--job ${path}: ${secretKeys.join(', ')}: credentials never go in a job file; set EXSITED_CLIENT_ID, ` +
      'EXSITED_CLIENT_SECRET and EXSITED_REDIRECT_URI (or EXSITED_ACCESS_TOKEN) in the environment');
  }
  const problems: string[] = [];
  const options: JobSpec['options'] = {};
  let description: string | undefined;
  for (const [key, raw] of entries) {
    if (key === 'description') {
      if (typeof raw === 'string') description = raw;
      else problems.push('description: must be a text');
      continue;
    }
    if (!(JOB_KEYS as string[]).includes(key)) {
      problems.push(`${key}: unknown option${suggestion(key)}`);
      continue;
    }
    // What ships with the job is read beside it, and checked there (red team: `sub/../f.json` was checked from the working folder, and refused).
    const value = SHIPPED_WITH_THE_JOB.includes(key as RunOptionKey) ? besideTheJob(path, raw) : raw;
    const result = RUN_OPTIONS[key as RunOptionKey].value.parse(value as never, 'job');
    if ('problem' in result) problems.push(`${key}: ${result.problem}`);
    else options[key as RunOptionKey] = value;
  }
  if (problems.length === 1) throw usageError(`--job ${path}: ${problems[0] as string}`);
  if (problems.length > 1) throw usageError(`--job ${path}: ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return { path, description, options };
}

/**
 * A relative path of the job spec's, in the spec's folder as the kernel finds it: a `link/..` in the spec's
 * path or in the value is not collapsed by spelling (common/files' physicalPath, which the value's check applies).
 */
function besideTheJob(spec: string, value: unknown): unknown {
  if (typeof value !== 'string' || value === '-' || isAbsolute(value)) return value;
  const joined = `${dirname(spec)}/${value}`;
  try {
    const physical = physicalPath(joined);
    return physical !== joined ? physical : resolve(dirname(spec), value);
  } catch {
    return joined; // its check says why it cannot be followed
  }
}

function suggestion(key: string): string {
  const near = closest(key, JOB_KEYS);
  if (distance(key.toLowerCase(), near.toLowerCase()) <= 2) return ` (did you mean "${near}"?)`;
  const flagLike = JOB_KEYS.find((name) => specOf(name).flag === `--${key}`);
  return flagLike ? ` (in a job spec it is "${flagLike}")` : `; the options are ${JOB_KEYS.join(', ')}`;
}
