import type { EventEmitter } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { httpExchange, type FakeRequest, type Reply } from './exchange.js';
import type { FaultInjector } from './faults.js';
import type { FakeExsitedOptions } from './options.js';
import type { FakeOrder } from './order-store.js';
import { answerFakeState } from './routes/fake-state.js';
import { deleteOrder } from './routes/order-delete.js';
import { getOrder } from './routes/order-get.js';
import { listOrders } from './routes/orders-list.js';
import { answerToken } from './routes/token.js';
import { createFakeState, type FakeDeleteEvent, type FakeState, type FakeStats } from './state.js';

export { DEMO_CLIENT, type FakeClient, type FakeExsitedOptions } from './options.js';

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

/**
 * A real HTTP server standing in for Exsited: the OAuth2 token endpoint (client credentials and refresh,
 * expiring tokens), order listing with limit/offset (all orders or one account's), and DELETE, over an
 * in-memory store, with seeded fault injection. `GET /__fake/state` reports what it received.
 */
export async function startFakeExsited(options: FakeExsitedOptions): Promise<FakeExsited> {
  const state = createFakeState(options);
  const hanging = new Set<ServerResponse>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    state.stats.requests++;
    const { request, reply } = httpExchange(req, res, hanging);
    if (request.method === 'DELETE') countInFlight(state, res);
    route(state, request, reply).catch((error: unknown) => reply.error(500, 'INTERNAL', String(error)));
  };
  const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const { orders, deletes, deleted, tokenRequests, stats, faults, events } = state;
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${port}`,
    port, orders, deletes, deleted, tokenRequests, stats, issuedTokens: state.tokens.issued, faults, events,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The fake's own state page first (no latency), then the API, every answer of it after the latency. */
async function route(state: FakeState, request: FakeRequest, reply: Reply): Promise<void> {
  const { method, url: { pathname } } = request;
  if (method === 'GET' && pathname === '/__fake/state') return answerFakeState(state, request, reply);
  if (state.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, state.latencyMs));
  if (method === 'POST' && pathname === '/api/v1/oauth2/token') return answerToken(state, request, reply);
  const order = /^\/api\/v3\/orders\/([^/]+)$/.exec(pathname);
  if (method === 'DELETE' && order) return deleteOrder(state, request, reply, decodeURIComponent(order[1] as string));
  if (method === 'GET' && order) return getOrder(state, request, reply, decodeURIComponent(order[1] as string));
  if (method === 'GET' && pathname === '/api/v3/orders') return listOrders(state, request, reply);
  const account = /^\/api\/v3\/accounts\/([^/]+)\/orders$/.exec(pathname);
  if (method === 'GET' && account) return listOrders(state, request, reply, decodeURIComponent(account[1] as string));
  return reply.error(404, 'NOT_FOUND', `no route for ${method} ${pathname}`);
}

/**
 * A DELETE is in flight from its arrival until the fake has answered it (`prefinish`: end() called) or its
 * connection closed (an answer that never came: a hang, a client that gave up). Counted to the answer, not
 * to the socket's flush: in one process a busy event loop can hand the client its answer — and take its
 * next request — before the flush's callback runs, and a fifth request of a concurrency of 4 would be seen.
 */
function countInFlight({ stats }: FakeState, res: ServerResponse): void {
  stats.inFlight++;
  stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
  let done = false;
  const end = () => {
    if (!done) stats.inFlight--;
    done = true;
  };
  res.once('prefinish', end).once('close', end);
}
