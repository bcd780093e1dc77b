import { describe, expect, test } from '@jest/globals';
import { PageCursor } from '../src/planner/page-cursor.js';

/**
 * planner/page-cursor against a model of a listing by limit/offset whose orders someone else deletes between
 * reads: whatever one batch of deletions does, at whatever moment, no remaining order is skipped and the
 * listing ends (red team: an empty last page ended it before the hole was read; nine deletions between two
 * pages of 3 were refused as a server ignoring offset; a deletion between a page and the re-read skipped one).
 */

type Deleter = (ids: string[], read: number) => void;

/** Lists `n` orders through the cursor; `deleter` edits the list before each read. Returns what the listing saw and how it ended. */
function list(n: number, pageSize: number, deleter: Deleter = () => undefined, options: { total?: boolean; ignoresOffset?: boolean } = {}) {
  const ids = Array.from({ length: n }, (_, i) => `ORD-${i + 1}`);
  const seen = new Set<string>();
  const cursor = new PageCursor(pageSize);
  for (let read = 0; read < 10_000; read++) {
    deleter(ids, read);
    const { offset, limit } = cursor.next();
    const page = ids.slice(options.ignoresOffset ? 0 : offset, (options.ignoresOffset ? 0 : offset) + limit);
    let fresh = 0;
    for (const id of page) if (!seen.has(id) && seen.add(id)) fresh++;
    const step = cursor.answered(page.length, options.total === false ? undefined : ids.length, fresh);
    if (step !== 'more') return { step, seen, left: ids, reads: read + 1 };
  }
  throw new Error('the listing never ended');
}

const skipped = (result: { seen: Set<string>; left: string[] }) => result.left.filter((id) => !result.seen.has(id));

describe('one batch of deletions, at any moment, skips nothing', () => {
  test('every stretch of 1 to 7 orders deleted before any read of a listing of 14 in pages of 3 (and of 1, of 5)', () => {
    let cases = 0;
    for (const pageSize of [1, 3, 5]) {
      for (let at = 0; at < 16; at++) {
        for (let start = 0; start < 14; start++) {
          for (let length = 1; length <= 7; length++) {
            const result = list(14, pageSize, (ids, read) => {
              if (read === at) ids.splice(start, length);
            });
            expect({ pageSize, at, start, length, step: result.step, skipped: skipped(result) }).toEqual({ pageSize, at, start, length, step: 'done', skipped: [] });
            cases++;
          }
        }
      }
    }
    expect(cases).toBe(3 * 16 * 14 * 7);
  });

  test('the red team\'s: the last page comes back empty (three listed orders gone just before it); nine gone between two pages of 3', () => {
    const empty = list(12, 3, (ids, read) => read === 3 && ids.splice(0, 3));
    expect(skipped(empty)).toEqual([]);
    const nine = list(40, 3, (ids, read) => read === 4 && ids.splice(0, 9));
    expect(nine.step).toBe('done');
    expect(skipped(nine)).toEqual([]);
  });

  test('a second deletion while the hole is read is followed too (red team: one skipped)', () => {
    const result = list(12, 3, (ids, read) => {
      if (read === 1) ids.splice(0, 1); // before the second page: a hole opens before it
      if (read === 2) ids.splice(0, 1); // before the hole's read
    });
    expect(skipped(result)).toEqual([]);
  });
});

describe('ends, and refuses only a server ignoring offset', () => {
  test('three listed orders deleted before every read of 400 in pages of 10: it ends, not refused as a server ignoring offset', () => {
    const result = list(400, 10, (ids, read) => read > 0 && ids.splice(0, 3));
    expect(result.step).toBe('done');
  });

  test('a server that answers the first page at every offset is refused after three pages with nothing new', () => {
    const result = list(100, 10, undefined, { ignoresOffset: true });
    expect(result.step).toBe('stalled');
    expect(result.reads).toBe(4);
  });

  test('without a total, an empty page ends it', () => {
    const result = list(10, 3, undefined, { total: false });
    expect(result.step).toBe('done');
    expect(result.seen.size).toBe(10);
  });
});
