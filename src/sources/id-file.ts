import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import { usageError } from '../common/errors.js';
import { lineBatches } from '../common/lines.js';

export type IdFileFormat = 'csv' | 'text';

export interface IdFileSpec {
  path: string;
  format: IdFileFormat;
  /** CSV only: the header naming the ID column; else the first of ID_HEADERS. */
  column?: string;
}

export interface IdRow {
  /** 1-based line in the file where the row ends (CSV quoted fields may span lines). */
  line: number;
  /** The ID with surrounding whitespace trimmed; not yet validated. */
  id: string;
}

const ID_HEADERS = new Set(['order_id', 'orderid', 'order id', 'id']);

/** `--format` if given, else `.csv` means CSV and anything else one ID per line. */
export function idFileFormat(path: string, format?: string): IdFileFormat {
  if (format === 'csv' || format === 'text') return format;
  if (format !== undefined) throw usageError(`--format must be csv or text, got ${JSON.stringify(format)}`);
  return /\.csv$/i.test(path) ? 'csv' : 'text';
}

/**
 * Streams the rows of an ID file in batches, feeding every byte read to `hash` on the way. File errors
 * and CSV syntax errors become usage errors naming the file (and the line, where the parser knows it).
 */
export async function* readIdRows(spec: IdFileSpec, hash?: ReturnType<typeof createHash>): AsyncGenerator<IdRow[]> {
  const input = createReadStream(spec.path);
  const bytes = hash ? input.pipe(hashTap(hash)) : input;
  input.on('error', (error) => bytes.destroy(error));
  try {
    yield* spec.format === 'csv' ? csvRows(bytes, spec) : textRows(bytes);
  } catch (error) {
    throw usageError(`${spec.path}: ${describeReadError(error)}`);
  } finally {
    input.destroy();
  }
}

async function* textRows(bytes: Readable): AsyncGenerator<IdRow[]> {
  let line = 0;
  for await (const batch of lineBatches(bytes)) {
    const rows: IdRow[] = [];
    for (const raw of batch) {
      line++;
      const id = (line === 1 ? raw.replace(/^\uFEFF/, '') : raw).trim();
      if (id !== '' && !id.startsWith('#')) rows.push({ line, id });
    }
    yield rows;
  }
}

const CSV_BATCH = 1000;

async function* csvRows(bytes: Readable, spec: IdFileSpec): AsyncGenerator<IdRow[]> {
  const parser = bytes.pipe(
    parseCsv({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true }),
  );
  bytes.on('error', (error) => parser.destroy(error));
  let column = -1;
  let rows: IdRow[] = [];
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    if (record.every((field) => field.trim() === '')) continue;
    if (column < 0) {
      column = idColumn(record, spec);
      continue;
    }
    rows.push({ line: info.lines, id: (record[column] ?? '').trim() });
    if (rows.length >= CSV_BATCH) {
      yield rows;
      rows = [];
    }
  }
  if (rows.length > 0) yield rows;
  if (column < 0) throw new Error('the file is empty: a CSV needs a header row naming the order ID column');
}

function idColumn(header: string[], spec: IdFileSpec): number {
  const names = header.map((name) => name.trim().toLowerCase());
  const index = spec.column === undefined
    ? names.findIndex((name) => ID_HEADERS.has(name))
    : names.indexOf(spec.column.trim().toLowerCase());
  if (index >= 0) return index;
  const wanted = spec.column === undefined ? 'order_id, orderId, order id or id' : JSON.stringify(spec.column);
  throw new Error(`line 1: no ID column: expected a header named ${wanted}; the header has ${JSON.stringify(header)}` +
    (spec.column === undefined ? '; name the column with --column' : ''));
}

function hashTap(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

function describeReadError(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { code?: string; lines?: number };
  if (e.code === 'ENOENT') return 'no such file';
  if (e.code === 'EACCES') return 'permission denied';
  if (e.code === 'EISDIR') return 'is a directory, not a file';
  if (typeof e.code === 'string' && e.code.startsWith('CSV_')) return `CSV syntax error: ${e.message}`;
  return e.message ?? String(error);
}
