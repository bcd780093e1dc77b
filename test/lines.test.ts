import { Readable } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import { lineBatches } from '../src/common/lines.js';

async function lines(chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of lineBatches(Readable.from(chunks.map((c) => Buffer.from(c))))) out.push(...batch);
  return out;
}

describe('lineBatches', () => {
  test('splits on \\n and \\r\\n across chunk boundaries, keeps a last line without a newline', async () => {
    expect(await lines(['a\r', '\nb', 'c\n\nd'])).toEqual(['a', 'bc', '', 'd']);
  });

  test('a line longer than the limit is cut to the limit plus one character (a 4 MiB line in 64 KiB chunks)', async () => {
    const long = Array.from({ length: 64 }, () => 'x'.repeat(65_536));
    const out = await lines([...long, '\nshort\n']);
    expect(out).toHaveLength(2);
    expect(out[0]).toHaveLength(1024 * 1024 + 1);
    expect(out[1]).toBe('short');
  });

  test('a multi-byte character split across chunks is decoded whole', async () => {
    const bytes = Buffer.from('ORD-Ä\n');
    const out: string[] = [];
    for await (const batch of lineBatches(Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]))) out.push(...batch);
    expect(out).toEqual(['ORD-Ä']);
  });
});
