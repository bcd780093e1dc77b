import { describe, expect, test } from '@jest/globals';
import { orderPath } from '../src/exsited/orders.js';
import { orderIdValidator } from '../src/sources/order-id.js';

describe('order ID validation', () => {
  const isInvalid = orderIdValidator();

  test.each(['ORD-KZ558V-0006', 'ORD-Y1B8-000-0133', 'CSV-ORD-000123', 'a', '9_x', 'A'.repeat(100)])('accepts %s', (id) => {
    expect(isInvalid(id)).toBeUndefined();
  });

  test.each([
    ['', 'empty order ID'],
    ['.', 'relative path segment'],
    ['..', 'relative path segment'],
    ['ORD/1', 'path separator'],
    ['ORD\\1', 'path separator'],
    ['ORD?x=1', '? or #'],
    ['ORD#1', '? or #'],
    ['ORD%2F1', 'contains %'],
    ['ORD 1', 'whitespace'],
    ['ORD\u00a01', 'whitespace'],
    ['ORD\u00001', 'control character'],
    ['ORD\u009b1', 'control character'],
    ['-ORD', 'does not match'],
    ['_ORD', 'does not match'],
    ['ORD.1', 'does not match'],
    ['ORD:1', 'does not match'],
    ['A'.repeat(101), 'longer than 100'],
  ])('refuses %j (%s)', (id, reason) => {
    expect(isInvalid(id)).toContain(reason);
  });

  test('a custom pattern widens the shape but never lets path-changing characters through', () => {
    const wide = orderIdValidator('.+');
    expect(wide('ORD:1.2')).toBeUndefined();
    expect(wide('A'.repeat(500))).toBeUndefined();
    for (const id of ['a/b', '..', '.', 'a?b', 'a#b', 'a%41', 'a b', 'a\tb', 'a\\b']) expect(wide(id)).toBeDefined();
    expect(wide('A'.repeat(1025))).toContain('longer than 1024');
  });

  test('a custom pattern is anchored', () => {
    expect(orderIdValidator('ORD-\\d+')('xORD-1x')).toContain('does not match');
  });

  test('a bad --id-pattern is a usage error', () => {
    expect(() => orderIdValidator('(')).toThrow(/--id-pattern is not a valid regular expression/);
  });

  test('IDs are percent-encoded into one path segment', () => {
    expect(orderPath('ORD-KZ558V-0006')).toBe('/api/v3/orders/ORD-KZ558V-0006');
    expect(orderPath('ORD:Ä+1')).toBe('/api/v3/orders/ORD%3A%C3%84%2B1');
  });
});
