import { echoed } from '../credential-echo.js';
import type { FakeRequest, Reply } from '../exchange.js';
import type { FakeState } from '../state.js';

/**
 * POST /api/v1/oauth2/token: the client-credentials and refresh grants, for the one client the fake
 * knows (a hostile server answers whatever it was told to). Every request is kept in `tokenRequests`.
 */
export async function answerToken(state: FakeState, request: FakeRequest, reply: Reply): Promise<void> {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(await request.body()) as Record<string, unknown>;
  } catch {
    reply.error(400, 'INVALID_REQUEST', 'body is not JSON');
    state.tokenRequests.push({ grant: '?', status: 400 });
    return;
  }
  const grant = String(body.grant_type);
  state.tokenRequests.push({ grant, status: grantToken(state, body, grant, reply) });
}

function grantToken(state: FakeState, body: Record<string, unknown>, grant: string, reply: Reply): number {
  const { client } = state;
  const clientOk = body.client_id === client.clientId && body.client_secret === client.clientSecret && body.redirect_uri === client.redirectUri;
  const hostileAnswer = state.hostile.tokenAnswer;
  if (hostileAnswer) {
    reply.text(hostileAnswer.status, hostileAnswer.body, hostileAnswer.headers);
    return hostileAnswer.status;
  }
  if (!clientOk) {
    reply.error(401, 'INVALID_CLIENT', `client authentication failed${echoed(state, 'for client_secret', String(body.client_secret))}`);
    return 401;
  }
  if (grant === 'client_credentials' || (grant === 'refresh_token' && state.tokens.redeem(String(body.refresh_token)))) {
    reply.json(200, state.tokens.issue());
    return 200;
  }
  reply.error(400, 'INVALID_GRANT', 'unknown grant or refresh token');
  return 400;
}
