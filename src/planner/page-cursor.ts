/** Pages that add nothing new, in a row, past what was read before, before the server is taken to ignore `offset`. */
const STALLED_PAGES = 3;

/**
 * Where a listing by `limit`/`offset` reads next, while someone else may be deleting orders (a shrinking
 * total). Orders that go before the position read move the rest down: those that were at the head of the
 * page just read are then just before it. So a shrink opens a hole before the page (as wide as the shrink)
 * that is read before the listing goes on from the page's end, and any shrink seen meanwhile moves the hole,
 * the page's end and everything read down by as much (at worst, the orders went before them all). One batch of
 * deletions at any moment of the listing skips no order; deletions before every read can still outrun offset
 * paging (docs/usage.md). A page with nothing new past what was read before counts towards the server
 * ignoring `offset` (three in a row), re-reads after a shrink do not (red team: refused after 9 deletions
 * between two pages of 3); so do more pages than twice the first total announced (and ten), and more hole
 * reads than four times that (a total that keeps going down and up).
 */
export class PageCursor {
  private lastTotal: number | undefined;
  /** Where the listing goes on once the hole is read: the last page's end. */
  private resumeAt = 0;
  /** The furthest end read so far, in the list's positions now. */
  private readEnd = 0;
  /** Positions orders may have moved down into, [from, to), read before going on. */
  private hole: [number, number] | undefined;
  /** The hole was moved down once by a shrink seen while reading it: the next shrink does not move it again (progress). */
  private holeMoved = false;
  private stalled = 0;
  private maxPages = Number.POSITIVE_INFINITY;
  private pages = 0;
  private holeReads = 0;

  constructor(private readonly pageSize: number) {}

  /** The next read: a stretch of the hole while one is open, else the next page. */
  next(): { offset: number; limit: number } {
    return this.hole ? { offset: this.hole[0], limit: Math.min(this.pageSize, this.hole[1] - this.hole[0]) } : { offset: this.resumeAt, limit: this.pageSize };
  }

  /** What the read `next` named answered: `count` orders, `fresh` of them never seen, and the total if the server said it. */
  answered(count: number, total: number | undefined, fresh: number): 'more' | 'done' | 'stalled' {
    const shift = this.lastTotal !== undefined && total !== undefined ? Math.max(0, this.lastTotal - total) : 0;
    if (this.lastTotal === undefined && total !== undefined) this.maxPages = 2 * Math.ceil(total / this.pageSize) + 10;
    this.lastTotal = total ?? this.lastTotal;
    if (this.hole) return ++this.holeReads > 4 * this.maxPages ? 'stalled' : this.holeRead(count, shift);
    return ++this.pages > this.maxPages ? 'stalled' : this.pageRead(count, total, fresh, shift);
  }

  private pageRead(count: number, total: number | undefined, fresh: number, shift: number): 'more' | 'done' | 'stalled' {
    const offset = this.resumeAt;
    const readEnd = Math.max(0, this.readEnd - shift);
    if (fresh > 0) this.stalled = 0;
    else if (count > 0 && offset >= readEnd && ++this.stalled >= STALLED_PAGES) return 'stalled';
    this.readEnd = Math.max(readEnd, offset + count);
    this.resumeAt = offset + count;
    if (shift > 0 && offset > 0) {
      this.hole = [Math.max(0, offset - shift), offset];
      this.holeMoved = false;
    }
    if (this.hole) return 'more';
    return count === 0 || (total !== undefined && this.resumeAt >= total) ? 'done' : 'more';
  }

  private holeRead(count: number, shift: number): 'more' {
    const [from, to] = this.hole as [number, number];
    if (shift > 0) {
      // More went since: whatever they were before moved down, and the page's end with them; the hole too, once
      // (read again from lower down), after that what was read counts (deletions before every read would never let it close).
      this.resumeAt = Math.max(0, this.resumeAt - shift);
      this.readEnd = Math.max(0, this.readEnd - shift);
      this.hole = this.holeMoved ? [from + count - shift, to - shift] : [from - shift, to - shift];
      this.holeMoved = true;
      this.hole = [Math.max(0, this.hole[0]), Math.max(0, this.hole[1])];
    } else {
      this.hole = count === 0 ? undefined : [from + count, to];
    }
    if (this.hole && this.hole[0] >= this.hole[1]) this.hole = undefined;
    return 'more';
  }
}
