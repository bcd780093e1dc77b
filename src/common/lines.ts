import type { Readable } from 'node:stream';

/** No line this tool reads (an order ID, an audit record) is near this long; longer ones are cut. */
export const MAX_LINE_LENGTH = 1024 * 1024;

/**
 * The lines of a stream, a chunk's worth at a time: splitting big chunks ourselves is several times
 * faster than readline for million-line inputs (ID files, audit logs). `\r\n` and `\n` both end a
 * line; the text is decoded as UTF-8 across chunk boundaries. A line longer than `maxLength` is cut to
 * `maxLength + 1` characters (enough for any check to see it is too long): a 50 MB line with no newline
 * is never held, nor joined again chunk after chunk.
 */
export async function* lineBatches(input: Readable, maxLength = MAX_LINE_LENGTH): AsyncGenerator<string[]> {
  input.setEncoding('utf8');
  const limit = maxLength + 1;
  const clip = (line: string) => (line.length > limit ? line.slice(0, limit) : line);
  let carry = '';
  for await (const chunk of input as AsyncIterable<string>) {
    const lines = chunk.split('\n');
    const last = lines.pop() as string;
    if (lines.length === 0) {
      if (carry.length < limit) carry = clip(carry + last);
      continue;
    }
    lines[0] = clip(carry + (lines[0] as string));
    for (let i = 1; i < lines.length; i++) lines[i] = clip(lines[i] as string);
    carry = clip(last);
    yield trimCarriageReturns(lines);
  }
  if (carry !== '') yield trimCarriageReturns([carry]);
}

function trimCarriageReturns(lines: string[]): string[] {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
  }
  return lines;
}
