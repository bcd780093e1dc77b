import { setTimeout as delay } from 'node:timers/promises';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { humanDuration } from '../common/durations.js';
import { MIN_SECRET_LENGTH, secrets } from '../common/secrets.js';
import { describeTransportError, exsitedError, isCancel, isRetryableStatus, notTheApis, PROXY_REFUSED, refusedGrant, retryAfterMs, serverSide, statusLineOf, tokenEndpointAnswered } from './responses.js';
import type { AttemptResult, Unfinished } from './orders.js';
import { RenewalPolicy } from './renewal-policy.js';
import type { CachedToken, TokenCache } from './token-cache.js';
import { isUnusableAnswer, NOT_THE_API, type StopCause } from '../common/domain.js';

export type Credentials =
  | { kind: 'client_credentials'; clientId: string; clientSecret: string; redirectUri: string }
  | { kind: 'access_token'; accessToken: string };

/**
 * Why a token could not be had: `rejected`, the token endpoint said no (or a pre-issued token was refused
 * and cannot be renewed), so retrying later will not help; `unavailable`, not for now: another client keeps
 * ending this run's tokens, or the run stopped first;
 * `unreachable`, no answer at all (a connection or DNS failure: nothing reached the API); `cache`, the token cache (--token-cache) could not be used — another run holds
 * its lock, or the file cannot be read or written — which says nothing of the credentials or the network; `server`, the
 * endpoint answered only with its own errors (5xx, or a 408 or 429 asking to wait longer than this tool waits) through
 * the retries: the service, not the credentials.
 */
export type TokenFailure = 'rejected' | 'unavailable' | 'unreachable' | 'cache' | 'server';

/**
 * Why a run lost its token, in words and a stop cause. A token cache another run holds is no failure of authentication:
 * its message says what it is. A token endpoint that answered only errors, or could not be reached, says nothing of the
 * credentials (red team: "authentication failed", stopCause credentials, for a 503 mid-run).
 */
export function tokenLost(error: TokenError): { message: string; cause: StopCause } {
  if (error.kind === 'cache') return { message: error.message, cause: 'token_cache' };
  if (error.kind === 'server' || error.kind === 'unreachable') return { message: `${error.message} — not the credentials`, cause: 'service' };
  return { message: `authentication failed: ${error.message}`, cause: 'credentials' };
}

/** Authentication failed, for the reason `kind` names. */
export class TokenError extends Error {
  constructor(
    message: string,
    readonly kind: TokenFailure,
    /** For `unreachable`: the connection's error code (ECONNREFUSED, a certificate's, the proxy's refusal); for `server`, `HTTP_503`. */
    readonly code?: string,
    /** `read`: raised for a read of the orders at first contact (guards/reach), not by the token endpoint; `retryAfterMs`: the server's Retry-After. */
    readonly about: { read?: boolean; retryAfterMs?: number } = {},
  ) {
    super(secrets.scrub(message));
    this.name = 'TokenError';
  }
}

/**
 * The retry policy the token source's calls run under (the engine's, injected by the run: the client does
 * not import the engine). Undefined when the run stopped first.
 */
export type Retrier = <T>(attempt: () => Promise<AttemptResult<T>>) => Promise<{ ok: true; value: T } | { ok: false; failure: Unfinished } | undefined>;

interface Token extends CachedToken {
  /** The server refused it (401): the next `get` renews it. */
  refused?: boolean;
  /** 401s in a row for it, while young. */
  unauthorizedInRow?: number;
}

/**
 * A young token is renewed only after this many 401s in a row for it: a token another client's new one
 * ended is refused every time, while a stray 401 (a glitch, a proxy) is followed by good answers.
 */
const YOUNG_REFUSALS = 3;

