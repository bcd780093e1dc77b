import { describe, expect, test } from '@jest/globals';
import { CleanupError } from '../src/common/errors.js';
import { manifestColumns, orderMatcher, readFilter } from '../src/sources/filter-spec.js';
import { workDir, writeFile } from './helpers/cli.js';

const filterOf = (data: unknown) => readFilter(writeFile(workDir(), 'f.json', JSON.stringify(data)));
const problemsOf = (data: unknown) => {
  try {
    filterOf(data);
    return '';
  } catch (error) {
    expect((error as CleanupError).exitCode).toBe(2);
    return (error as CleanupError).message;
  }
};

describe('filter files', () => {
  test('every criterion must hold; a list means any of its values; statuses ignore case', () => {
    const matches = orderMatcher(filterOf({ match: { status: ['active'], accountId: ['A-1', 'B-2'], customAttributes: { test_data: 'yes' } } }));
    const order = { id: 'ORD-1', status: 'ACTIVE', account_id: 'B-2', custom_attributes: [{ name: 'test_data', value: 'yes' }] };
    expect(matches(order)).toBe(true);
    expect(matches({ ...order, account_id: 'C-3' })).toBe(false);
    expect(matches({ ...order, custom_attributes: [{ name: 'test_data', value: 'YES' }] })).toBe(false);
    expect(matches({ ...order, custom_attributes: undefined })).toBe(false);
  });

  test('dates compare as instants; an order without the date does not match', () => {
    const matches = orderMatcher(filterOf({ match: { createdAfter: '2026-01-01T10:00:00+10:00', createdBefore: '2026-02-01' } }));
    expect(matches({ id: 'a', created_on: '2026-01-01T00:00:01Z' })).toBe(true);
    expect(matches({ id: 'a', created_on: '2026-01-01T00:00:00Z' })).toBe(false);
    expect(matches({ id: 'a', created_on: '2026-02-01T00:00:00Z' })).toBe(false);
    expect(matches({ id: 'a' })).toBe(false);
  });

  test('matchAll selects everything, and only when said', () => {
    expect(orderMatcher(filterOf({ matchAll: true, match: {} }))({ id: 'x' })).toBe(true);
    expect(problemsOf({ match: {} })).toContain('"matchAll": true');
    expect(problemsOf({ matchAll: false, match: {} })).toContain('matchAll');
  });

  test.each([
    [{ match: { stauts: ['A'] } }, 'match.stauts: unknown key (did you mean "status"?)'],
    [{ match: { status: 'ACTIVE' } }, 'match.status: Invalid input: expected array'],
    [{ match: { status: [] } }, 'match.status: expected at least one value'],
    [{ match: { createdBefore: '2026-07-01T00:00:00' } }, 'match.createdBefore: expected an ISO 8601'],
    [{ match: { createdBefore: '2026-02-30' } }, 'match.createdBefore'],
    [{ match: { idPattern: '[' } }, 'match.idPattern: not a valid regular expression'],
    [{ match: { customAttributes: { test_data: 1 } } }, 'match.customAttributes.test_data'],
    [{ match: { status: ['A'] }, pageSize: 0 }, 'pageSize'],
    [{ match: { status: ['A'] }, filter: 'x' }, 'filter: unknown key'],
    [[], '(top level)'],
  ])('%j is refused: %s', (data, message) => {
    expect(problemsOf(data)).toContain(message);
  });

  test('an unreadable or non-JSON file is exit 2 naming it', () => {
    expect(() => readFilter('/nonexistent.json')).toThrow('--filter /nonexistent.json: no such file');
    const path = writeFile(workDir(), 'bad.json', '{ match: }');
    expect(() => readFilter(path)).toThrow(`--filter ${path}: not valid JSON`);
  });

  test('the manifest has order_id, then the fields the criteria read', () => {
    const columns = manifestColumns(filterOf({ match: { status: ['A'], createdBefore: '2026-01-01', createdAfter: '2025-01-01', customAttributes: { t: 'y' } } }));
    expect(columns.map(([name]) => name)).toEqual(['order_id', 'status', 'created_on', 'custom:t']);
  });
});
