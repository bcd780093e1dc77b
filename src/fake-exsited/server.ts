import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { FaultInjector, type FaultPlan } from './faults.js';
import { RequestLimit, type LimitPlan, type OutagePlan } from './limits.js';
import type { FakeOrder } from './order-store.js';

export interface FakeClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/** The credentials the demo and the tests use against the fake API. */
export const DEMO_CLIENT: FakeClient = {
  clientId: 'demo-client',
  clientSecret: 'demo-secret-7f3a9c1e5b',
  redirectUri: 'http://localhost/callback',
};

export interface FakeExsitedOptions {
  orders: FakeOrder[];
  port?: number;
  host?: string;
  client?: FakeClient;
  /** Access-token lifetime in seconds (expires_in); tests use a few seconds to force renewals. */
  tokenTtlS?: number;
  faults?: FaultPlan;
  /** Orders that can never be deleted, with the status and message to answer (e.g. 409, "has invoices"). */
  refusals?: Record<string, { status: number; message: string }>;
  /** Misbehave: answer every list request with the first page, whatever its offset. */
  listIgnoresOffset?: boolean;
  /** Keep every DELETE in `deletes` (default); benchmarks of a million orders turn it off. */
  recordDeletes?: boolean;
  /** Serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
  tls?: { key: string; cert: string };
  /** A hostile server, for the adversarial tests. */
  hostile?: HostileBehaviour;
  /**
   * One live token per client, as Exsited's knowledge base reports: a new access token ends every earlier
   * one (and its refresh token), so two runs on one set of credentials sign each other out.
   */
  oneLiveToken?: boolean;
  /** A rate limit on DELETE, shared by every client (429 with Retry-After beyond it). */
  limit?: LimitPlan;
  /** Every DELETE answered 503 for a while (a degraded service), then healthy again. */
  outage?: OutagePlan;
}

export interface HostileBehaviour {
  /** Error answers echo the credentials the request carried: the bearer token, the client secret. */
  echoCredentials?: boolean;
  /**
   * The Retry-After header of injected 429s, sent as is (e.g. `999999999`, or an HTTP date), or made for
   * each answer from the time it is sent (e.g. an HTTP date 40 s ahead); undefined from it: no header.
   */
  retryAfterHeader?: string | ((now: number) => string | undefined);
  /** The token endpoint answers this status instead (a 307 to elsewhere, a proxy's 403), with `body` as its text. */
  tokenAnswer?: { status: number; body: string; headers?: Record<string, string> };
}

/** What the server received and did, for tests and benchmarks to check against. */
export interface FakeDeleteEvent {
  orderId: string;
  /** The status sent, or what happened instead. */
  result: number | 'reset' | 'hang';
  /** The order existed when the request arrived. */
  existed: boolean;
  /** Epoch ms when the server handled the request, before it answered. */
  at: number;
}

export interface FakeStats {
  inFlight: number;
  maxInFlight: number;
  requests: number;
  unauthorized: number;
  lists: number;
  /** DELETEs answered (any status), the first and last of them (epoch ms), and the latency delivered. */
  deletesAnswered: number;
  /** DELETEs answered 429 by the rate limit (not by injected faults). */
  limited: number;
  firstDeleteAt: number | null;
  lastDeleteAt: number | null;
  deliveredLatencyMsTotal: number;
}

export interface FakeExsited {
  url: string;
  port: number;
  orders: Map<string, FakeOrder>;
  deletes: FakeDeleteEvent[];
  /** Orders removed, in the order they were removed. */
  deleted: string[];
  tokenRequests: Array<{ grant: string; status: number }>;
  stats: FakeStats;
  /** Every access and refresh token issued, so that tests can look for them where they must not be. */
  issuedTokens: string[];
  faults: FaultInjector;
  /** Emits 'delete' with each FakeDeleteEvent as it happens, and 'list' with {offset, accountId} before each page. */
  events: EventEmitter;
  close(): Promise<void>;
}

const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
};
const sendError = (res: ServerResponse, status: number, code: string, message: string, headers?: Record<string, string>) =>
  sendJson(res, status, { errors: [{ code, message }] }, headers);

/**
 * A real HTTP server standing in for Exsited: the OAuth2 token endpoint (client credentials and refresh,
 * expiring tokens), order listing with limit/offset (all orders or one account's), and DELETE, over an
 * in-memory store, with seeded fault injection. `GET /__fake/state` reports what it received.
 */