export interface TokenSourceOptions {
  now?: () => number;
  /** Runs on this machine sharing one token (--token-cache). */
  cache?: TokenCache;
  /** Something a person should hear: a renewal held back because another client may hold the credentials. */
  onNotice?: (text: string) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const TOKEN_PATH = '/api/v1/oauth2/token';
const DEFAULT_EXPIRES_IN_S = 3600;
/** A refresh the endpoint refused: fall back to a client-credentials grant. */
const REFRESH_REFUSED = 'REFRESH_REFUSED';

/**
 * The bearer token shared by all workers. Renewal is single-flight: however many requests see a 401 or an
 * ageing token at once, one renewal runs and they all wait for it. Renewal tries the refresh token first
 * and falls back to a new client-credentials grant, as Exsited's SDKs do. A 401 is answered as the
 * renewal policy says: at once for a token late in its life, slowly — and at last not at all — for one
 * refused moments after it was issued, which means another client holds the credentials. With a token
 * cache, a renewal first looks for a token another run on this machine obtained.
 */
export class TokenSource {
  private token: Token | undefined;
  private renewal: Promise<Token> | undefined;
  private readonly now: () => number;
  private readonly policy: RenewalPolicy;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Tokens this run obtained from the token endpoint. */
  renewals = 0;
  /** Tokens taken from the cache, obtained by another run. */
  shared = 0;
  /**
   * Whether anything may have been sent: a token request, or a token handed out for a request (a pre-issued
   * token's first read, red team: "nothing was sent" after three GETs). Until then, a stopped run has sent nothing at all.
   */
  requested = false;

  constructor(
    private readonly http: AxiosInstance,
    private readonly credentials: Credentials,
    private readonly retry: Retrier,
    private readonly options: TokenSourceOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.policy = new RenewalPolicy(this.now);
    this.sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
    if (credentials.kind === 'access_token') {
      this.token = { accessToken: credentials.accessToken, renewAt: Number.POSITIVE_INFINITY, issuedAt: this.now(), lifetimeMs: Number.POSITIVE_INFINITY };
    }
  }

  /** The tokens this run obtained and took from the cache, as its summary counts them; none with a pre-issued token. */
  get counts(): { obtained: number; shared: number } | undefined {
    return this.preIssued ? undefined : { obtained: this.renewals, shared: this.shared };
  }

  /** A pre-issued token (EXSITED_ACCESS_TOKEN): only using it tells whether the server takes it. */
  get preIssued(): boolean {
    return this.credentials.kind === 'access_token';
  }

  /** A token fit to use now, renewing it first if it is missing, refused or close to expiry. */
  async get(signal?: AbortSignal): Promise<string> {
    const token = this.token;
    if (token && this.now() < token.renewAt) {
      this.requested = true;
      return token.accessToken;
    }
    this.renewal ??= this.renew(signal).finally(() => (this.renewal = undefined));
    return (await this.renewal).accessToken;
  }

  /**
   * The server answered 401 to `accessToken`: the next `get` renews, unless another worker already has. A
   * young token is kept (and the request resent with it) until it has been refused YOUNG_REFUSALS times in
   * a row.
   */
  refused(accessToken: string): void {
    const token = this.token;
    if (token?.accessToken !== accessToken || token.refused) return;
    const inRow = (token.unauthorizedInRow ?? 0) + 1;
    const young = this.credentials.kind === 'client_credentials' && this.policy.young(token.issuedAt, token.lifetimeMs);
    this.token = young && inRow < YOUNG_REFUSALS ? { ...token, unauthorizedInRow: inRow } : { ...token, renewAt: 0, refused: true };
  }

  /** The server answered `accessToken` with anything but 401: it is alive. */
  accepted(accessToken: string): void {
    if (this.token?.accessToken === accessToken && this.token.unauthorizedInRow) this.token = { ...this.token, unauthorizedInRow: 0 };
  }

