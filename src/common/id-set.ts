import { randomBytes } from 'node:crypto';

/**
 * A set of order IDs in insertion order, kept in one byte arena and a hash table of entry numbers: about 40
 * bytes per ID where a `Set<string>` holds a V8 string and a hash-table entry each (about 100 bytes at a
 * million, most of a run's memory). Its bytes live outside the JavaScript heap, so a full collection has
 * nothing of them to mark. Deleting marks an entry gone; the arena is freed with the set.
 *
 * An ID is kept as UTF-8, or as UTF-16 when it holds a lone surrogate (which UTF-8 would turn into U+FFFD:
 * another ID); the two never compare equal.
 *
 * IDs come from files and from a server's listing, so the hash is keyed with a secret drawn per process
 * (HalfSipHash-1-3, as the Linux kernel's hash tables use): with an unkeyed one (FNV-1a, as this first had),
 * 65,536 crafted IDs of 96 letters all shared one hash, and listing them took 38 s instead of 1.4.
 */
export class IdSet implements Iterable<string> {
  private bytes = Buffer.allocUnsafe(64 * 1024);
  private used = 0;
  /** Per entry: where its bytes start, how many there are, its hash, and its flags (PRESENT, WIDE, MARKED). */
  private starts = new Uint32Array(1024);
  private lengths = new Uint32Array(1024);
  private hashes = new Uint32Array(1024);
  private flags = new Uint8Array(1024);
  private entries = 0;
  /** Open addressing, linear probing: entry number + 1, 0 for an empty slot; never more than half full. */
  private table = new Int32Array(2048);
  private live = 0;
  /** What `find` last wrote past the arena's end: its byte length, whether it is UTF-16, its hash. */
  private probeLength = 0;
  private probeWide = 0;
  private probeHash = 0;
  /** The most slots one lookup has looked at: how well the table is spread (the tests hold it to a few). */
  longestProbe = 0;

  constructor(ids?: Iterable<string>) {
    if (ids) for (const id of ids) this.add(id);
  }

  get size(): number {
    return this.live;
  }

  has(id: string): boolean {
    return this.liveEntry(id) >= 0;
  }

  /** Adds the ID; false when it was already in. */
  add(id: string): boolean {
    const slot = this.find(id);
    if (this.liveAt(slot) >= 0) return false;
    // `find` left the ID's bytes just past the arena's end: they become the new entry's. An ID deleted and
    // added again is a new entry (last in order, as in a Set); its slot now names that one.
    if (this.entries === this.starts.length) this.growEntries();
    this.starts[this.entries] = this.used;
    this.lengths[this.entries] = this.probeLength;
    this.hashes[this.entries] = this.probeHash;
    this.flags[this.entries] = PRESENT | this.probeWide;
    this.used += this.probeLength;
    this.table[slot] = ++this.entries;
    this.live++;
    if (this.entries * 2 > this.table.length) this.rehash();
    return true;
  }

  delete(id: string): boolean {
    const entry = this.liveEntry(id);
    if (entry < 0) return false;
    this.flags[entry]! &= ~PRESENT;
    this.live--;
    return true;
  }

  /**
   * Marks a present ID as met (a resume's pass over its input: each skip counted once): `first` the first
   * time, `again` after that, `absent` for an ID not in the set.
   */
  mark(id: string): 'first' | 'again' | 'absent' {
    const entry = this.liveEntry(id);
    if (entry < 0) return 'absent';
    if ((this.flags[entry]! & MARKED) !== 0) return 'again';
    this.flags[entry]! |= MARKED;
    return 'first';
  }

  /** Empties the set and gives back its memory. */
  clear(): void {
    Object.assign(this, new IdSet());
  }

  /** The IDs in the order they were first added. */
  *[Symbol.iterator](): Generator<string> {
    for (let entry = 0; entry < this.entries; entry++) {
      if ((this.flags[entry]! & PRESENT) !== 0) yield this.text(entry);
    }
  }

  /** The IDs in order, each deleted as it is taken. */
  *drain(): Generator<string> {
    for (let entry = 0; entry < this.entries; entry++) {
      if ((this.flags[entry]! & PRESENT) === 0) continue;
      this.flags[entry]! &= ~PRESENT;
      this.live--;
      yield this.text(entry);
    }
  }

  /** The ID's entry while it is in the set; -1 if it is not. */
  private liveEntry(id: string): number {
    return this.liveAt(this.find(id));
  }

  /** The entry a slot names while it is in the set; -1 for an empty slot or a deleted entry. */
  private liveAt(slot: number): number {
    const entry = this.table[slot]! - 1;
    return entry >= 0 && (this.flags[entry]! & PRESENT) !== 0 ? entry : -1;
  }

  private text(entry: number): string {
    const start = this.starts[entry]!;
    return this.bytes.toString((this.flags[entry]! & WIDE) !== 0 ? 'utf16le' : 'utf8', start, start + this.lengths[entry]!);
  }

