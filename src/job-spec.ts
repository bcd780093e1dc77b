import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { RunFlags } from './config.js';
import { usageError } from './common/errors.js';
import { describeFileError } from './common/files.js';

const count = z.union([z.number().int().nonnegative(), z.string()]).transform(String);
const time = z.union([z.number().nonnegative(), z.string()]).transform((v) => (typeof v === 'number' ? `${v}s` : v));

/** A job spec: the options of `run`, named as the flags are (camelCase), and nothing else. */
const jobSchema = z.strictObject({
  description: z.string().optional(),
  ids: z.string().optional(),
  filter: z.string().optional(),
  format: z.enum(['csv', 'text']).optional(),
  column: z.string().optional(),
  idPattern: z.string().optional(),
  auditLog: z.string().optional(),
  auditDir: z.string().optional(),
  autoResume: z.boolean().optional(),
  concurrency: count.optional(),
  retries: count.optional(),
  timeoutMs: count.optional(),
  backoffBaseMs: count.optional(),
  backoffCapMs: count.optional(),
  graceMs: count.optional(),
  rps: count.optional(),
  haltAfter: count.optional(),
  maxDuration: time.optional(),
  maxDeletes: count.optional(),
  progressInterval: time.optional(),
  summaryJson: z.string().optional(),
  shard: z.string().optional(),
  dryRun: z.boolean().optional(),
  yes: z.boolean().optional(),
  baseUrl: z.string().optional(),
  allowHost: z.array(z.string()).optional(),
});

/** Inputs that ship with a job; every other path is the run's, relative to its working directory. */
const SHIPPED_WITH_THE_JOB = ['filter'] as const;
const SECRET_LIKE = /secret|token|password|credential|client_?id/i;

/**
 * Reads `run --job FILE`: validated like a filter file (unknown keys, wrong types: exit 2 with the key).
 * Credentials are refused outright: they belong in the environment, never in a file. A relative
 * `filter` path is taken from the job file's folder (the filter ships with the job); other paths, like
 * the flags', from the working directory.
 */
export function readJobSpec(path: string): Partial<RunFlags> & { description?: string } {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, '')); // editors on Windows save JSON with a BOM
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw usageError(`--job ${path}: ${code ? describeFileError(error) : `not valid JSON: ${(error as Error).message}`}`);
  }
  const secretKeys = data && typeof data === 'object' ? Object.keys(data).filter((key) => SECRET_LIKE.test(key)) : [];
  if (secretKeys.length > 0) {
    throw usageError(`--job ${path}: ${secretKeys.join(', ')}: credentials never go in a job file; set EXSITED_CLIENT_ID, ` +
      'EXSITED_CLIENT_SECRET and EXSITED_REDIRECT_URI (or EXSITED_ACCESS_TOKEN) in the environment');
  }
  const parsed = jobSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.map(String).join('.');
      return `  ${keys || '(top level)'}: ${issue.code === 'unrecognized_keys' ? 'unknown option' : issue.message}`;
    });
    throw usageError(`--job ${path}: ${problems.length} problem(s):\n${problems.join('\n')}`);
  }
  const job = { ...parsed.data } as Record<string, unknown>;
  for (const key of SHIPPED_WITH_THE_JOB) {
    const value = job[key];
    if (typeof value === 'string' && value !== '-' && !isAbsolute(value)) job[key] = resolve(dirname(path), value);
  }
  return job as Partial<RunFlags> & { description?: string };
}
