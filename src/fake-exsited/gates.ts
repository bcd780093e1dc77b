import { carriedToken, echoed } from './credential-echo.js';
import type { FakeRequest, Reply } from './exchange.js';
import type { Fault } from './faults.js';
import type { FakeState } from './state.js';

/**
 * What stands between a DELETE and its order, each answering (and returning the status) or letting it
 * pass (undefined). The delete route calls them in a fixed order; that order, and the one fault drawn
 * per DELETE before any of them, are what keep a seed's faults the same from run to run.
 */

/** The one random draw of a DELETE; a "deleted then 503" needs something to delete. */
export function drawFault(state: FakeState, existed: boolean): Fault {
  const fault = state.faults.next();
  return fault.kind === 'deleteThen503' && !existed ? { kind: 'none' } : fault;
}

/** No live token, or an injected spurious 401. */
export function refuseUnauthorized(state: FakeState, request: FakeRequest, reply: Reply, fault: Fault): 401 | undefined {
  if (state.tokens.isLive(request.authorization) && fault.kind !== 'unauthorized') return undefined;
  state.stats.unauthorized++;
  reply.error(401, 'UNAUTHORIZED', `invalid or expired access token${echoed(state, ...carriedToken(request))}`);
  return 401;
}

/** The outage: from `afterMs` after the first DELETE, for `durationMs`; a 503 each, or a 429 (a gateway refusing everyone). */
export function refuseInOutage(state: FakeState, reply: Reply, at: number): 503 | 429 | undefined {
  const first = state.stats.firstDeleteAt;
  const { outage } = state;
  const inOutage = !!outage && first !== null && at >= first + outage.afterMs && at < first + outage.afterMs + outage.durationMs;
  if (!inOutage) return undefined;
  if (outage.status === 429) {
    reply.error(429, 'TOO_MANY_REQUESTS', 'rate limit exceeded', { 'Retry-After': '1' });
    return 429;
  }
  reply.error(503, 'SERVICE_UNAVAILABLE', 'the service is degraded');
  return 503;
}

/** The rate limit takes its token here, so only requests that got this far count against it. */
export function refuseOverLimit(state: FakeState, reply: Reply): 429 | undefined {
  const limited = state.limit?.take();
  if (!limited || limited.allowed) return undefined;
  state.stats.limited++;
  reply.error(429, 'TOO_MANY_REQUESTS', 'rate limit exceeded', { 'Retry-After': String(limited.retryAfterS) });
  return 429;
}
