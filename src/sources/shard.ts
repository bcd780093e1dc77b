import { usageError } from '../common/errors.js';

/**
 * --shard i/n: a stable split of one input across n workers. An order belongs to shard
 * `fnv1a32(id) mod n`, FNV-1a (32-bit) over the ID's UTF-16 code units (its bytes, for ASCII IDs): the
 * same on every machine and every run, so each pod of an Indexed Job deletes its own part.
 */
export function shardFilter(shard: Shard): (id: string) => boolean {
  return (id) => fnv1a32(id) % shard.count === shard.index;
}

function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export interface Shard {
  index: number;
  count: number;
}

export const shardText = (shard: Shard) => `${shard.index}/${shard.count}`;

/** `i/n` as given to --shard or recorded in run.start; a usage error otherwise. */
export function parseShard(raw: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(raw.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index >= count) throw usageError(`--shard must be INDEX/COUNT with 0 <= INDEX < COUNT, such as 0/4, got ${JSON.stringify(raw)}`);
  return { index, count };
}
