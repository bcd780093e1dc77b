import type { AxiosInstance } from 'axios';
import pRetry, { AbortError } from 'p-retry';
import { MIN_SECRET_LENGTH, secrets } from '../common/secrets.js';
import { quoted } from '../common/text.js';
import type { Backoff } from '../engine/backoff.js';
import type { AxiosResponse } from 'axios';
import { describeTransportError, exsitedError, isCancel, isRetryableStatus } from './http.js';

export type Credentials =
  | { kind: 'client_credentials'; clientId: string; clientSecret: string; redirectUri: string }
  | { kind: 'access_token'; accessToken: string };

/**
 * Authentication failed. `rejected`: the token endpoint said no (or a pre-issued token was refused and
 * cannot be renewed), so retrying later will not help; otherwise the endpoint could not be reached.
 */
export class TokenError extends Error {
  constructor(
    message: string,
    readonly rejected: boolean,
  ) {
    super(secrets.scrub(message));
    this.name = 'TokenError';
  }
}

interface Token {
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms after which the token is renewed before use (80% of its lifetime). */
  renewAt: number;
}

const TOKEN_PATH = '/api/v1/oauth2/token';
const DEFAULT_EXPIRES_IN_S = 3600;

/**
 * The bearer token shared by all workers. Renewal is single-flight: however many requests see a 401 or an
 * ageing token at once, one renewal runs and they all wait for it. Renewal tries the refresh token first
 * and falls back to a new client-credentials grant, as Exsited's SDKs do.
 */
export class TokenSource {
  private token: Token | undefined;
  private renewal: Promise<Token> | undefined;
  renewals = 0;
  /** Whether a token request was ever sent: until then, a stopped run has sent nothing at all. */
  requested = false;

  constructor(
    private readonly http: AxiosInstance,
    private readonly credentials: Credentials,
    private readonly backoff: Backoff,
    private readonly now: () => number = Date.now,
  ) {
    if (credentials.kind === 'access_token') {
      secrets.register(credentials.accessToken);
      this.token = { accessToken: credentials.accessToken, renewAt: Number.POSITIVE_INFINITY };
    } else {
      secrets.register(credentials.clientSecret);
    }
  }

  /** A token fit to use now, renewing it first if it is missing, refused or close to expiry. */
  async get(signal?: AbortSignal): Promise<string> {
    const token = this.token;
    if (token && this.now() < token.renewAt) return token.accessToken;
    this.renewal ??= this.renew(signal).finally(() => (this.renewal = undefined));
    return (await this.renewal).accessToken;
  }

  /** The server answered 401 to `accessToken`: the next `get` renews, unless another worker already has. */
  refused(accessToken: string): void {
    if (this.token?.accessToken === accessToken) this.token = { ...this.token, renewAt: 0 };
  }

  private async renew(signal?: AbortSignal): Promise<Token> {
    if (this.credentials.kind === 'access_token') {
      throw new TokenError('the server refused EXSITED_ACCESS_TOKEN (401) and a pre-issued token cannot be renewed; ' +
        'issue a new one, or set EXSITED_CLIENT_ID, EXSITED_CLIENT_SECRET and EXSITED_REDIRECT_URI instead', true);
    }
    const { clientId, clientSecret, redirectUri } = this.credentials;
    const base = { client_id: clientId, client_secret: clientSecret, redirect_uri: redirectUri };
    const refreshToken = this.token?.refreshToken;
    let token: Token | undefined;
    if (refreshToken) token = await this.request({ ...base, grant_type: 'refresh_token', refresh_token: refreshToken }, signal, true);
    token ??= await this.request({ ...base, grant_type: 'client_credentials' }, signal, false);
    this.token = token;
    this.renewals++;
    return token as Token;
  }

  /** One grant, retried on transport errors, 408, 429 and 5xx. A refused refresh returns undefined. */
  private async request(body: Record<string, string>, signal: AbortSignal | undefined, isRefresh: boolean): Promise<Token | undefined> {
    return pRetry(async () => {
      this.requested = true;
      let response;
      try {
        response = await this.http.post(TOKEN_PATH, body, { signal, headers: { 'Content-Type': 'application/json' } });
      } catch (error) {
        if (isCancel(error)) throw new AbortError(error as Error);
        const { code, message } = describeTransportError(error);
        throw new TokenError(`token endpoint unreachable: ${code}: ${message}`, false);
      }
      const { status } = response;
      if (status === 200 || status === 201) return this.parse(response.data);
      if (isRefresh && status >= 400 && status < 500 && status !== 408 && status !== 429) return undefined;
      if (isRetryableStatus(status)) throw new TokenError(`token endpoint answered ${status}: ${exsitedError(response).message}`, false);
      throw new AbortError(new TokenError(refusedGrant(response), true));
    }, {
      retries: this.backoff.retries,
      minTimeout: 0,
      signal,
      shouldRetry: async ({ retriesConsumed }) => {
        await this.backoff.sleep(this.backoff.delayMs(retriesConsumed + 1), signal);
        return true;
      },
    });
  }

  private parse(data: unknown): Token {
    const body = (data ?? {}) as { access_token?: unknown; refresh_token?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== 'string' || body.access_token === '') {
      throw new AbortError(new TokenError('token endpoint answered without an access_token', true));
    }
    if (body.access_token.length < MIN_SECRET_LENGTH) {
      throw new AbortError(new TokenError(`token endpoint issued an access token of ${body.access_token.length} characters: too short to be ` +
        'told from ordinary text, so it could not be kept out of logs; refusing to use it', true));
    }
    secrets.register(body.access_token);
    const refreshToken = typeof body.refresh_token === 'string' && body.refresh_token !== '' ? body.refresh_token : undefined;
    secrets.register(refreshToken);
    const seconds = Number(body.expires_in); // a number, or a number in a string
    const expiresIn = body.expires_in !== null && body.expires_in !== '' && seconds > 0 ? seconds : DEFAULT_EXPIRES_IN_S;
    return { accessToken: body.access_token, refreshToken, renewAt: this.now() + expiresIn * 800 };
  }
}

/**
 * Why the token endpoint said no, and what to check. Only 400 and 401 speak of the credentials: a redirect
 * (never followed: it could carry the client secret elsewhere), a 404 or a 403 from a proxy or gateway
 * point elsewhere, and saying "check the credentials" would send a person the wrong way.
 */
function refusedGrant(response: AxiosResponse): string {
  const { status } = response;
  const { message } = exsitedError(response);
  if (status >= 300 && status < 400) {
    const location = typeof response.headers?.location === 'string' ? response.headers.location : '';
    let where = '';
    try {
      where = location ? ` to ${quoted(new URL(location, 'http://x').origin, 120)}` : '';
    } catch {
      where = '';
    }
    return `token endpoint answered ${status}, a redirect${where}: redirects are never followed (they could carry the client ` +
      'secret to another host); check --base-url (or EXSITED_BASE_URL): it must name the API itself';
  }
  if (status === 404) return `token endpoint answered 404 (${message}): there is no token endpoint at this base URL; check --base-url (or EXSITED_BASE_URL)`;
  if (status === 400 || status === 401) {
    return `token endpoint answered ${status}: ${message} (check EXSITED_CLIENT_ID, EXSITED_CLIENT_SECRET and EXSITED_REDIRECT_URI)`;
  }
  return `token endpoint answered ${status}: ${message}; the credentials were not checked — a proxy, firewall or gateway may be ` +
    'refusing the request (HTTPS_PROXY, NO_PROXY), or the API client lacks a permission';
}