  private async renew(signal?: AbortSignal): Promise<Token> {
    if (this.credentials.kind === 'access_token') {
      throw new TokenError('the server refused EXSITED_ACCESS_TOKEN (401) and a pre-issued token cannot be renewed; ' +
        'issue a new one, or set EXSITED_CLIENT_ID, EXSITED_CLIENT_SECRET and EXSITED_REDIRECT_URI instead', 'rejected');
    }
    const previous = this.token;
    let contested = false;
    if (previous?.refused) {
      const verdict = this.policy.refused(previous.issuedAt, previous.lifetimeMs);
      if (verdict.kind === 'halt') throw new TokenError(verdict.message, 'unavailable');
      contested = verdict.contested;
      if (verdict.contested) {
        this.options.onNotice?.(`the server refused the access token this run obtained ${humanDuration(this.now() - previous.issuedAt)} ` +
          `ago (401): another client may be using these credentials; renewing in ${humanDuration(verdict.waitMs)} rather than at once, ` +
          'so as not to sign it out in turn');
        try {
          await this.sleep(verdict.waitMs, signal);
        } catch {
          throw new TokenError('the run stopped while the token was being renewed', 'unavailable');
        }
      }
    } else if (previous) {
      this.policy.aged();
    }
    const { cache } = this.options;
    // A token ended by another client's new one took its refresh token with it: no use trying that.
    const from = contested ? undefined : previous;
    const token = cache ? await this.renewShared(cache, previous, from, signal) : await this.obtain(from, signal);
    this.token = token;
    return token;
  }

  /**
   * Under the cache's lock: a token another run obtained since `previous`, or a new one, written for the
   * others. A cache that cannot be used (locked by another run past the wait, unreadable) is a TokenError
   * of kind `cache`, its message the cache's own sentence.
   */
  private async renewShared(cache: TokenCache, previous: Token | undefined, from: Token | undefined, signal?: AbortSignal): Promise<Token> {
    try {
      return await cache.locked(async () => {
        const cached = cache.read();
        if (cached && cached.accessToken !== previous?.accessToken && this.now() < cached.renewAt) {
          this.shared++;
          return cached;
        }
        const token = await this.obtain(from && cached ? cached : from, signal);
        cache.write(token);
        return token;
      }, signal, this.options.onNotice);
    } catch (error) {
      if (error instanceof TokenError) throw error;
      throw new TokenError((error as Error).message, 'cache');
    }
  }

  /** A token from the endpoint: by `previous`'s refresh token if it has one, else a client-credentials grant. */
  private async obtain(previous: Token | undefined, signal?: AbortSignal): Promise<Token> {
    const { clientId, clientSecret, redirectUri } = this.credentials as Extract<Credentials, { kind: 'client_credentials' }>;
    const base = { client_id: clientId, client_secret: clientSecret, redirect_uri: redirectUri };
    const refreshToken = previous?.refreshToken;
    let token: Token | undefined;
    if (refreshToken) token = await this.grant({ ...base, grant_type: 'refresh_token', refresh_token: refreshToken }, signal);
    token ??= await this.grant({ ...base, grant_type: 'client_credentials' }, signal) as Token;
    this.renewals++;
    return token;
  }

  /** One grant under the retry policy; a refused refresh returns undefined (the caller falls back). */
  private async grant(body: Record<string, string>, signal: AbortSignal | undefined): Promise<Token | undefined> {
    const isRefresh = body.grant_type === 'refresh_token';
    const result = await this.retry(() => this.attempt(body, isRefresh, signal));
    if (!result) throw new TokenError('the run stopped while the token was being renewed', 'unavailable');
    if (result.ok) return result.value;
    const { failure } = result;
    if (failure.code === REFRESH_REFUSED) return undefined;
    // A proxy's or a gateway's page where the token was due says nothing of the credentials (red team: exit 3, "authentication failed").
    if (failure.code === NOT_THE_API) throw new TokenError(`token endpoint gave no usable answer (${NOT_THE_API}): ${failure.message}`, 'unreachable', NOT_THE_API);
    // A 5xx, or a 408 or 429 asking to wait longer than this tool waits, is no refusal of the credentials (red team: exit 3, "authentication failed").
    if (failure.kind === 'failed' && !serverSide(failure.httpStatus)) throw new TokenError(failure.message, 'rejected');
    if (failure.httpStatus === null) {
      // The proxy's refusal is in words of ours (the proxy, its answer); any other connection error is named by its code, never Node's sentence.
      const why = failure.code === PROXY_REFUSED ? `: ${failure.message}` : '';
      const what = isUnusableAnswer(failure.code) ? 'gave no usable answer' : 'unreachable';
      throw new TokenError(`token endpoint ${what} (${failure.code})${why}`, 'unreachable', failure.code);
    }
    // Its code only when the retries ran out: one asking to wait longer than this tool waits is not waited for at first contact either (red team).
    throw new TokenError(tokenEndpointAnswered(failure.httpStatus ?? 0, failure.message), 'server', failure.kind === 'retry' ? `HTTP_${failure.httpStatus}` : undefined,
      { retryAfterMs: failure.kind === 'retry' ? failure.retryAfterMs : undefined });
  }

