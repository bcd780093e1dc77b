import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Who a run belongs to, recorded in its run.start: the job (its spec file, if any), what it selects (the
 * input file or the filter) and the API host, hashed into `id`; and whether a person started it (at a
 * terminal) or nobody did (cron, a container, a pipeline). --auto-resume continues only a run whose id is
 * its own: a person's interrupted run of another input is never finished under a nightly job's consent.
 */
export interface JobIdentity {
  id: string;
  /** The job spec's real path, for a run started with --job. */
  spec?: string;
  startedBy: 'person' | 'unattended';
}

export interface IdentityOptions {
  job?: string;
  ids?: string;
  filter?: string;
}

export function jobIdentity(options: IdentityOptions, host: string, person: boolean): JobIdentity {
  const spec = options.job ? realPath(options.job) : undefined;
  const selects = options.filter ? ['filter', realPath(options.filter)] : options.ids === '-' ? ['stdin'] : ['ids', realPath(options.ids ?? '')];
  const id = createHash('sha256').update(JSON.stringify([spec ?? null, selects, host])).digest('hex').slice(0, 16);
  return { id, ...(spec ? { spec } : {}), startedBy: person ? 'person' : 'unattended' };
}

/** What a run's job identity is made of: its job spec and what it selects (for a resume, as recorded). */
export function identityOf(options: IdentityOptions, resume?: { source: { kind: string; path: string; filter?: { path: string } } }): IdentityOptions {
  const recordedFilter = resume?.source.kind === 'filter' ? resume.source.filter?.path : undefined;
  return { job: options.job, ids: options.ids ?? (recordedFilter ? undefined : resume?.source.path), filter: options.filter ?? recordedFilter };
}

function realPath(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return resolve(path);
  }
}