  /**
   * Writes the ID's bytes past the arena's end (growing it if need be) and returns the slot that holds its
   * entry — or the empty slot where it would go.
   */
  private find(id: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit; UTF-16, 2.
    if (this.used + id.length * 3 > this.bytes.length) this.growBytes(this.used + id.length * 3);
    let length = this.bytes.write(id, this.used, 'utf8');
    let wide = 0;
    if (length !== id.length && LONE_SURROGATE.test(id)) {
      length = this.bytes.write(id, this.used, 'utf16le');
      wide = WIDE;
    }
    this.probeLength = length;
    this.probeWide = wide;
    const mask = this.table.length - 1;
    const hash = halfSipHash(this.bytes, this.used, length);
    this.probeHash = hash;
    let slot = hash & mask;
    for (let probe = 1; ; probe++) {
      const entry = this.table[slot]! - 1;
      if (entry < 0 || (this.hashes[entry] === hash && this.lengths[entry] === length && (this.flags[entry]! & WIDE) === wide && this.same(this.starts[entry]!, this.used, length))) {
        if (probe > this.longestProbe) this.longestProbe = probe;
        return slot;
      }
      slot = (slot + 1) & mask;
    }
  }

  private same(a: number, b: number, length: number): boolean {
    const bytes = this.bytes;
    for (let i = 0; i < length; i++) if (bytes[a + i] !== bytes[b + i]) return false;
    return true;
  }

  private growBytes(needed: number): void {
    // Entries hold 32-bit offsets: past 4 GiB they would name other bytes (other IDs), so the set stops there.
    if (needed > MAX_ARENA) throw new RangeError('more than 4 GiB of order IDs');
    const bigger = Buffer.allocUnsafe(Math.min(MAX_ARENA, Math.max(needed, this.bytes.length * 2)));
    this.bytes.copy(bigger, 0, 0, this.used);
    this.bytes = bigger;
  }

  private growEntries(): void {
    const capacity = this.starts.length * 2;
    const starts = new Uint32Array(capacity);
    starts.set(this.starts);
    const lengths = new Uint32Array(capacity);
    lengths.set(this.lengths);
    const hashes = new Uint32Array(capacity);
    hashes.set(this.hashes);
    const flags = new Uint8Array(capacity);
    flags.set(this.flags);
    Object.assign(this, { starts, lengths, hashes, flags });
  }

  private rehash(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let entry = 0; entry < this.entries; entry++) {
      const flags = this.flags[entry]!;
      if ((flags & PRESENT) === 0) continue; // a deleted entry need not be found again
      let slot = this.hashes[entry]! & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = entry + 1;
    }
    this.table = table;
  }
}

const PRESENT = 1;
const WIDE = 2;
const MARKED = 4;
const MAX_ARENA = 2 ** 32 - 1;
const LONE_SURROGATE = /\p{Cs}/u;

/** The hash's key: 64 bits drawn once per process. */
const KEY = randomBytes(8);
const K0 = KEY.readInt32LE(0);
const K1 = KEY.readInt32LE(4);

/**
 * HalfSipHash-c-d of the bytes under a 64-bit key, 32 bits (Aumasson and Bernstein's SipHash family; the
 * reference is halfsiphash.c, whose test vectors are HalfSipHash-2-4's): keyed, so that IDs crafted to share
 * a hash cannot be made without the key. The sets use 1-3 (as the Linux kernel's hsiphash does) under the
 * process's key.
 */
export function halfSipHash(bytes: Uint8Array, start: number, length: number, k0 = K0, k1 = K1, cRounds = 1, dRounds = 3): number {
  // The state in locals (registers), each round written out: this runs twice per ID at a resume's start.
  let v0 = k0;
  let v1 = k1;
  let v2 = 0x6c796765 ^ k0;
  let v3 = 0x74656462 ^ k1;
  const end = start + length;
  const whole = start + (length & ~3);
  for (let i = start; ; i += 4) {
    const last = i >= whole; // the last block: the tail's bytes and the length
    let m = 0;
    if (!last) m = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    else {
      m = (length & 0xff) << 24;
      for (let at = whole; at < end; at++) m |= bytes[at]! << (8 * (at - whole));
    }
    v3 ^= m;
    for (let r = 0; r < cRounds; r++) {
      v0 = (v0 + v1) | 0; v1 = rotl(v1, 5) ^ v0; v0 = rotl(v0, 16);
      v2 = (v2 + v3) | 0; v3 = rotl(v3, 8) ^ v2;
      v0 = (v0 + v3) | 0; v3 = rotl(v3, 7) ^ v0;
      v2 = (v2 + v1) | 0; v1 = rotl(v1, 13) ^ v2; v2 = rotl(v2, 16);
    }
    v0 ^= m;
    if (last) break;
  }
  v2 ^= 0xff;
  for (let r = 0; r < dRounds; r++) {
    v0 = (v0 + v1) | 0; v1 = rotl(v1, 5) ^ v0; v0 = rotl(v0, 16);
    v2 = (v2 + v3) | 0; v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) | 0; v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) | 0; v1 = rotl(v1, 13) ^ v2; v2 = rotl(v2, 16);
  }
  return (v1 ^ v3) >>> 0;
}

const rotl = (x: number, n: number) => (x << n) | (x >>> (32 - n));
