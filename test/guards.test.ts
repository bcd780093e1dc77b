import { describe, expect, test } from '@jest/globals';
import type { SourceRecord } from '../src/common/records.js';
import { exceedsMaxDeletes, selectsEverything } from '../src/guards/limits.js';

const SHA = 'a'.repeat(64);
const filterSource = (listed: number, selected: number, filter: Partial<NonNullable<SourceRecord['filter']>> = {}): SourceRecord => ({
  kind: 'filter', path: 'm.csv', sha256: SHA, count: selected, listed, selected,
  filter: { path: 'f.json', sha256: SHA, match: {}, matchAll: false, scope: 'all', ...filter },
});

describe('--max-deletes', () => {
  test('refuses only above the limit, saying by how much (the next step gives the command that raises it)', () => {
    expect(exceedsMaxDeletes(10, 10)).toBeUndefined();
    expect(exceedsMaxDeletes(11, 10)).toBe('11 orders are selected, more than --max-deletes 10: nothing was deleted');
  });
});

describe('a filter that selects every order it listed', () => {
  test.each([
    ['all of the whole listing', filterSource(40, 40), true],
    ['all but one', filterSource(40, 39), false],
    ['all, but the filter says matchAll', filterSource(40, 40, { matchAll: true }), false],
    ['all of the accounts named (they may be every account: issue 21, case 17)', filterSource(40, 40, { scope: 'accounts' }), true],
    ['all but one of the accounts named', filterSource(40, 39, { scope: 'accounts' }), false],
    ['an empty listing', filterSource(0, 0), false],
    ['a log written before scope and selected were recorded', { ...filterSource(40, 40, { scope: undefined }), selected: undefined }, true],
    ['such a log of one account\'s orders', { ...filterSource(40, 40, { scope: undefined, match: { accountId: ['A'] } }), selected: undefined }, true],
  ])('%s', (_name, source, refused) => {
    expect(selectsEverything(source, 'dev-api.exsited.com') !== undefined).toBe(refused);
  });

  test('IDs from a file are never this case', () => {
    expect(selectsEverything({ kind: 'csv', path: 'x.csv', sha256: SHA, count: 5 }, 'h')).toBeUndefined();
  });
});
