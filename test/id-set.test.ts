import { describe, expect, test } from '@jest/globals';
import { halfSipHash, IdSet } from '../src/common/id-set.js';
import { orderIdValidator } from '../src/sources/order-id.js';

/** A seeded generator, so that a failure names the same operations again. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
}

describe('IdSet', () => {
  test('answers as a Set<string> does over 60,000 random adds, deletes, lookups and drains', () => {
    const next = random(7);
    const pool = Array.from({ length: 5_000 }, (_, i) => (i % 7 === 0 ? `ORD-é-${i}-日本` : i % 11 === 0 ? `ORD-\ud800${i}` : `ORD-${i.toString(36)}`));
    const ids = new IdSet();
    const model = new Set<string>();
    const disagreements: string[] = [];
    for (let step = 0; step < 60_000; step++) {
      const id = pool[Math.floor(next() * pool.length)]!;
      const action = next();
      const [got, want] = action < 0.5 ? [ids.add(id), !model.has(id) && !!model.add(id)]
        : action < 0.7 ? [ids.delete(id), model.delete(id)] : [ids.has(id), model.has(id)];
      if (got !== want || ids.size !== model.size) disagreements.push(`step ${step}: ${id}`);
    }
    expect(disagreements).toEqual([]);
    expect([...ids]).toEqual([...model]);
    const drained: string[] = [];
    for (const id of ids.drain()) {
      drained.push(id);
      expect(ids.has(id)).toBe(false);
    }
    expect(drained).toEqual([...model]);
    expect(ids.size).toBe(0);
  });

  test('keeps every ID byte for byte: long ones, multi-byte ones, ones differing in the last character', () => {
    const long = 'A'.repeat(1023);
    const variety = [`${long}1`, `${long}2`, '注文-0001', '🧾-pair', 'Ω', 'a', 'b'];
    const ids = new IdSet(variety);
    expect([...ids]).toEqual(variety);
    for (const id of variety) expect(ids.has(id)).toBe(true);
    expect(ids.has(long)).toBe(false);
    expect(ids.has('🧾-pai')).toBe(false);
  });

  test('an ID added again after it was taken comes last, as in a Set, and is found through a rehash', () => {
    const ids = new IdSet(['a', 'b', 'c']);
    ids.delete('a');
    for (let i = 0; i < 5_000; i++) ids.add(`x${i}`); // grows the table twice over
    expect(ids.has('a')).toBe(false);
    expect(ids.add('a')).toBe(true);
    expect([...ids].slice(0, 3)).toEqual(['b', 'c', 'x0']);
    expect([...ids].at(-1)).toBe('a');
    expect(ids.has('a')).toBe(true);
    expect(ids.size).toBe(5_003);
  });

  test('200,000 IDs (the table grown eight times) in insertion order, none lost', () => {
    const ids = new IdSet();
    for (let i = 0; i < 200_000; i++) ids.add(`ORD-${i}`);
    expect(ids.add('ORD-199999')).toBe(false);
    let expected = 0;
    for (const id of ids.drain()) if (id === `ORD-${expected}`) expected++;
    expect(expected).toBe(200_000);
  });

  test('an ID with a lone surrogate comes back as it went in, never as U+FFFD (another ID); the validator refuses it', () => {
    const lone = 'ORD-\ud800';
    const ids = new IdSet([lone, 'ORD-\ufffd', 'ORD-\ud83e\uddfe']);
    expect([...ids]).toEqual([lone, 'ORD-\ufffd', 'ORD-\ud83e\uddfe']);
    expect(ids.has('ORD-\udc00')).toBe(false);
    expect(ids.delete(lone)).toBe(true);
    expect([...ids]).toEqual(['ORD-\ufffd', 'ORD-\ud83e\uddfe']);
    expect(orderIdValidator('.+')(lone)).toMatch(/lone surrogate/);
    expect(orderIdValidator('.+')('ORD-\ud83e\uddfe')).toBeUndefined();
  });

  test('mark: a present ID met the first time, then again; an absent one stays absent; clear empties it', () => {
    const ids = new IdSet(['A', 'B']);
    expect([ids.mark('A'), ids.mark('A'), ids.mark('C')]).toEqual(['first', 'again', 'absent']);
    ids.delete('B');
    expect(ids.mark('B')).toBe('absent');
    ids.clear();
    expect([ids.size, ids.has('A'), [...ids]]).toEqual([0, false, []]);
    expect(ids.add('A')).toBe(true);
  });

  test('IDs crafted to share one FNV-1a hash (as the set first hashed: 38 s to list 65,536 of them) spread over the table', () => {
    // Joux's multicollision: 12 steps, each a pair of 6-letter blocks that collide from the hash the steps
    // before left, make 4,096 IDs of 72 letters and digits, all with one unkeyed FNV-1a hash. The pairs were
    // found by a birthday search over random blocks (about 65,000 blocks a step); they are written here
    // because the search took 2–3 s of the suite's CPU under Jest. That all 4,096 collide is checked below.
    const fnv = (h: number, text: string) => {
      for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
      return h >>> 0;
    };
    const pairs: Array<[string, string]> = [
      ['4Omfu2', 'i8wk9I'], ['KspVWL', 'QdLPtb'], ['M5xRf3', 'sKhsh0'], ['ktSiAe', 'TR42Up'], ['pLn89v', 'uGzNgv'], ['PNSDv3', 'YEY7O5'],
      ['VZ95Mt', '2EYAUC'], ['ic1eIp', 'VMPBI7'], ['rNPcnp', 'KkNsS3'], ['ebycIP', 'cXVfDs'], ['b9Ubwq', 'LMsSYf'], ['na1Vmj', 'y7LCxH'],
    ];
    const crafted = Array.from({ length: 4096 }, (_, n) => pairs.map((pair, b) => pair[(n >> b) & 1]).join(''));
    expect(new Set(crafted.map((id) => fnv(0x811c9dc5, id))).size).toBe(1);
    const ids = new IdSet(crafted);
    expect(ids.size).toBe(4096);
    expect(ids.longestProbe).toBeLessThanOrEqual(64); // all in one chain: 4,096
  });

  test('the hash is HalfSipHash: the reference vectors of HalfSipHash-2-4 (key 00…07, messages 00…n-1)', () => {
    const vector = (n: number) => {
      const message = Uint8Array.from({ length: n }, (_, i) => i);
      return Buffer.from(Uint32Array.of(halfSipHash(message, 0, n, 0x03020100, 0x07060504, 2, 4)).buffer).toString('hex');
    };
    expect([0, 1, 2, 3, 4, 5].map(vector)).toEqual(['a9359f5b', '27475ab8', 'fa62a603', '8afee704', '2a6e4689', 'c5fab669']);
  });
});
