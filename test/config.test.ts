import { describe, expect, test } from '@jest/globals';
import { DEFAULTS, durationMs, resolveRunOptions, type RunFlags } from '../src/config.js';

const flags = (extra: Partial<RunFlags> = {}): RunFlags => ({ ...DEFAULTS, ids: 'x.txt', allowHost: [], ...extra });
const env = { EXSITED_ACCESS_TOKEN: 'token-123456789' };

describe('resolveRunOptions', () => {
  test('defaults, then the environment, then flags', () => {
    const options = resolveRunOptions(flags({ allowHost: ['a.example'] }), { ...env, EXSITED_BASE_URL: 'https://api-stage.exsited.com', EXSITED_ALLOWED_HOSTS: ' b.example , ,c.example' });
    expect(options).toMatchObject({ concurrency: 8, retries: 5, timeoutMs: 30000, graceMs: 10000, haltAfter: 25, baseUrl: 'https://api-stage.exsited.com' });
    expect(options.rps).toBeUndefined();
    expect(options.allowedHosts).toEqual(expect.arrayContaining(['dev-api.exsited.com', 'b.example', 'c.example', 'a.example']));
    expect(resolveRunOptions(flags({ baseUrl: 'http://localhost:1' }), { ...env, EXSITED_BASE_URL: 'https://x' }).baseUrl).toBe('http://localhost:1');
  });

  test('a pre-issued token wins over client credentials', () => {
    const client = { EXSITED_CLIENT_ID: 'a', EXSITED_CLIENT_SECRET: 'secret-0123456789', EXSITED_REDIRECT_URI: 'c' };
    expect(resolveRunOptions(flags(), { ...env, ...client }).credentials.kind).toBe('access_token');
    expect(resolveRunOptions(flags(), client).credentials.kind).toBe('client_credentials');
  });

  test.each([
    [{ concurrency: '1.5' }, '--concurrency'], [{ retries: '-1' }, '--retries'], [{ rps: '0' }, '--rps'], [{ rps: 'fast' }, '--rps'],
    [{ maxDuration: '45 minutes' }, '--max-duration'], [{ resume: true, ids: undefined }, '--resume needs --audit-log'], [{ ids: undefined }, '--ids'],
  ])('%j is a usage error', (extra, message) => {
    expect(() => resolveRunOptions(flags(extra as Partial<RunFlags>), env)).toThrow(message);
  });
});

describe('durationMs', () => {
  test.each([['45m', 2_700_000], ['1h30m', 5_400_000], ['90s', 90_000], ['500ms', 500], ['2', 2000], ['1.5h', 5_400_000]])('%s', (text, ms) => {
    expect(durationMs('--max-duration', text)).toBe(ms);
  });
  test.each(['', '0s', 'm', '45x', '1h 30m', '-5m'])('refuses %j', (text) => {
    expect(() => durationMs('--max-duration', text)).toThrow('--max-duration must be a duration');
  });
});
