import type { CanonicalText } from './canonical-text.js';

// Bound once: in a vm context (Jest's), each lookup of a global such as `Math` in the loop would be a call.
const { imul } = Math;

/**
 * Every registered form of every secret, found in a text in one pass whatever their number: each form is
 * indexed by seeds, windows of SEED units (the shortest form's length), and the text's windows are
 * hashed as they roll by. A bit per hash says, in one memory read, that almost every window seeds
 * nothing; only a window whose bit is set is looked up and compared. A match is the seed extended, unit
 * by unit, as far as text and form agree: a whole form, or — for a form whose parts are secret too — any
 * PART units of it. So the cost of a line is its length, not the number of forms: a long run registers a
 * token every hour.
 */
export class SecretIndex {
  private readonly seeds = new Map<number, Seed[]>();
  private readonly known = new Map<string, boolean>();
  private bits: Uint8Array | undefined;

  /**
   * A form (canonical, see CanonicalText), found whole; with `parts`, any PART units of it too. A part
   * contains a seed at an offset that is a multiple of PART - SEED + 1, so seeds at those offsets suffice.
   */
  add(form: string, parts: boolean): void {
    if (form.length < SEED || this.known.get(form) === true || (this.known.has(form) && !parts)) return;
    this.known.set(form, parts);
    const bits = (this.bits ??= new Uint8Array(BITS / 8));
    const need = parts ? Math.min(PART, form.length) : form.length;
    const codes = Uint16Array.from(form, (c) => c.charCodeAt(0));
    for (let offset = 0; offset <= (parts ? form.length - SEED : 0); offset += PART - SEED + 1) {
      const hash = hashAt(codes, offset);
      const bit = imul(hash, MIX) >>> SHIFT;
      bits[bit >>> 3]! |= 1 << (bit & 7);
      const seeds = this.seeds.get(hash);
      if (seeds) seeds.push({ form, offset, need });
      else this.seeds.set(hash, [{ form, offset, need }]);
    }
  }

  /** The units of `text` that belong to a registered form, as pairs [start, end) pushed onto `spans`. */
  find(text: CanonicalText, spans: number[]): void {
    const { bits } = this;
    const { codes, length } = text;
    if (!bits || length < SEED) return;
    let hash = 0;
    let fresh = 0; // where the hash is computed anew rather than rolled
    for (let at = 0; at <= length - SEED; at++) {
      hash = at === fresh ? hashAt(codes, at) : (imul(hash - imul(codes[at - 1]!, BASE_TO_SEED), BASE) + codes[at + SEED - 1]!) | 0;
      const bit = imul(hash, MIX) >>> SHIFT;
      if ((bits[bit >>> 3]! & (1 << (bit & 7))) === 0) continue;
      const end = this.matchAt(codes, length, at, hash, spans);
      // Past a match, the next window to read overlaps its last units only: a secret right after one is found, and a long one costs its length once.
      if (end > at + SEED) {
        at = end - SEED;
        fresh = at + 1;
      }
    }
  }

  /** The matches whose seed is the window at `at`: pushed; where the furthest ends (0 for none). */
  private matchAt(codes: Uint16Array, length: number, at: number, hash: number, spans: number[]): number {
    let furthest = 0;
    for (const { form, offset, need } of this.seeds.get(hash) ?? []) {
      let k = 0;
      while (k < SEED && codes[at + k] === form.charCodeAt(offset + k)) k++;
      if (k < SEED) continue;
      let start = at;
      while (start > at - offset && start > 0 && codes[start - 1] === form.charCodeAt(offset - (at - start) - 1)) start--;
      let end = at + SEED;
      while (end < length && end - at + offset < form.length && codes[end] === form.charCodeAt(end - at + offset)) end++;
      if (end - start < need) continue;
      const last = spans.length - 2;
      // Matches met one after another (a secret and its parts, a run of them) are kept as one span.
      if (last >= 0 && start <= spans[last + 1]! && end >= spans[last]!) {
        spans[last] = Math.min(spans[last]!, start);
        spans[last + 1] = Math.max(spans[last + 1]!, end);
      } else {
        spans.push(start, end);
      }
      furthest = Math.max(furthest, end);
    }
    return furthest;
  }
}

/** A window of a form, and how much of the form around it a match must cover. */
interface Seed {
  form: string;
  offset: number;
  need: number;
}

/** Units in a seed: the shortest registered form (MIN_SECRET_LENGTH). */
const SEED = 8;
/** Units of a secret that are a secret too (a cut, an echoed prefix). */
const PART = 12;
/** Bits of the filter: with a secret's 10 to 20 seeds, a long run's few thousand set almost none of them. */
const BITS = 1 << 20;
const SHIFT = 32 - 20;
const MIX = 0x9e3779b1 | 0;
const BASE = 0x01000193;
/** BASE to the power SEED - 1: what the unit leaving a rolling window had contributed. */
const BASE_TO_SEED = Array.from({ length: SEED - 1 }).reduce<number>((power) => imul(power, BASE), 1);

function hashAt(codes: Uint16Array, at: number): number {
  let hash = 0;
  for (let k = 0; k < SEED; k++) hash = (imul(hash, BASE) + codes[at + k]!) | 0;
  return hash;
}
