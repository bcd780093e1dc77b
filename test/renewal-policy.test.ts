import { describe, expect, test } from '@jest/globals';
import { RenewalPolicy } from '../src/exsited/renewal-policy.js';

const HOUR = 3_600_000;

describe('RenewalPolicy', () => {
  test('a token refused late in its life (revoked, expired early) is renewed at once, as the SDKs do, however often', () => {
    let now = 0;
    const policy = new RenewalPolicy(() => now);
    for (let i = 0; i < 10; i++) {
      const issuedAt = now;
      now += 0.2 * HOUR;
      expect(policy.refused(issuedAt, HOUR)).toEqual({ kind: 'renew', waitMs: 0, contested: false });
    }
  });

  test('a token refused moments after it was issued: renewed after 1 s, then 2 s; the third in a row halts, naming the cause and the fix', () => {
    let now = 0;
    const policy = new RenewalPolicy(() => now);
    now = 300;
    expect(policy.refused(0, HOUR)).toEqual({ kind: 'renew', waitMs: 1000, contested: true });
    now += 1000 + 200;
    expect(policy.refused(now - 200, HOUR)).toEqual({ kind: 'renew', waitMs: 2000, contested: true });
    now += 2000 + 200;
    const third = policy.refused(now - 200, HOUR);
    expect(third).toMatchObject({ kind: 'halt' });
    expect(third.kind === 'halt' && third.message).toMatch(/another client is using these credentials.*its own API client.*--token-cache.*one at a time$/);
  });

  test('a token that lives out its life, or is refused late, ends the streak', () => {
    let now = 0;
    const policy = new RenewalPolicy(() => now);
    now = 100;
    policy.refused(0, HOUR);
    policy.refused(50, HOUR);
    policy.aged();
    expect(policy.refused(now - 10, HOUR)).toMatchObject({ kind: 'renew', waitMs: 1000 });
    now += HOUR;
    expect(policy.refused(now - 0.5 * HOUR, HOUR)).toMatchObject({ kind: 'renew', waitMs: 0 });
    expect(policy.refused(now - 10, HOUR)).toMatchObject({ kind: 'renew', waitMs: 1000 });
  });

  test('young is a share of the lifetime: with 1-second tokens, a refusal 0.5 s in is not young', () => {
    let now = 0;
    const policy = new RenewalPolicy(() => now);
    now = 500;
    expect(policy.refused(0, 1000)).toMatchObject({ kind: 'renew', waitMs: 0, contested: false });
    now = 550;
    expect(policy.refused(500, 1000)).toMatchObject({ kind: 'renew', waitMs: 1000, contested: true });
  });
});
