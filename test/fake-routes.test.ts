import { describe, expect, test } from '@jest/globals';
import type { FakeRequest, Reply } from '../src/fake-exsited/exchange.js';
import { FaultInjector, type FaultPlan } from '../src/fake-exsited/faults.js';
import type { FakeExsitedOptions } from '../src/fake-exsited/options.js';
import { generateOrders } from '../src/fake-exsited/order-store.js';
import { answerFakeState } from '../src/fake-exsited/routes/fake-state.js';
import { deleteOrder } from '../src/fake-exsited/routes/order-delete.js';
import { listOrders } from '../src/fake-exsited/routes/orders-list.js';
import { answerToken } from '../src/fake-exsited/routes/token.js';
import { DEMO_CLIENT } from '../src/fake-exsited/server.js';
import { createFakeState, type FakeState } from '../src/fake-exsited/state.js';
import { TokenStore } from '../src/fake-exsited/tokens.js';

// The routes on their own: a state built for the test, a request and a reply that records what was sent.
interface Sent {
  status: number | 'reset' | 'hang';
  body?: unknown;
  headers?: Record<string, string> | undefined;
}

function exchange(method: string, path: string, { token, body = '' }: { token?: string; body?: string } = {}) {
  const sent: Sent[] = [];
  const request: FakeRequest = {
    method, url: new URL(path, 'http://fake'), authorization: token === undefined ? undefined : `Bearer ${token}`,
    arrived: performance.now(), body: async () => body,
  };
  const reply: Reply = {
    json: (status, json, headers) => void sent.push({ status, body: json, headers }),
    error: (status, code, message, headers) => void sent.push({ status, body: { errors: [{ code, message }] }, headers }),
    text: (status, text, headers) => void sent.push({ status, body: text, headers }),
    noContent: () => void sent.push({ status: 204 }),
    reset: () => void sent.push({ status: 'reset' }),
    hang: () => void sent.push({ status: 'hang' }),
  };
  return { request, reply, sent };
}

const ORDERS = generateOrders(6, 1);
const ID = (ORDERS[0] as { id: string }).id;
const fakeState = (options: Partial<FakeExsitedOptions> = {}) => createFakeState({ orders: ORDERS, ...options });
const grantBody = (extra: Record<string, unknown> = {}) => JSON.stringify({
  grant_type: 'client_credentials', client_id: DEMO_CLIENT.clientId, client_secret: DEMO_CLIENT.clientSecret, redirect_uri: DEMO_CLIENT.redirectUri, ...extra,
});
async function token(state: FakeState, body = grantBody()) {
  const { request, reply, sent } = exchange('POST', '/api/v1/oauth2/token', { body });
  await answerToken(state, request, reply);
  return sent[0] as Sent & { body: Record<string, unknown> };
}
function del(state: FakeState, orderId: string, token?: string) {
  const { request, reply, sent } = exchange('DELETE', `/api/v3/orders/${orderId}`, token === undefined ? {} : { token });
  deleteOrder(state, request, reply, orderId);
  return sent;
}
const liveToken = (state: FakeState) => state.tokens.issue().access_token;
const message = (sent: Sent) => (sent.body as { errors: Array<{ message: string }> }).errors[0]?.message;

describe('the fake token endpoint', () => {
  test('client credentials grant a live token; its refresh token is good once', async () => {
    const state = fakeState({ tokenTtlS: 60 });
    const first = await token(state);
    expect(first).toMatchObject({ status: 200, body: { expires_in: 60, token_type: 'Bearer' } });
    expect(state.tokens.isLive(`Bearer ${String(first.body.access_token)}`)).toBe(true);
    const refreshed = await token(state, grantBody({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token }));
    expect(refreshed.status).toBe(200);
    expect(await token(state, grantBody({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token }))).toMatchObject({
      status: 400, body: { errors: [{ code: 'INVALID_GRANT' }] },
    });
    expect(state.tokenRequests).toEqual([
      { grant: 'client_credentials', status: 200 }, { grant: 'refresh_token', status: 200 }, { grant: 'refresh_token', status: 400 },
    ]);
    expect(state.tokens.issued).toEqual([first.body.access_token, first.body.refresh_token, refreshed.body.access_token, refreshed.body.refresh_token]);
  });

  test('a wrong client is refused 401, its secret echoed only by a hostile server; a body that is not JSON is a 400', async () => {
    const wrong = grantBody({ client_secret: 'not-the-secret' });
    expect(message(await token(fakeState(), wrong))).toBe('client authentication failed');
    expect(message(await token(fakeState({ hostile: { echoCredentials: true } }), wrong))).toBe('client authentication failed (for client_secret not-the-secret)');
    const state = fakeState();
    expect(await token(state, '{nope')).toMatchObject({ status: 400, body: { errors: [{ code: 'INVALID_REQUEST' }] } });
    expect(state.tokenRequests).toEqual([{ grant: '?', status: 400 }]);
  });

  test('one live token: a new token ends every earlier one and its refresh token; otherwise both live', async () => {
    for (const oneLiveToken of [true, false]) {
      const state = fakeState({ oneLiveToken });
      const a = await token(state);
      const b = await token(state);
      expect(state.tokens.isLive(`Bearer ${String(a.body.access_token)}`)).toBe(!oneLiveToken);
      expect(state.tokens.isLive(`Bearer ${String(b.body.access_token)}`)).toBe(true);
      expect(state.tokens.redeem(String(a.body.refresh_token))).toBe(!oneLiveToken);
    }
  });

  test("a hostile server's token answer is sent as is, whatever the request", async () => {
    const state = fakeState({ hostile: { tokenAnswer: { status: 307, body: 'moved', headers: { Location: 'http://elsewhere/' } } } });
    expect(await token(state, grantBody({ client_id: 'someone-else' }))).toEqual({ status: 307, body: 'moved', headers: { Location: 'http://elsewhere/' } });
    expect(state.tokenRequests).toEqual([{ grant: 'client_credentials', status: 307 }]);
  });

  test('an access token lives its time to live, not a millisecond more; a malformed header is no token', () => {
    let now = 1_000_000;
    const tokens = new TokenStore(2, false, () => now);
    const { access_token: accessToken } = tokens.issue();
    now += 1999;
    expect(tokens.isLive(`Bearer ${accessToken}`)).toBe(true);
    now += 1;
    expect(tokens.isLive(`Bearer ${accessToken}`)).toBe(false);
    expect(tokens.isLive(undefined)).toBe(false);
    expect(tokens.isLive(`bearer ${tokens.issue().access_token}`)).toBe(false);
  });
});

