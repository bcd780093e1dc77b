import type { FakeRequest, Reply } from '../exchange.js';
import type { FakeState } from '../state.js';

/** GET /__fake/state: what remains, what was deleted (not with `deleted=false`), the counts; no latency. */
export function answerFakeState(state: FakeState, request: FakeRequest, reply: Reply): void {
  const deleted = request.url.searchParams.get('deleted') === 'false' ? undefined : state.deleted;
  reply.json(200, { remaining: state.orders.size, deleted, stats: state.stats, tokenRequests: state.tokenRequests.length });
}