  /** One token request, classified: a token, worth another try, or a final no (with what to check). */
  private async attempt(body: Record<string, string>, isRefresh: boolean, signal: AbortSignal | undefined): Promise<AttemptResult<Token>> {
    this.requested = true;
    let response: AxiosResponse;
    try {
      response = await this.http.post(TOKEN_PATH, body, { signal, headers: { 'Content-Type': 'application/json' } });
    } catch (error) {
      if (isCancel(error)) return { kind: 'canceled' };
      // A status whose body did not come whole (responses.ts, statusLineOf) is that status, the body's words left out: a 503
      // is a 503, a 401 a refusal (red team: exit 5, "not the credentials"). A 2xx needs its body: the token is in it.
      const answer = statusLineOf(error);
      if (!answer || (answer.status >= 200 && answer.status < 300)) return { kind: 'retry', httpStatus: null, ...describeTransportError(error) };
      response = answer as AxiosResponse;
    }
    const { status } = response;
    const page = status === 200 || status === 201 ? notTheApis(response) : undefined;
    if (page) return { kind: 'failed', httpStatus: status, code: NOT_THE_API, message: `HTTP ${status} with ${page}, not the API's answer: a proxy or a gateway answered (check --base-url and HTTPS_PROXY)` };
    if (status === 200 || status === 201) return this.parse(response.data, status);
    if (isRetryableStatus(status)) {
      return { kind: 'retry', httpStatus: status, ...exsitedError(response), retryAfterMs: retryAfterMs(response.headers?.['retry-after']) };
    }
    if (isRefresh && status >= 400 && status < 500) return { kind: 'failed', httpStatus: status, code: REFRESH_REFUSED, message: 'refresh refused' };
    if (status >= 500) return { kind: 'failed', httpStatus: status, ...exsitedError(response) }; // 501, 505…: the server's fault, said by grant
    return { kind: 'failed', httpStatus: status, code: exsitedError(response).code, message: refusedGrant(response) };
  }

  private parse(data: unknown, status: number): AttemptResult<Token> {
    const body = (data ?? {}) as { access_token?: unknown; refresh_token?: unknown; expires_in?: unknown };
    const refuse = (message: string): AttemptResult<Token> => ({ kind: 'failed', httpStatus: status, code: 'BAD_TOKEN', message });
    if (typeof body.access_token !== 'string' || body.access_token === '') return refuse('token endpoint answered without an access_token');
    if (body.access_token.length < MIN_SECRET_LENGTH) {
      return refuse(`token endpoint issued an access token of ${body.access_token.length} characters: too short to be ` +
        'told from ordinary text, so it could not be kept out of logs; refusing to use it');
    }
    secrets.register(body.access_token);
    const refreshToken = typeof body.refresh_token === 'string' && body.refresh_token !== '' ? body.refresh_token : undefined;
    secrets.register(refreshToken);
    const seconds = Number(body.expires_in); // a number, or a number in a string
    const expiresIn = body.expires_in !== null && body.expires_in !== '' && seconds > 0 ? seconds : DEFAULT_EXPIRES_IN_S;
    const now = this.now();
    const token: Token = { accessToken: body.access_token, issuedAt: now, lifetimeMs: expiresIn * 1000, renewAt: now + expiresIn * 800 };
    if (refreshToken) token.refreshToken = refreshToken;
    return { kind: 'done', httpStatus: status, value: token };
  }
}
