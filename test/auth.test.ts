import { afterEach, describe, expect, test } from '@jest/globals';
import { Backoff } from '../src/engine/backoff.js';
import { RetryPolicy } from '../src/engine/retry-policy.js';
import { secrets } from '../src/common/secrets.js';
import { TokenError, TokenSource } from '../src/exsited/auth.js';
import { createHttpClient, destroyAgents } from '../src/exsited/http.js';
import { DEMO_CLIENT, type FakeExsited } from '../src/fake-exsited/server.js';
import { fakeApi } from './helpers/cli.js';

let fake: FakeExsited | undefined;
const clients: Array<ReturnType<typeof createHttpClient>> = [];
afterEach(async () => {
  clients.splice(0).forEach(destroyAgents);
  await fake?.close();
});

const noWait = new RetryPolicy(new Backoff({ retries: 2, baseMs: 1, capMs: 1, sleep: async () => undefined }), new AbortController().signal);
const creds = (clientSecret = DEMO_CLIENT.clientSecret) => ({ kind: 'client_credentials' as const, ...DEMO_CLIENT, clientSecret });
const waits: number[] = [];
function tokenSource(api: FakeExsited, credentials = creds(), now = Date.now) {
  const http = createHttpClient({ baseUrl: new URL(api.url), concurrency: 4, timeoutMs: 2000 });
  clients.push(http);
  waits.length = 0;
  return new TokenSource(http, credentials, (attempt) => noWait.run(attempt), { now, sleep: async (ms) => void waits.push(ms) });
}
/** A clock that starts now and moves only when told. */
const clock = () => {
  const c = { now: Date.now(), read: () => c.now };
  return c;
};

describe('TokenSource against the fake token endpoint', () => {
  test('one grant serves every caller; a 401 from many workers triggers one renewal, by refresh token', async () => {
    fake = (await fakeApi(1)).fake;
    const time = clock();
    const tokens = tokenSource(fake, creds(), time.read);
    const first = await Promise.all(Array.from({ length: 10 }, () => tokens.get()));
    expect(new Set(first).size).toBe(1);
    time.now += 20 * 60_000; // late enough in its hour that a 401 is not another client's doing
    for (let i = 0; i < 10; i++) tokens.refused(first[0] as string);
    const second = await Promise.all(Array.from({ length: 10 }, () => tokens.get()));
    expect(new Set(second).size).toBe(1);
    expect(second[0]).not.toBe(first[0]);
    expect(fake.tokenRequests.map((t) => t.grant)).toEqual(['client_credentials', 'refresh_token']);
    tokens.refused(first[0] as string); // a late 401 for the old token changes nothing
    expect(await tokens.get()).toBe(second[0]);
    expect(waits).toEqual([]);
  });

  test('a token refused three times in a row moments after it was issued: renewed after a wait, by a new grant (the refresh token died with it)', async () => {
    fake = (await fakeApi(1)).fake;
    const notices: string[] = [];
    const http = createHttpClient({ baseUrl: new URL(fake.url), concurrency: 4, timeoutMs: 2000 });
    clients.push(http);
    const slept: number[] = [];
    const tokens = new TokenSource(http, creds(), (attempt) => noWait.run(attempt), { sleep: async (ms) => void slept.push(ms), onNotice: (text) => notices.push(text) });
    const first = await tokens.get();
    tokens.refused(first);
    tokens.refused(first);
    expect(await tokens.get()).toBe(first); // two 401s in a row may be a glitch: the request is resent with it
    tokens.accepted(first);
    tokens.refused(first);
    tokens.refused(first);
    expect(await tokens.get()).toBe(first); // a good answer in between began the count again
    tokens.refused(first);
    expect(await tokens.get()).not.toBe(first);
    expect(slept).toEqual([1000]);
    expect(fake.tokenRequests.map((t) => t.grant)).toEqual(['client_credentials', 'client_credentials']);
    expect(notices).toEqual([expect.stringMatching(/obtained (\d+ ms|0 s) ago \(401\): another client may be using these credentials; renewing in 1 s/)]);
  });

  test('every token issued is known to the scrubber at once, access and refresh alike', async () => {
    fake = (await fakeApi(1)).fake;
    const token = await tokenSource(fake).get();
    const [access, refresh] = fake.issuedTokens;
    expect(access).toBe(token);
    expect(secrets.scrub(`a ${access as string} b ${refresh as string} c`)).toBe('a [REDACTED] b [REDACTED] c');
  });

  test('renews ahead of expiry (at 80% of expires_in)', async () => {
    fake = (await fakeApi(1, { tokenTtlS: 100 })).fake;
    let now = 1_000_000;
    const tokens = tokenSource(fake, creds(), () => now);
    const first = await tokens.get();
    now += 79_000;
    expect(await tokens.get()).toBe(first);
    now += 2_000;
    expect(await tokens.get()).not.toBe(first);
  });

  test('a refused refresh falls back to a new client-credentials grant', async () => {
    fake = (await fakeApi(1)).fake;
    const time = clock();
    const tokens = tokenSource(fake, creds(), time.read);
    const first = await tokens.get();
    time.now += 20 * 60_000;
    tokens.refused(first);
    const api = fake;
    const refresh = api.tokenRequests.length;
    // spend the refresh token behind the source's back, so that its refresh is refused
    const used = api.issuedTokens[1] as string;
    await fetch(`${api.url}/api/v1/oauth2/token`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: used, client_id: DEMO_CLIENT.clientId, client_secret: DEMO_CLIENT.clientSecret, redirect_uri: DEMO_CLIENT.redirectUri }),
    });
    expect(await tokens.get()).not.toBe(first);
    expect(api.tokenRequests.slice(refresh).map((t) => [t.grant, t.status])).toEqual([
      ['refresh_token', 200], ['refresh_token', 400], ['client_credentials', 200],
    ]);
  });

  test('wrong credentials are a rejection, an unreachable endpoint is not', async () => {
    fake = (await fakeApi(1)).fake;
    const rejected = await tokenSource(fake, creds('nope-nope-nope')).get().catch((e: unknown) => e as TokenError);
    expect(rejected).toBeInstanceOf(TokenError);
    expect((rejected as TokenError).kind).toBe('rejected');
    expect((rejected as TokenError).message).not.toContain('nope-nope-nope');
    // Port 9 (discard): nothing listens there — a closed fake's port may be taken by another test's fake on a busy machine.
    const unreachable = await tokenSource({ url: 'http://127.0.0.1:9' } as FakeExsited).get().catch((e: unknown) => e as TokenError);
    expect(unreachable).toBeInstanceOf(TokenError);
    expect((unreachable as TokenError).kind).toBe('unreachable');
    expect((unreachable as TokenError).message).toMatch(/ECONNREFUSED/);
  });
});
