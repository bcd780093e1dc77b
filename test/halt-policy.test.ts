import { describe, expect, test } from '@jest/globals';
import type { OrderRecord } from '../src/common/records.js';
import { HaltPolicy } from '../src/engine/halt-policy.js';

let next = 0;
const failed = (httpStatus: number | null, code = httpStatus === null ? 'ECONNREFUSED' : `HTTP_${httpStatus}`): OrderRecord =>
  ({ orderId: `ORD-${++next}`, outcome: 'failed', httpStatus, attempts: 1, durationMs: 1, error: { code, message: 'no' } });
const deleted = (): OrderRecord => ({ orderId: `ORD-${++next}`, outcome: 'deleted', httpStatus: 204, attempts: 1, durationMs: 1 });

describe('HaltPolicy', () => {
  test('halts when --halt-after failures in a row share one cause, naming it', () => {
    const policy = new HaltPolicy(3);
    expect(policy.observe(failed(403))).toBeUndefined();
    expect(policy.observe(failed(403))).toBeUndefined();
    expect(policy.near()).toBe(true);
    expect(policy.observe(failed(403))).toMatch(/^3 orders in a row failed with HTTP 403 \(last: ORD-\d+: no\)/);
  });

  test('failures in a row with causes that change are no streak: another cause starts a new one', () => {
    const policy = new HaltPolicy(3);
    const causes = [failed(403), failed(404), failed(503), failed(403), failed(422, 'LOCKED'), failed(422), failed(429), failed(500, 'SERVER_BUSY'), failed(409)];
    expect(causes.map((record) => policy.observe(record))).toEqual(Array(causes.length).fill(undefined));
    expect(policy.near()).toBe(false);
    expect(policy.observe(failed(409))).toBeUndefined();
    expect(policy.near()).toBe(true);
    expect(policy.observe(failed(409))).toMatch(/^3 orders in a row failed with HTTP 409 \(last/);
  });

  test('a service not serving is one cause however it shows: 5xx, 408 and no answer, in any mix, are one streak, each named (red team: a dying service was never halted)', () => {
    const policy = new HaltPolicy(5);
    const mix = [failed(502), failed(null, 'ECONNRESET'), failed(502), failed(408)];
    expect(mix.map((record) => policy.observe(record))).toEqual(Array(mix.length).fill(undefined));
    expect(policy.near()).toBe(true);
    expect(policy.observe(failed(null, 'ETIMEDOUT'))).toMatch(
      /^5 orders in a row failed with the service not serving: HTTP 502 \(2\), no response \(ECONNRESET\) \(1\), HTTP 408 \(1\), no response \(ETIMEDOUT\) \(1\) \(last: ORD-\d+: no\)/);
    // a server that words every 5xx its own way: five causes named, the rest counted (the reason does not grow with --halt-after)
    const worded = new HaltPolicy(30);
    const reasons = Array.from({ length: 30 }, (_, i) => worded.observe(failed(503, `E${'X'.repeat(90)}${i}`)));
    expect(reasons.at(-1)).toMatch(/^30 orders in a row failed with the service not serving: (HTTP 503 EX+\d+ \(1\), ){5}25 other causes \(25\) \(last/);
    expect((reasons.at(-1) as string).length).toBeLessThan(900);
    // a 4xx of the orders' own breaks it, and the words start again
    const again = new HaltPolicy(2);
    expect([failed(503), failed(403), failed(503)].map((record) => again.observe(record))).toEqual([undefined, undefined, undefined]);
    expect(again.observe(failed(503))).toMatch(/^2 orders in a row failed with HTTP 503 \(last/);
  });

  test('a proxy\'s pages where the API\'s answers were due (NOT_THE_API: a 404 page, a 200 page) are the service not served too, mixed with 5xx (second red team: never halted)', () => {
    const policy = new HaltPolicy(4);
    const mix = [failed(404, 'NOT_THE_API'), failed(503), failed(200, 'NOT_THE_API')];
    expect(mix.map((record) => policy.observe(record))).toEqual([undefined, undefined, undefined]);
    expect(policy.observe(failed(503))).toMatch(/^4 orders in a row failed with the service not serving: HTTP 503 \(2\), HTTP 404 NOT_THE_API \(1\), HTTP 200 NOT_THE_API \(1\)/);
  });

  test('any other outcome breaks the streak', () => {
    const policy = new HaltPolicy(2);
    expect([failed(403), deleted(), failed(403), deleted()].map((record) => policy.observe(record))).toEqual(Array(4).fill(undefined));
    expect(policy.near()).toBe(false);
  });

  test('0 never halts, and is never near', () => {
    const policy = new HaltPolicy(0);
    for (let i = 0; i < 100; i++) expect(policy.observe(failed(403))).toBeUndefined();
    expect(policy.near()).toBe(false);
  });
});