describe('the fake DELETE', () => {
  test('204 removes the order, then 404; each event recorded after its answer was sent', () => {
    const state = fakeState();
    const tokenValue = liveToken(state);
    const answeredBeforeEvent: boolean[] = [];
    let sent: Sent[] = [];
    state.events.on('delete', () => answeredBeforeEvent.push(sent.length === 1));
    const { request, reply, sent: first } = exchange('DELETE', `/api/v3/orders/${ID}`, { token: tokenValue });
    sent = first;
    deleteOrder(state, request, reply, ID);
    expect(first).toEqual([{ status: 204 }]);
    sent = del(state, ID, tokenValue);
    expect(sent).toEqual([{ status: 404, body: { errors: [{ code: 'NOT_FOUND', message: `order ${ID} not found` }] }, headers: undefined }]);
    expect(state.orders.has(ID)).toBe(false);
    expect(state.deleted).toEqual([ID]);
    expect(state.deletes.map(({ result, existed }) => [result, existed])).toEqual([[204, true], [404, false]]);
    expect(state.stats).toMatchObject({ deletesAnswered: 2, unauthorized: 0 });
    expect(answeredBeforeEvent).toEqual([true, true]);
  });

  test('one fault drawn per DELETE, whatever answers it: a seed gives the same faults to the same sequence', () => {
    const plan: FaultPlan = { seed: 3, statuses: { 500: 0.3 }, deleteThen503: 0.2 };
    const state = fakeState({ faults: plan });
    const tokenValue = liveToken(state);
    const reference = new FaultInjector(plan);
    const expected: Array<number | 'reset' | 'hang'> = [];
    for (let i = 0; i < 40; i++) {
      const id = (ORDERS[i % ORDERS.length] as { id: string }).id;
      const existed = state.orders.has(id);
      const fault = reference.next();
      const authorized = i % 3 !== 0;
      if (!authorized) expected.push(401);
      else if (fault.kind === 'status') expected.push(fault.status);
      else if (fault.kind === 'deleteThen503' && existed) expected.push(503);
      else expected.push(existed ? 204 : 404);
      del(state, id, authorized ? tokenValue : undefined);
    }
    expect(state.deletes.map((event) => event.result)).toEqual(expected);
    expect(new Set(expected)).toEqual(new Set([401, 500, 503, 204, 404]));
  });

  test('the checks in their order: token, outage, rate limit; only a request that gets past them takes from the limit', () => {
    const limited = fakeState({ limit: { kind: 'bucket', rate: 0.001, burst: 1, retryAfterS: 7 } });
    const tokenValue = liveToken(limited);
    expect(del(limited, ID)[0]?.status).toBe(401);
    expect(del(limited, ID, tokenValue)).toEqual([{ status: 204 }]);
    expect(del(limited, ID, tokenValue)).toEqual([{
      status: 429, body: { errors: [{ code: 'TOO_MANY_REQUESTS', message: 'rate limit exceeded' }] }, headers: { 'Retry-After': '7' },
    }]);
    expect(limited.stats).toMatchObject({ unauthorized: 1, limited: 1 });

    const degraded = fakeState({ outage: { afterMs: 0, durationMs: 3_600_000 }, limit: { kind: 'bucket', rate: 0.001, burst: 1 } });
    expect(del(degraded, ID)[0]?.status).toBe(401);
    expect(message(del(degraded, ID, liveToken(degraded))[0] as Sent)).toBe('the service is degraded');
    expect(degraded.orders.has(ID)).toBe(true);
    expect(degraded.limit?.take()).toEqual({ allowed: true }); // the outage's answers took nothing from it

    const refusing = fakeState({ outage: { afterMs: 0, durationMs: 3_600_000, status: 429 } });
    expect(del(refusing, ID, liveToken(refusing))).toEqual([{
      status: 429, body: { errors: [{ code: 'TOO_MANY_REQUESTS', message: 'rate limit exceeded' }] }, headers: { 'Retry-After': '1' },
    }]);
    expect(refusing.orders.has(ID)).toBe(true);
  });

  test("injected faults: 429 with the plan's Retry-After (a hostile server's as is), reset, hang, deleted then 503", () => {
    const only = (faults: FaultPlan, options: Partial<FakeExsitedOptions> = {}) => {
      const state = fakeState({ faults, ...options });
      return { state, sent: del(state, ID, liveToken(state)) };
    };
    expect(only({ throttle: 1, retryAfterS: 3 }).sent[0]?.headers).toEqual({ 'Retry-After': '3' });
    expect(only({ throttle: 1 }, { hostile: { retryAfterHeader: '999999999' } }).sent[0]?.headers).toEqual({ 'Retry-After': '999999999' });
    expect(only({ reset: 1 }).sent).toEqual([{ status: 'reset' }]);
    const hang = only({ hang: 1 });
    expect(hang.sent).toEqual([{ status: 'hang' }]);
    expect(hang.state.deletes[0]?.result).toBe('hang');
    const { state, sent } = only({ deleteThen503: 1 });
    expect(sent[0]?.status).toBe(503);
    expect(state.deleted).toEqual([ID]);
    expect(del(state, ID, liveToken(state))[0]?.status).toBe(404); // nothing left to delete: no fault
  });

  test('a refused order gets its status while it exists; a hostile server echoes the token in error messages', () => {
    const refusals = { [ID]: { status: 409, message: 'has invoices' } };
    const state = fakeState({ refusals });
    expect(message(del(state, ID, liveToken(state))[0] as Sent)).toBe('has invoices');
    expect(state.orders.has(ID)).toBe(true);
    const hostile = fakeState({ refusals, hostile: { echoCredentials: true } });
    const tokenValue = liveToken(hostile);
    expect(message(del(hostile, ID, tokenValue)[0] as Sent)).toBe(`has invoices (request carried Bearer ${tokenValue})`);
    expect(message(del(hostile, 'GONE', tokenValue)[0] as Sent)).toBe(`order GONE not found (request carried Bearer ${tokenValue})`);
    expect(message(del(hostile, ID)[0] as Sent)).toBe('invalid or expired access token (request carried no Authorization)');
  });

  test('with recordDeletes off the orders go but nothing is kept of them', () => {
    const state = fakeState({ recordDeletes: false });
    expect(del(state, ID, liveToken(state))).toEqual([{ status: 204 }]);
    expect([state.orders.has(ID), state.deletes, state.deleted, state.stats.deletesAnswered]).toEqual([false, [], [], 1]);
  });
});

