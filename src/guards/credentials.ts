import type { AxiosInstance } from 'axios';
import { CleanupError, ExitCode, refusal } from '../common/errors.js';
import { sendWithRetry, type RequestDeps } from '../engine/retrying-request.js';
import { TokenError } from '../exsited/auth.js';
import { listOrdersPage } from '../exsited/orders.js';
import { withStatus } from '../exsited/responses.js';
import { firstToken, RESTARTING, untilReached, type ReachDeps } from './reach.js';
import { isUnusableAnswer, NOT_THE_API } from '../common/domain.js';

/**
 * Before a run starts: a token, and for a dry run (or a pre-issued token, which only using it can test)
 * one authenticated read — a page of one order — so that a check that passes means the credentials work. Refused
 * credentials are a refusal (exit 3); an API that cannot be reached at all, tried for 30 s (guards/reach),
 * is exit 5, unreachable, nothing sent; one that answers only with errors is exit 4 (run it again later);
 * a token cache that cannot be used (another run holds its lock) is named as
 * such (exit 4 too: run it again once that run has its token) — neither says anything of the credentials.
 * Either way nothing was deleted, and no run was started that a resume would need.
 * Returns what was checked, for a person to read.
 */
export async function checkCredentials(deps: RequestDeps & { http: AxiosInstance; reachWaitMs: number }, host: string, read: boolean, say: (text: string) => void): Promise<string> {
  const { control } = deps;
  try {
    await firstToken({ ...deps, say });
    if (!read && !deps.tokens.preIssued) return `Authenticated on ${host}.`;
    const answer = await firstRead(deps, say);
    if (!answer) return 'Stopped before the credentials were checked.';
    if (answer.ok) return `Credentials checked on ${host}: an authenticated read of the orders succeeded.`;
    const { httpStatus, code, message } = answer.failure;
    if (code === NOT_THE_API) {
      const said = httpStatus === null ? message : withStatus(httpStatus, message);
      const who = said.includes('a proxy or a gateway answered') ? '' : ': a proxy or a gateway answered, not the API (check --base-url and HTTPS_PROXY)';
      throw new CleanupError(ExitCode.halted, `checking the credentials on ${host} failed: ${said}${who}; the credentials were not checked, nothing was deleted`);
    }
    if (httpStatus === 401 || httpStatus === 403) {
      throw refusal(`the credentials were refused on ${host} (${withStatus(httpStatus, message)}): they cannot read orders, so they could not ` +
        'delete them either; nothing was deleted');
    }
    throw new CleanupError(ExitCode.halted, `checking the credentials on ${host} failed: ${httpStatus === null ? message : withStatus(httpStatus, message)}; nothing was deleted. ` +
      'Run it again once the API answers');
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    if (control.stopping.aborted) return 'Stopped before the credentials were checked.';
    if (error.kind === 'rejected') throw refusal(`authentication failed on ${host}: ${error.message}; nothing was deleted`, 'credentials');
    if (error.kind === 'cache') throw new CleanupError(ExitCode.halted, `${error.message}; nothing was deleted`, 'token_cache');
    if (error.kind === 'unreachable') throw unreachableError(host, error.message, error.code);
    const what = error.kind === 'server' ? `${host}: ${error.message}` : `no token from ${host}: ${error.message}`;
    throw new CleanupError(ExitCode.halted, `${what} — not the credentials; nothing was deleted. ` +
      'Run it again once the API answers');
  }
}

/**
 * An authenticated read of one order, the first contact with a pre-issued token (nothing is asked for a
 * token): an API that cannot be reached is waited for as for a token (guards/reach), then a TokenError of
 * kind `unreachable`. Undefined when the run was stopped.
 */
export function firstRead(deps: RequestDeps & { http: AxiosInstance; reachWaitMs: number; since?: number }, say: (text: string) => void) {
  return readUntilReached(deps, say, (token, signal) => listOrdersPage(deps.http, { limit: 1, offset: 0 }, token, signal));
}

/**
 * An authenticated read at the run's first contact with the orders (a pre-issued token's first read, a
 * filter's first listing page), tried again as guards/reach waits for a first token: a gateway's 502, 503 or
 * 504 through the retries (the service restarting behind it) as a TokenError of kind `server`; a failure
 * with no answer that `waitFor` names (every one, by default) as kind `unreachable`. Any other answer is
 * returned. Undefined when the run was stopped.
 */
export function readUntilReached<T>(deps: RequestDeps & Pick<ReachDeps, 'reachWaitMs' | 'since' | 'answeredBefore' | 'stopped'>, say: (text: string) => void,
  send: Parameters<typeof sendWithRetry<T>>[0], waitFor: (code: string) => boolean = () => true) {
  return untilReached({ ...deps, say }, async () => {
    const sent = await sendWithRetry(send, deps, () => undefined);
    // Not one asking to wait longer than this tool waits (red team: "the server asked to wait 1 h …; trying again in 1 s").
    const { failure } = sent && !sent.ok ? sent : { failure: undefined };
    // The status said once (red team: "the API answered 503: HTTP 503 Service Unavailable").
    if (failure?.kind === 'retry' && failure.httpStatus !== null && RESTARTING.has(`HTTP_${failure.httpStatus}`)) {
      throw new TokenError(`the API answered ${withStatus(failure.httpStatus, failure.message).slice('HTTP '.length)}`, 'server', `HTTP_${failure.httpStatus}`,
        { read: true, retryAfterMs: failure.retryAfterMs });
    }
    if (failure && failure.httpStatus === null && waitFor(failure.code)) {
      const { code } = failure;
      throw new TokenError(`the API ${isUnusableAnswer(code) ? 'gave no usable answer' : 'unreachable'} (${code})`, 'unreachable', code, { read: true });
    }
    return sent;
  });
}

/** Exit 5: the API was never reached (tried for --reach-wait); nothing was sent, nothing to resume. */
export const unreachableError = (host: string, what: string, code = '') => new CleanupError(ExitCode.unreachable, (isUnusableAnswer(code)
  ? `no usable answer: ${host} — ${what}. An answer no API gives (a proxy or gateway in the way?)`
  : `unreachable: ${host} — ${what}. A connection problem`) + ', not the credentials; there is nothing to resume. ' +
  'Check the base URL (--base-url, EXSITED_BASE_URL) and the network (a proxy: HTTPS_PROXY, NO_PROXY), then run it again');
