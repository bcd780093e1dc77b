import type { AxiosInstance } from 'axios';
import pRetry, { AbortError } from 'p-retry';
import { secrets } from '../common/secrets.js';
import type { Backoff } from '../engine/backoff.js';
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
      const reason = `token endpoint answered ${status}: ${exsitedError(response).message}`;
      if (isRetryableStatus(status)) throw new TokenError(reason, false);
      throw new AbortError(new TokenError(`${reason} (check EXSITED_CLIENT_ID, EXSITED_CLIENT_SECRET and EXSITED_REDIRECT_URI)`, true));
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
    secrets.register(body.access_token);
    const refreshToken = typeof body.refresh_token === 'string' && body.refresh_token !== '' ? body.refresh_token : undefined;
    secrets.register(refreshToken);
    const seconds = Number(body.expires_in); // a number, or a number in a string
    const expiresIn = body.expires_in !== null && body.expires_in !== '' && seconds > 0 ? seconds : DEFAULT_EXPIRES_IN_S;
    return { accessToken: body.access_token, refreshToken, renewAt: this.now() + expiresIn * 800 };
  }
}
