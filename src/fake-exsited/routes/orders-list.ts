import type { FakeRequest, Reply } from '../exchange.js';
import type { FakeState } from '../state.js';

/**
 * GET /api/v3/orders and GET /api/v3/accounts/{accountId}/orders: a page by limit (1 to 1000, 20 by
 * default) and offset, newest first with `direction=desc`, in Exsited's two response shapes.
 */
export function listOrders(state: FakeState, request: FakeRequest, reply: Reply, accountId?: string): void {
  if (!state.tokens.isLive(request.authorization)) return reply.error(401, 'UNAUTHORIZED', 'invalid or expired access token');
  const { searchParams } = request.url;
  const limit = Math.min(Math.max(Number(searchParams.get('limit') ?? 20) || 20, 1), 1000);
  const offset = state.listIgnoresOffset ? 0 : Math.max(Number(searchParams.get('offset') ?? 0) || 0, 0);
  state.stats.lists++;
  state.events.emit('list', { offset, accountId });
  let all = [...state.orders.values()];
  if (accountId !== undefined) all = all.filter((order) => order.account_id === accountId);
  if (searchParams.get('direction') === 'desc') all.reverse();
  const page = all.slice(offset, offset + limit);
  const pagination = {
    records: all.length, limit, offset,
    previous_page: offset > 0 ? `limit=${limit}&offset=${Math.max(0, offset - limit)}` : '',
    next_page: offset + limit < all.length ? `limit=${limit}&offset=${offset + limit}` : '',
  };
  reply.json(200, accountId === undefined ? { orders: page, pagination } : { account: { orders: page, pagination } });
}
