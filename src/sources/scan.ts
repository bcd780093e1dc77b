import { createHash } from 'node:crypto';
import { usageError } from '../common/errors.js';
import { IdSet } from '../common/id-set.js';
import { quoted } from '../common/text.js';
import { readIdRows, type IdFileLayout, type IdFileSpec } from './id-file.js';
import type { OrderIdValidator } from './order-id.js';

export interface ScannedSource {
  /** The IDs still to process, deduplicated, in file order. Shrinks as the engine takes them. */
  pending: IdSet;
  /** ID rows in the file, duplicates included. */
  rows: number;
  /** Distinct IDs in the file. */
  unique: number;
  duplicates: number;
  /** Distinct IDs skipped because an earlier run of the same log already finished them. */
  skipped: number;
  /** ID rows left to other shards (--shard). */
  otherShards: number;
  /** Distinct IDs left out because the dry run this resume continues did not confirm them (its check failed, or it stopped first). */
  unreviewed: number;
  sha256: string;
  layout: IdFileLayout;
}

export interface ScanOptions {
  /** Orders finished by the run being resumed: marked as their IDs are met, so that each skip counts once. */
  finished?: IdSet;
  /** When the run resumed began as a dry run: the orders it confirmed, the only ones this run may take. */
  reviewed?: { has(id: string): boolean };
  inShard?: (id: string) => boolean;
  /** What a refusal says was spared: "nothing was sent", or "nothing was deleted" once requests went out. */
  spared?: string;
  /** Ends the wait for a pipe's writer (the run stopped), throwing its reason. */
  signal?: AbortSignal;
}

const SHOWN_ERRORS = 20;

/**
 * Pass one over the whole input, before any DELETE: validates every row, counts and deduplicates the
 * IDs and hashes the bytes. Any invalid row fails the whole input (exit 2) with the first 20 reasons.
 */
export async function scanSource(spec: IdFileSpec, isInvalid: OrderIdValidator, options: ScanOptions = {}): Promise<ScannedSource> {
  const { finished = new IdSet(), reviewed, inShard, spared = 'nothing was sent', signal } = options;
  const unreviewed = new IdSet();
  let unreviewedRows = 0;
  const hash = createHash('sha256');
  const layout: IdFileLayout = {};
  const pending = new IdSet();
  let skipped = 0;
  let otherShards = 0;
  const problems: string[] = [];
  let invalid = 0;
  let rows = 0;
  for await (const batch of readIdRows(spec, hash, layout, signal)) {
    for (const { line, id } of batch) {
      rows++;
      const reason = isInvalid(id);
      if (reason) {
        if (++invalid <= SHOWN_ERRORS) problems.push(`  line ${line}: ${reason}: ${quoted(id)}`);
        continue;
      }
      if (inShard && !inShard(id)) {
        otherShards++;
        continue;
      }
      const met = finished.mark(id);
      if (reviewed && met === 'absent' && !reviewed.has(id)) {
        unreviewed.add(id);
        unreviewedRows++; // left out, as another shard's rows are: counted apart from this run's orders
        continue;
      }
      if (met === 'first') skipped++;
      else if (met === 'absent') pending.add(id);
    }
  }
  if (invalid > 0) {
    const more = invalid > SHOWN_ERRORS ? `\n  … and ${invalid - SHOWN_ERRORS} more invalid rows` : '';
    throw usageError(`${spec.path}: ${invalid} invalid order ID row${invalid === 1 ? '' : 's'}; ${spared}:\n${problems.join('\n')}${more}`);
  }
  const unique = pending.size + skipped;
  return {
    pending, rows, unique, duplicates: rows - otherShards - unreviewedRows - unique, skipped, otherShards, unreviewed: unreviewed.size,
    sha256: hash.digest('hex'), layout,
  };
}