describe('the fake listing and state', () => {
  const list = (state: FakeState, path: string, accountId?: string, token: string | null = liveToken(state)) => {
    const { request, reply, sent } = exchange('GET', path, token === null ? {} : { token });
    listOrders(state, request, reply, accountId);
    return sent[0] as Sent & { body: { orders: Array<{ id: string }>; pagination: Record<string, unknown> } };
  };

  test("pages by limit and offset, in Exsited's two shapes; 401 without a token", () => {
    const state = fakeState();
    const page = list(state, '/api/v3/orders?limit=2&offset=2');
    expect(page.body.orders.map((order) => order.id)).toEqual(ORDERS.slice(2, 4).map((order) => order.id));
    expect(page.body.pagination).toEqual({ records: 6, limit: 2, offset: 2, previous_page: 'limit=2&offset=0', next_page: 'limit=2&offset=4' });
    const account = (ORDERS[0] as { account_id: string }).account_id;
    const accountPage = list(state, `/api/v3/accounts/${account}/orders?direction=desc`, account).body as unknown as { account: { orders: Array<{ id: string }> } };
    expect(accountPage.account.orders.map((order) => order.id)).toEqual(ORDERS.filter((order) => order.account_id === account).map((order) => order.id).reverse());
    expect(list(state, '/api/v3/orders', undefined, null).status).toBe(401);
    expect(state.stats.lists).toBe(2);
    expect(list(fakeState({ listIgnoresOffset: true }), '/api/v3/orders?limit=2&offset=4').body.pagination.offset).toBe(0);
  });

  test('/__fake/state: what remains and was deleted, the counts; without the deleted list on request', () => {
    const state = fakeState();
    del(state, ID, liveToken(state));
    const answer = (path: string) => {
      const { request, reply, sent } = exchange('GET', path);
      answerFakeState(state, request, reply);
      return sent[0]?.body;
    };
    expect(answer('/__fake/state')).toEqual({ remaining: 5, deleted: [ID], stats: state.stats, tokenRequests: 0 });
    expect(answer('/__fake/state?deleted=false')).toEqual({ remaining: 5, deleted: undefined, stats: state.stats, tokenRequests: 0 });
  });
});
