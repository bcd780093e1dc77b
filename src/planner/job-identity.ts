import { createHash, randomUUID } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { shardText, type Shard } from '../sources/shard.js';

/**
 * Who a run belongs to, recorded in its run.start: the job (its spec file, if any), what it selects (the
 * input file or the filter, and how it is read: format, column, accepted IDs, the shard) and the API host,
 * hashed into `id`; and whether a person started it (at a terminal) or nobody did (cron, a container, a
 * pipeline). --auto-resume continues only a run whose id is its own: a person's interrupted run of another
 * input is never finished under a nightly job's consent. A run that reads a pipe (stdin, `<(…)`) has no
 * lasting identity — the next one's pipe holds other IDs — so it is never continued automatically.
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
  format?: string;
  column?: string;
  idPattern?: string;
  shard?: Shard;
}

export function jobIdentity(options: IdentityOptions, host: string, person: boolean): JobIdentity {
  const spec = options.job ? realPath(options.job) : undefined;
  const selects = options.filter ? ['filter', realPath(options.filter)] : isPipe(options.ids) ? ['pipe', randomUUID()] : ['ids', realPath(options.ids ?? '')];
  const reads = [options.format ?? null, options.column ?? null, options.idPattern ?? null, options.shard ? shardText(options.shard) : null];
  const id = createHash('sha256').update(JSON.stringify([spec ?? null, selects, reads, host])).digest('hex').slice(0, 16);
  return { id, ...(spec ? { spec } : {}), startedBy: person ? 'person' : 'unattended' };
}

/** What a run's job identity is made of: its job spec and what it selects (for a resume without one recorded, as recorded). */
export function identityOf(options: IdentityOptions, resume?: { source: { kind: string; path: string; filter?: { path: string } } }): IdentityOptions {
  const recordedFilter = resume?.source.kind === 'filter' ? resume.source.filter?.path : undefined;
  const { format, column, idPattern, shard } = options;
  return { job: options.job, ids: options.ids ?? (recordedFilter ? undefined : resume?.source.path), filter: options.filter ?? recordedFilter, format, column, idPattern, shard };
}

/** stdin, or a path that is not a regular file (a FIFO, `/dev/fd/63` of a process substitution). */
function isPipe(ids: string | undefined): boolean {
  if (ids === '-') return true;
  try {
    return ids !== undefined && !statSync(ids).isFile();
  } catch {
    return false; // not there (yet): the run says so
  }
}

function realPath(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return resolve(path);
  }
}
