import { createHash } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { CleanupError } from '../src/common/errors.js';
import { IdSet } from '../src/common/id-set.js';
import { idFileFormat, readIdRows, type IdFileSpec } from '../src/sources/id-file.js';
import { orderIdValidator } from '../src/sources/order-id.js';
import { scanSource } from '../src/sources/scan.js';
import { workDir, writeFile } from './helpers/cli.js';

const rowsOf = async (spec: IdFileSpec) => {
  const rows = [];
  for await (const batch of readIdRows(spec)) rows.push(...batch);
  return rows;
};
const csv = (text: string, column?: string): IdFileSpec => ({ path: writeFile(workDir(), 'ids.csv', text), format: 'csv', column });
const text = (body: string): IdFileSpec => ({ path: writeFile(workDir(), 'ids.txt', body), format: 'text' });

describe('reading ID files', () => {
  test('format: .csv is CSV (any case), everything else one ID per line, unless --format says', () => {
    expect(idFileFormat('a.CSV')).toBe('csv');
    expect(idFileFormat('a.txt')).toBe('text');
    expect(idFileFormat('a.txt', 'csv')).toBe('csv');
    expect(() => idFileFormat('a', 'xml')).toThrow(CleanupError);
  });

  test('CSV: BOM, CRLF, quoted fields with commas, quotes and newlines, extra columns, blank and empty rows', async () => {
    const rows = await rowsOf(csv('\uFEFFname,ORDER_ID,x\r\n"a, b", ORD-1 ,1\r\n\r\n"multi\nline",ORD-2\r\n,,\r\n"say ""hi""","ORD-3",9,extra\r\n'));
    expect(rows).toEqual([{ line: 2, id: 'ORD-1' }, { line: 5, id: 'ORD-2' }, { line: 7, id: 'ORD-3' }]);
  });

  test.each([['orderId'], ['Order ID'], ['id'], [' order_id ']])('CSV: finds the ID column named %j', async (header) => {
    expect(await rowsOf(csv(`other,${header}\nx,ORD-9\n`))).toEqual([{ line: 2, id: 'ORD-9' }]);
  });

  test('CSV: the order ID column wins over a bare id column; --column names another', async () => {
    expect((await rowsOf(csv('id,order_id\n1,ORD-1\n')))[0]?.id).toBe('ORD-1');
    expect((await rowsOf(csv('id,Ref\n1,ORD-1\n', 'ref')))[0]?.id).toBe('ORD-1');
  });

  test('CSV: a row with an empty ID cell is kept, so that validation reports it', async () => {
    expect(await rowsOf(csv('order_id,x\n,1\n'))).toEqual([{ line: 2, id: '' }]);
  });

  test('CSV: no ID column, an empty file and broken quoting are usage errors naming the file', async () => {
    const noColumn = csv('ref,name\n1,2\n');
    await expect(rowsOf(noColumn)).rejects.toThrow(`${noColumn.path}: line 1: no ID column`);
    await expect(rowsOf(csv(''))).rejects.toThrow(/the file is empty/);
    await expect(rowsOf(csv('order_id\n"ORD-1\n'))).rejects.toThrow(/CSV syntax error/);
  });

  test('text: one ID per line, trimmed; blank lines and # comments skipped; CRLF and BOM handled', async () => {
    expect(await rowsOf(text('\uFEFF# header\r\nORD-1\r\n\r\n  ORD-2\t\r\n   # indented comment\nORD-3'))).toEqual([
      { line: 2, id: 'ORD-1' }, { line: 4, id: 'ORD-2' }, { line: 6, id: 'ORD-3' },
    ]);
  });

  test('a missing file is a usage error naming it', async () => {
    const spec = { path: '/nonexistent/ids.txt', format: 'text' as const };
    await expect(rowsOf(spec)).rejects.toThrow('/nonexistent/ids.txt: no such file');
  });
});

describe('pass one: scanSource', () => {
  const validate = orderIdValidator();

  test('deduplicates in file order, counts rows, hashes the bytes, skips finished IDs', async () => {
    const body = 'ORD-1\nORD-2\nORD-1\nORD-3\nORD-2\n';
    const scanned = await scanSource(text(body), validate, { finished: new IdSet(['ORD-2']) });
    expect([...scanned.pending]).toEqual(['ORD-1', 'ORD-3']);
    expect(scanned).toMatchObject({ rows: 5, unique: 3, duplicates: 2, skipped: 1 });
    expect(scanned.sha256).toBe(createHash('sha256').update(body).digest('hex'));
  });

  test('reports the first 20 invalid rows with line and reason, then a count', async () => {
    const lines = ['ORD-OK', ...Array.from({ length: 23 }, (_, i) => `bad id ${i}`)];
    const spec = text(lines.join('\n'));
    const error = await scanSource(spec, validate).catch((e: unknown) => e as CleanupError);
    expect(error).toBeInstanceOf(CleanupError);
    expect((error as CleanupError).exitCode).toBe(2);
    const message = (error as CleanupError).message;
    expect(message).toContain(`${spec.path}: 23 invalid order ID rows; nothing was sent`);
    expect(message).toContain('line 2: contains whitespace: "bad id 0"');
    expect(message).toContain('line 21: contains whitespace');
    expect(message).not.toContain('line 22:');
    expect(message).toContain('… and 3 more invalid rows');
  });

  test('an input with no IDs is not an error: there is nothing to do', async () => {
    expect((await scanSource(text('# nothing\n'), validate)).unique).toBe(0);
  });
});
