import { carriedToken, echoed } from '../credential-echo.js';
import type { FakeRequest, Reply } from '../exchange.js';
import { refuseUnauthorized } from '../gates.js';
import type { FakeState } from '../state.js';

/** GET /api/v3/orders/{id}: the token, then the order as `{"order": {…}}`, or 404 when there is none (as Exsited's GET page documents). */
export function getOrder(state: FakeState, request: FakeRequest, reply: Reply, orderId: string): void {
  state.stats.orderGets++;
  if (refuseUnauthorized(state, request, reply, { kind: 'none' })) return;
  const order = state.orders.get(orderId);
  if (order) reply.json(200, { order });
  else reply.error(404, 'NOT_FOUND', `order ${orderId} not found${echoed(state, ...carriedToken(request))}`);
}
