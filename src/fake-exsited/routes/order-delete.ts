import { carriedToken, echoed } from '../credential-echo.js';
import type { FakeRequest, Reply } from '../exchange.js';
import type { Fault } from '../faults.js';
import { drawFault, refuseInOutage, refuseOverLimit, refuseUnauthorized } from '../gates.js';
import type { FakeDeleteEvent, FakeState } from '../state.js';

type DeleteResult = FakeDeleteEvent['result'];

/**
 * DELETE /api/v3/orders/{id}: one fault drawn, then the token, the outage, the rate limit, the injected
 * fault and the order itself, the first that answers ending it; the event is recorded after the answer.
 */
export function deleteOrder(state: FakeState, request: FakeRequest, reply: Reply, orderId: string): void {
  const at = Date.now(); // taken before answering, so it never trails the client's record of the answer
  countAnswer(state, at, request.arrived);
  const existed = state.orders.has(orderId);
  const fault = drawFault(state, existed);
  const result = refuseUnauthorized(state, request, reply, fault)
    ?? refuseInOutage(state, reply, at)
    ?? refuseOverLimit(state, reply)
    ?? answerFault(state, request, reply, fault, orderId)
    ?? answerOrder(state, request, reply, orderId, existed);
  if (!state.recordDeletes) return;
  const event: FakeDeleteEvent = { orderId, result, existed, at };
  state.deletes.push(event);
  state.events.emit('delete', event);
}

function countAnswer({ stats }: FakeState, at: number, arrived: number): void {
  stats.deletesAnswered++;
  stats.firstDeleteAt ??= at;
  stats.lastDeleteAt = at;
  stats.deliveredLatencyMsTotal += performance.now() - arrived;
}

function answerFault(state: FakeState, request: FakeRequest, reply: Reply, fault: Fault, orderId: string): DeleteResult | undefined {
  switch (fault.kind) {
    case 'none':
    case 'unauthorized': // answered by refuseUnauthorized
      return undefined;
    case 'reset':
      reply.reset();
      return 'reset';
    case 'hang':
      reply.hang();
      return 'hang';
    case 'throttle': {
      const header = state.hostile.retryAfterHeader;
      const retryAfter = typeof header === 'function' ? header(Date.now()) : header ?? String(fault.retryAfterS);
      reply.error(429, 'TOO_MANY_REQUESTS', 'rate limit exceeded', retryAfter === undefined ? {} : { 'Retry-After': retryAfter });
      return 429;
    }
    case 'status':
      reply.error(fault.status, `HTTP_${fault.status}`, `injected fault${echoed(state, ...carriedToken(request))}`);
      return fault.status;
    case 'deleteThen503':
      remove(state, orderId);
      reply.error(503, 'SERVICE_UNAVAILABLE', 'injected fault after delete');
      return 503;
  }
}

function answerOrder(state: FakeState, request: FakeRequest, reply: Reply, orderId: string, existed: boolean): DeleteResult {
  const refusal = state.refusals?.[orderId];
  if (refusal && existed) {
    reply.error(refusal.status, `HTTP_${refusal.status}`, `${refusal.message}${echoed(state, ...carriedToken(request))}`);
    return refusal.status;
  }
  if (!existed) {
    reply.error(404, 'NOT_FOUND', `order ${orderId} not found${echoed(state, ...carriedToken(request))}`);
    return 404;
  }
  remove(state, orderId);
  reply.noContent();
  return 204;
}

function remove(state: FakeState, orderId: string): void {
  if (state.orders.delete(orderId) && state.recordDeletes) state.deleted.push(orderId);
}
