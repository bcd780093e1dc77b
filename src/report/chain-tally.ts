import { IdSet } from '../common/id-set.js';

type Outcome = 'deleted' | 'already_absent' | 'failed' | 'would_delete';

/** A chain's orders, each once by its latest outcome, as `report <log>` counts them. */
export interface ChainCounts {
  deleted: number;
  alreadyAbsent: number;
  failed: number;
  wouldDelete: number;
}

/**
 * The orders of a run chain (a fresh run and its resumes) by their latest outcome, counted as a log's lines
 * go by, for a folder's listing of it: a resume tries its chain's failed orders again, and a dry resume checks
 * them again, so each run's own counts added up tell some orders twice (red team: "40 deleted, 14 failed" for a
 * chain that deleted all 40; "60 would delete" for 30). A deletion is final (no later run of the chain takes the
 * order again): counted. The other outcomes can be superseded: their orders are kept, and only those: a chain
 * that deletes keeps its failures, which are few, and memory stays bounded by what is not deleted.
 */
export class ChainTally {
  private deleted = 0;
  /** Runs of the chain so far: an order has one line in a run, so only a later run's lines can supersede one. */
  private runs = 0;
  /** Few, as a rule, and looked up on every line once there are some: a Set (a lookup of a V8 string is several times an IdSet's, which hashes its bytes). */
  private absent: Set<string> | undefined;
  private failed: Set<string> | undefined;
  /** As many as a dry run's orders: their bytes in an arena (common/id-set: about 40 bytes an ID, off the heap). */
  private wouldDelete: IdSet | undefined;

  /** A run.start: a fresh run (not a resume) begins another chain. */
  started(resume: boolean): void {
    this.runs = resume ? this.runs + 1 : 1;
    if (resume) return;
    this.deleted = 0;
    this.absent = this.failed = undefined;
    this.wouldDelete = undefined;
  }

  /** An order line of the chain: its outcome supersedes the order's earlier one. Nothing is kept for a deletion. */
  record(orderId: string, outcome: Outcome): void {
    if (this.runs > 1) {
      if (outcome !== 'already_absent' && this.absent?.size) this.absent.delete(orderId);
      if (outcome !== 'failed' && this.failed?.size) this.failed.delete(orderId);
      if (outcome !== 'would_delete' && this.wouldDelete?.size) this.wouldDelete.delete(orderId);
    }
    if (outcome === 'deleted') this.deleted++;
    else if (outcome === 'already_absent') (this.absent ??= new Set()).add(orderId);
    else if (outcome === 'failed') (this.failed ??= new Set()).add(orderId);
    else (this.wouldDelete ??= new IdSet()).add(orderId);
  }

  get counts(): ChainCounts {
    return { deleted: this.deleted, alreadyAbsent: this.absent?.size ?? 0, failed: this.failed?.size ?? 0, wouldDelete: this.wouldDelete?.size ?? 0 };
  }
}
