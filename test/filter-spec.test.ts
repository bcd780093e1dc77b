import { describe, expect, test } from '@jest/globals';
import { CleanupError } from '../src/common/errors.js';
import { manifestColumns, orderMatcher, readFilter } from '../src/sources/filter-spec.js';
import { workDir, writeFile } from './helpers/cli.js';

const filterOf = (data: unknown) => readFilter(writeFile(workDir(), 'f.json', JSON.stringify(data)));
const problemsOf = async (data: unknown) => {
  try {
    await filterOf(data);
    return '';
  } catch (error) {
    expect((error as CleanupError).exitCode).toBe(2);
    return (error as CleanupError).message;
  }
};

describe('filter files', () => {
  test('every criterion must hold; a list means any of its values; statuses ignore case', async () => {
    const matches = orderMatcher(await filterOf({ match: { status: ['active'], accountId: ['A-1', 'B-2'], customAttributes: { test_data: 'yes' } } }));
    const order = { id: 'ORD-1', status: 'ACTIVE', account_id: 'B-2', custom_attributes: [{ name: 'test_data', value: 'yes' }] };
    expect(matches(order)).toBe(true);
    expect(matches({ ...order, account_id: 'C-3' })).toBe(false);
    expect(matches({ ...order, custom_attributes: [{ name: 'test_data', value: 'YES' }] })).toBe(false);
    expect(matches({ ...order, custom_attributes: undefined })).toBe(false);
  });

  test('dates compare as instants; an order without the date does not match', async () => {
    const matches = orderMatcher(await filterOf({ match: { createdAfter: '2026-01-01T10:00:00+10:00', createdBefore: '2026-02-01' } }));
    expect(matches({ id: 'a', created_on: '2026-01-01T00:00:01Z' })).toBe(true);
    expect(matches({ id: 'a', created_on: '2026-01-01T00:00:00Z' })).toBe(false);
    expect(matches({ id: 'a', created_on: '2026-02-01T00:00:00Z' })).toBe(false);
    expect(matches({ id: 'a' })).toBe(false);
  });

  test('matchAll selects everything, and only when said', async () => {
    expect(orderMatcher(await filterOf({ matchAll: true, match: {} }))({ id: 'x' })).toBe(true);
    expect(await problemsOf({ match: {} })).toContain('"matchAll": true');
    expect(await problemsOf({ matchAll: false, match: {} })).toContain('matchAll');
  });

  test.each([
    [{ match: { stauts: ['A'] } }, 'match.stauts: unknown key (did you mean "status"?)'],
    [{ match: { status: 'ACTIVE' } }, 'match.status takes a list: write ["ACTIVE"]'],
    [{ mtach: { status: ['A'] } }, 'match is missing — did you write "mtach"?'],
    [{ pageSize: 10 }, 'match is missing: the criteria go in "match"'],
    [{ match: { status: [] } }, 'match.status: expected at least one value'],
    [{ match: { createdBefore: '2026-07-01T00:00:00' } }, 'match.createdBefore: expected an ISO 8601'],
    [{ match: { createdBefore: '2026-02-30' } }, 'match.createdBefore'],
    [{ match: { idPattern: '[' } }, 'match.idPattern: not a valid regular expression'],
    [{ match: { customAttributes: { test_data: 1 } } }, 'match.customAttributes.test_data'],
    [{ match: { status: ['A'] }, pageSize: 0 }, 'pageSize'],
    [{ match: { status: ['A'] }, filter: 'x' }, 'filter: unknown key'],
    [[], '(top level)'],
  ])('%j is refused: %s', async (data, message) => {
    expect(await problemsOf(data)).toContain(message);
  });

  test('an unreadable file is exit 2 naming it; a JSON syntax error names the line and column, and what is wrong', async () => {
    await expect(readFilter('/nonexistent.json')).rejects.toThrow('--filter /nonexistent.json: no such file');
    const dir = workDir();
    const trailing = writeFile(dir, 'bad.json', '{\n  "match": {\n    "status": ["ACTIVE",]\n  }\n}\n');
    await expect(readFilter(trailing)).rejects.toThrow(`--filter ${trailing}: not valid JSON at line 3, column 25: a value was expected (a comma after the last item?)`);
    const quotes = writeFile(dir, 'q.json', "{ 'match': {} }");
    await expect(readFilter(quotes)).rejects.toThrow(/line 1, column 3: names and texts take "double quotes", not single ones/);
  });

  test('the manifest has order_id, what a person reviews it by, then the other fields the criteria read', async () => {
    const columns = manifestColumns(await filterOf({ match: { status: ['A'], createdBefore: '2026-01-01', createdAfter: '2025-01-01', customAttributes: { t: 'y' } } }));
    expect(columns.map(([name]) => name)).toEqual(['order_id', 'name', 'status', 'currency', 'total', 'created_on', 'custom:t']);
  });
});
