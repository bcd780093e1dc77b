import { EventEmitter } from 'node:events';
import { FaultInjector } from './faults.js';
import { RequestLimit, type OutagePlan } from './limits.js';
import { DEMO_CLIENT, type FakeClient, type FakeExsitedOptions, type HostileBehaviour } from './options.js';
import type { FakeOrder } from './order-store.js';
import { TokenStore } from './tokens.js';

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
  /** GETs of one order (a dry run asking whether it exists). */
  orderGets: number;
  /** DELETEs answered (any status), the first and last of them (epoch ms), and the latency delivered. */
  deletesAnswered: number;
  /** DELETEs answered 429 by the rate limit (not by injected faults). */
  limited: number;
  firstDeleteAt: number | null;
  lastDeleteAt: number | null;
  deliveredLatencyMsTotal: number;
}

/**
 * Everything the routes share: how the fake behaves (its options, defaults applied) and what it holds
 * and received. Routes take it as an argument, so that each can be tried on a state of its own.
 */
export interface FakeState {
  readonly client: FakeClient;
  /** Added before every answer of the API (not of `/__fake/state`). */
  readonly latencyMs: number;
  readonly recordDeletes: boolean;
  readonly listIgnoresOffset: boolean;
  readonly refusals: FakeExsitedOptions['refusals'];
  readonly hostile: HostileBehaviour;
  readonly outage: OutagePlan | undefined;
  readonly limit: RequestLimit | undefined;
  /** The seeded generator of faults: one draw per DELETE, whatever answers it. */
  readonly faults: FaultInjector;
  readonly tokens: TokenStore;
  readonly orders: Map<string, FakeOrder>;
  readonly deletes: FakeDeleteEvent[];
  /** Orders removed, in the order they were removed. */
  readonly deleted: string[];
  readonly tokenRequests: Array<{ grant: string; status: number }>;
  readonly stats: FakeStats;
  /** Emits 'delete' with each FakeDeleteEvent as it happens, and 'list' with {offset, accountId} before each page. */
  readonly events: EventEmitter;
}

export function createFakeState(options: FakeExsitedOptions): FakeState {
  return {
    client: options.client ?? DEMO_CLIENT,
    latencyMs: options.faults?.latencyMs ?? 0,
    recordDeletes: options.recordDeletes ?? true,
    listIgnoresOffset: options.listIgnoresOffset ?? false,
    refusals: options.refusals,
    hostile: options.hostile ?? {},
    outage: options.outage,
    limit: options.limit ? new RequestLimit(options.limit) : undefined,
    faults: new FaultInjector(options.faults),
    tokens: new TokenStore(options.tokenTtlS ?? 3600, options.oneLiveToken ?? false),
    orders: new Map(options.orders.map((order) => [order.id, order])),
    deletes: [],
    deleted: [],
    tokenRequests: [],
    stats: {
      inFlight: 0, maxInFlight: 0, requests: 0, unauthorized: 0, lists: 0, orderGets: 0,
      deletesAnswered: 0, limited: 0, firstDeleteAt: null, lastDeleteAt: null, deliveredLatencyMsTotal: 0,
    },
    events: new EventEmitter(),
  };
}