export async function startFakeExsited(options: FakeExsitedOptions): Promise<FakeExsited> {
  const client = options.client ?? DEMO_CLIENT;
  const ttlS = options.tokenTtlS ?? 3600;
  const orders = new Map(options.orders.map((order) => [order.id, order]));
  const accessTokens = new Map<string, number>();
  const refreshTokens = new Set<string>();
  const hanging = new Set<ServerResponse>();
  const state: Omit<FakeExsited, 'url' | 'port' | 'close'> = {
    orders, deletes: [], deleted: [], tokenRequests: [], issuedTokens: [], events: new EventEmitter(),
    stats: {
      inFlight: 0, maxInFlight: 0, requests: 0, unauthorized: 0, lists: 0,
      deletesAnswered: 0, limited: 0, firstDeleteAt: null, lastDeleteAt: null, deliveredLatencyMsTotal: 0,
    },
    faults: new FaultInjector(options.faults),
  };
  const latencyMs = options.faults?.latencyMs ?? 0;
  const limit = options.limit ? new RequestLimit(options.limit) : undefined;
  const inOutage = (at: number) => {
    const first = state.stats.firstDeleteAt;
    const outage = options.outage;
    return !!outage && first !== null && at >= first + outage.afterMs && at < first + outage.afterMs + outage.durationMs;
  };

  const issueToken = (res: ServerResponse) => {
    const accessToken = `at-${randomBytes(16).toString('hex')}`;
    const refreshToken = `rt-${randomBytes(16).toString('hex')}`;
    if (options.oneLiveToken) {
      accessTokens.clear();
      refreshTokens.clear();
    }
    accessTokens.set(accessToken, Date.now() + ttlS * 1000);
    refreshTokens.add(refreshToken);
    state.issuedTokens.push(accessToken, refreshToken);
    sendJson(res, 200, { access_token: accessToken, refresh_token: refreshToken, expires_in: ttlS, token_type: 'Bearer' });
    return 200;
  };

  const token = async (req: IncomingMessage, res: ServerResponse) => {
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    } catch {
      sendError(res, 400, 'INVALID_REQUEST', 'body is not JSON');
      return state.tokenRequests.push({ grant: '?', status: 400 });
    }
    const grant = String(body.grant_type);
    const clientOk = body.client_id === client.clientId && body.client_secret === client.clientSecret && body.redirect_uri === client.redirectUri;
    const hostileAnswer = options.hostile?.tokenAnswer;
    let status: number;
    if (hostileAnswer) {
      res.writeHead(hostileAnswer.status, { 'Content-Type': 'text/plain', ...hostileAnswer.headers }).end(hostileAnswer.body);
      status = hostileAnswer.status;
    } else if (!clientOk) {
      sendError(res, 401, 'INVALID_CLIENT', `client authentication failed${echo(`for client_secret ${String(body.client_secret)}`)}`);
      status = 401;
    } else if (grant === 'client_credentials') {
      status = issueToken(res);
    } else if (grant === 'refresh_token' && refreshTokens.delete(String(body.refresh_token))) {
      status = issueToken(res);
    } else {
      sendError(res, 400, 'INVALID_GRANT', 'unknown grant or refresh token');
      status = 400;
    }
    state.tokenRequests.push({ grant, status });
  };

  const authorized = (req: IncomingMessage): boolean => {
    const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const expiry = match ? accessTokens.get(match[1] as string) : undefined;
    return expiry !== undefined && expiry > Date.now();
  };

  /** With hostile.echoCredentials, what an error message adds: the credentials it was sent. */
  const echo = (carried: string) => (options.hostile?.echoCredentials ? ` (${carried})` : '');
  const sentToken = (req: IncomingMessage) => `request carried ${req.headers.authorization ?? 'no Authorization'}`;

  const recordDeletes = options.recordDeletes ?? true;
  const deleteOrder = (orderId: string, req: IncomingMessage, res: ServerResponse, arrived: number) => {
    const at = Date.now(); // taken before answering, so it never trails the client's record of the answer
    const { stats } = state;
    stats.deletesAnswered++;
    stats.firstDeleteAt ??= at;
    stats.lastDeleteAt = at;
    stats.deliveredLatencyMsTotal += performance.now() - arrived;
    const existed = orders.has(orderId);
    let fault = state.faults.next();
    if (fault.kind === 'deleteThen503' && !existed) fault = { kind: 'none' }; // nothing left to delete
    const note = (result: FakeDeleteEvent['result']) => {
      if (!recordDeletes) return;
      const event: FakeDeleteEvent = { orderId, result, existed, at };
      state.deletes.push(event);
      state.events.emit('delete', event);
    };
    const remove = () => {
      if (orders.delete(orderId) && recordDeletes) state.deleted.push(orderId);
    };
    if (!authorized(req) || fault.kind === 'unauthorized') {
      state.stats.unauthorized++;
      sendError(res, 401, 'UNAUTHORIZED', `invalid or expired access token${echo(sentToken(req))}`);
      return note(401);
    }
    if (inOutage(at)) {
      sendError(res, 503, 'SERVICE_UNAVAILABLE', 'the service is degraded');
      return note(503);
    }
    const limited = limit?.take();
    if (limited && !limited.allowed) {
      stats.limited++;
      sendError(res, 429, 'TOO_MANY_REQUESTS', 'rate limit exceeded', { 'Retry-After': String(limited.retryAfterS) });
      return note(429);
    }
    switch (fault.kind) {
      case 'reset':
        req.socket.destroy();
        return note('reset');
      case 'hang':
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return note('hang');
      case 'throttle': {
        const header = options.hostile?.retryAfterHeader;
        const retryAfter = typeof header === 'function' ? header(Date.now()) : header ?? String(fault.retryAfterS);
        sendError(res, 429, 'TOO_MANY_REQUESTS', 'rate limit exceeded', retryAfter === undefined ? {} : { 'Retry-After': retryAfter });
        return note(429);
      }
      case 'status':
        sendError(res, fault.status, `HTTP_${fault.status}`, `injected fault${echo(sentToken(req))}`);
        return note(fault.status);
      case 'deleteThen503':
        remove();
        sendError(res, 503, 'SERVICE_UNAVAILABLE', 'injected fault after delete');
        return note(503);
      case 'none': {
        const refusal = options.refusals?.[orderId];
        if (refusal && existed) {
          sendError(res, refusal.status, `HTTP_${refusal.status}`, `${refusal.message}${echo(sentToken(req))}`);
          return note(refusal.status);
        }
        if (!existed) {
          sendError(res, 404, 'NOT_FOUND', `order ${orderId} not found${echo(sentToken(req))}`);
          return note(404);
        }
        remove();
        res.writeHead(204).end();
        return note(204);
      }
    }
  };

  const list = (url: URL, accountId: string | undefined, req: IncomingMessage, res: ServerResponse) => {
    if (!authorized(req)) return sendError(res, 401, 'UNAUTHORIZED', 'invalid or expired access token');
    const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 20) || 20, 1), 1000);
    const offset = options.listIgnoresOffset ? 0 : Math.max(Number(url.searchParams.get('offset') ?? 0) || 0, 0);
    state.stats.lists++;
    state.events.emit('list', { offset, accountId });
    let all = [...orders.values()];
    if (accountId !== undefined) all = all.filter((order) => order.account_id === accountId);
    if (url.searchParams.get('direction') === 'desc') all.reverse();
    const page = all.slice(offset, offset + limit);
    const pagination = {
      records: all.length, limit, offset,
      previous_page: offset > 0 ? `limit=${limit}&offset=${Math.max(0, offset - limit)}` : '',
      next_page: offset + limit < all.length ? `limit=${limit}&offset=${offset + limit}` : '',
    };
    return sendJson(res, 200, accountId === undefined ? { orders: page, pagination } : { account: { orders: page, pagination } });
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    state.stats.requests++;
    const url = new URL(req.url ?? '/', 'http://fake');
    const arrived = performance.now();
    const route = async () => {
      if (req.method === 'GET' && url.pathname === '/__fake/state') {
        const deleted = url.searchParams.get('deleted') === 'false' ? undefined : state.deleted;
        return sendJson(res, 200, { remaining: orders.size, deleted, stats: state.stats, tokenRequests: state.tokenRequests.length });
      }
      if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      if (req.method === 'POST' && url.pathname === '/api/v1/oauth2/token') return token(req, res);
      const orderMatch = /^\/api\/v3\/orders\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'DELETE' && orderMatch) return deleteOrder(decodeURIComponent(orderMatch[1] as string), req, res, arrived);
      if (req.method === 'GET' && url.pathname === '/api/v3/orders') return list(url, undefined, req, res);
      const accountMatch = /^\/api\/v3\/accounts\/([^/]+)\/orders$/.exec(url.pathname);
      if (req.method === 'GET' && accountMatch) return list(url, decodeURIComponent(accountMatch[1] as string), req, res);
      return sendError(res, 404, 'NOT_FOUND', `no route for ${req.method} ${url.pathname}`);
    };
    if (req.method === 'DELETE') {
      state.stats.inFlight++;
      state.stats.maxInFlight = Math.max(state.stats.maxInFlight, state.stats.inFlight);
      res.on('close', () => state.stats.inFlight--);
    }
    route().catch((error: unknown) => sendError(res, 500, 'INTERNAL', String(error)));
  };
  const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...state,
    url: `${options.tls ? 'https' : 'http'}://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
