import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import { usageError } from '../common/errors.js';
import { describeFileError, openInputFile } from '../common/files.js';
import { lineBatches, MAX_LINE_LENGTH } from '../common/lines.js';
import { quoted } from '../common/text.js';

export type IdFileFormat = 'csv' | 'text';

export interface IdFileSpec {
  path: string;
  format: IdFileFormat;
  /** CSV only: the header naming the ID column; else the order ID column found by name. */
  column?: string;
  /**
   * Read every ID exactly as it is, not trimmed: a manifest written by this tool, whose IDs came from the
   * API, must be read back byte for byte ("PROD-2 " is not "PROD-2").
   */
  exact?: boolean;
}

export interface IdRow {
  /** 1-based line in the file where the row ends (CSV quoted fields may span lines). */
  line: number;
  /** The ID (trimmed, unless the spec is exact); not yet validated. */
  id: string;
}

/** What pass one learns about the file's layout while reading it. */
export interface IdFileLayout {
  /** CSV: the header of the column the IDs were read from. */
  column?: string;
  /** Text: line 1 was a header such as `order_id`, not an ID. */
  headerLine?: string;
}

/** Header names, compared without case, spaces, `_` or `-`: the order ID column, then a bare `id`. */
const ORDER_ID_HEADERS = new Set(['orderid']);
const ID_HEADERS = new Set(['id']);
const headerKey = (name: string) => name.trim().toLowerCase().replace(/[\s_-]+/g, '');

/** `--format` if given, else `.csv` means CSV and anything else one ID per line. */
export function idFileFormat(path: string, format?: string): IdFileFormat {
  if (format === 'csv' || format === 'text') return format;
  if (format !== undefined) throw usageError(`--format must be csv or text, got ${quoted(format)}`);
  return /\.csv$/i.test(path) ? 'csv' : 'text';
}

/**
 * Streams the rows of an ID file in batches, feeding every byte read to `hash` on the way. File errors,
 * encodings other than UTF-8 and CSV syntax errors become usage errors naming the file (and the line,
 * where the parser knows it). `layout` is filled in as the file is read. A pipe (`--ids <(generate-ids)`,
 * a FIFO) is read without blocking the process: `signal` ends the wait for its writer, throwing its reason.
 */
export async function* readIdRows(spec: IdFileSpec, hash?: ReturnType<typeof createHash>, layout: IdFileLayout = {}, signal?: AbortSignal): AsyncGenerator<IdRow[]> {
  let input: Readable | undefined;
  try {
    input = openInputFile(spec.path, signal);
    const bytes = input.pipe(inspectBytes(hash));
    input.on('error', (error) => bytes.destroy(error));
    yield* spec.format === 'csv' ? csvRows(bytes, spec, layout) : textRows(bytes, spec, layout);
  } catch (error) {
    signal?.throwIfAborted();
    throw usageError(`${spec.path}: ${describeReadError(error)}`);
  } finally {
    input?.destroy();
  }
}

async function* textRows(bytes: Readable, spec: IdFileSpec, layout: IdFileLayout): AsyncGenerator<IdRow[]> {
  let line = 0;
  let first = true;
  for await (const batch of lineBatches(bytes)) {
    const rows: IdRow[] = [];
    for (const raw of batch) {
      line++;
      const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      const id = spec.exact ? text : text.trim();
      if (id === '' || id.startsWith('#')) continue;
      // A list exported with its header (`order_id`) must not send the header as an ID.
      if (first && (ORDER_ID_HEADERS.has(headerKey(id)) || ID_HEADERS.has(headerKey(id)))) layout.headerLine = id;
      else rows.push({ line, id });
      first = false;
    }
    yield rows;
  }
}

const CSV_BATCH = 1000;

async function* csvRows(bytes: Readable, spec: IdFileSpec, layout: IdFileLayout): AsyncGenerator<IdRow[]> {
  const parser = bytes.pipe(
    parseCsv({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true, max_record_size: MAX_LINE_LENGTH }),
  );
  bytes.on('error', (error) => parser.destroy(error));
  let column = -1;
  let rows: IdRow[] = [];
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    if (record.every((field) => field.trim() === '')) continue;
    if (column < 0) {
      column = idColumn(record, spec);
      layout.column = (record[column] as string).trim();
      continue;
    }
    const cell = record[column] ?? '';
    rows.push({ line: info.lines, id: spec.exact ? cell : cell.trim() });
    if (rows.length >= CSV_BATCH) {
      yield rows;
      rows = [];
    }
  }
  if (rows.length > 0) yield rows;
  if (column < 0) throw new Error('the file is empty: a CSV needs a header row naming the order ID column');
}

/**
 * The column holding the IDs: --column, else the order ID column (order_id, orderId, "Order ID", …), else
 * a column named id. Two columns that fit equally well are ambiguous: refused rather than guessed, since
 * the other one may hold row numbers or parent orders.
 */
function idColumn(header: string[], spec: IdFileSpec): number {
  const keys = header.map(headerKey);
  const indexesOf = (fits: (key: string) => boolean) => keys.flatMap((key, i) => (fits(key) ? [i] : []));
  const shownHeader = quoted(header.join(','), 200);
  const candidates = spec.column === undefined
    ? [indexesOf((key) => ORDER_ID_HEADERS.has(key)), indexesOf((key) => ID_HEADERS.has(key))].find((found) => found.length > 0) ?? []
    : indexesOf((key) => key === headerKey(spec.column as string));
  if (candidates.length === 1) return candidates[0] as number;
  if (candidates.length > 1) {
    const named = candidates.map((i) => `${quoted(header[i] as string, 60)} (column ${i + 1})`).join(' and ');
    throw new Error(`line 1: the order ID column is ambiguous: ${named}${spec.column === undefined ? '; name the one to use with --column, or' : ';'} ` +
      'rename the other in the file');
  }
  const wanted = spec.column === undefined ? 'order_id, orderId, order id or id' : quoted(spec.column);
  throw new Error(`line 1: no ID column: expected a header named ${wanted}; the header is ${shownHeader}` +
    (spec.column === undefined ? '; name the column with --column' : ''));
}

/** Hashes the bytes on their way, and refuses UTF-16 (and binary) input before it is read as IDs. */
function inspectBytes(hash: ReturnType<typeof createHash> | undefined): Transform {
  let first = true;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (first) {
        first = false;
        const utf16 = (chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff);
        if (utf16 || chunk.subarray(0, 4096).includes(0)) {
          done(Object.assign(new Error(`the file is ${utf16 ? 'UTF-16' : 'not text (it holds NUL bytes; UTF-16 without a byte-order mark?)'}: ` +
            'save it as UTF-8 (in Excel: "CSV UTF-8"; in PowerShell: Out-File -Encoding utf8)'), { code: 'ENCODING' }));
          return;
        }
      }
      hash?.update(chunk);
      done(null, chunk);
    },
  });
}

function describeReadError(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { code?: string };
  if (e.code === 'ENCODING') return e.message;
  if (typeof e.code === 'string' && e.code.startsWith('CSV_')) return `CSV syntax error: ${quoted(e.message, 300).slice(1, -1)}`;
  if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return describeFileError(error);
  return e.message ?? String(error);
}
