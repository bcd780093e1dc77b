import { randomBytes } from 'node:crypto';

/** The body of a token grant, as Exsited answers it. */
export interface TokenGrant {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  token_type: 'Bearer';
}

/**
 * The fake's OAuth2 tokens: access tokens live `ttlS` seconds, a refresh token is good once. With one live
 * token, issuing a token ends every earlier one and its refresh token.
 */
export class TokenStore {
  /** Every access and refresh token issued, so that tests can look for them where they must not be. */
  readonly issued: string[] = [];
  private readonly expiries = new Map<string, number>();
  private readonly refreshTokens = new Set<string>();

  constructor(private readonly ttlS: number, private readonly oneLive: boolean, private readonly now: () => number = Date.now) {}

  issue(): TokenGrant {
    const accessToken = `at-${randomBytes(16).toString('hex')}`;
    const refreshToken = `rt-${randomBytes(16).toString('hex')}`;
    if (this.oneLive) {
      this.expiries.clear();
      this.refreshTokens.clear();
    }
    this.expiries.set(accessToken, this.now() + this.ttlS * 1000);
    this.refreshTokens.add(refreshToken);
    this.issued.push(accessToken, refreshToken);
    return { access_token: accessToken, refresh_token: refreshToken, expires_in: this.ttlS, token_type: 'Bearer' };
  }

  /** Uses up a refresh token: true once for each one issued and not yet ended. */
  redeem(refreshToken: string): boolean {
    return this.refreshTokens.delete(refreshToken);
  }

  /** Whether an Authorization header carries a live access token. */
  isLive(authorization: string | undefined): boolean {
    const match = /^Bearer (\S+)$/.exec(authorization ?? '');
    const expiry = match ? this.expiries.get(match[1] as string) : undefined;
    return expiry !== undefined && expiry > this.now();
  }
}
