import type { FaultPlan } from './faults.js';
import type { LimitPlan, OutagePlan } from './limits.js';
import type { FakeOrder } from './order-store.js';

export interface FakeClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/** The credentials the demo and the tests use against the fake API. */
export const DEMO_CLIENT: FakeClient = {
  clientId: 'demo-client',
  clientSecret: 'demo-secret-7f3a9c1e5b',
  redirectUri: 'http://localhost/callback',
};

export interface FakeExsitedOptions {
  orders: FakeOrder[];
  port?: number;
  host?: string;
  client?: FakeClient;
  /** Access-token lifetime in seconds (expires_in); tests use a few seconds to force renewals. */
  tokenTtlS?: number;
  faults?: FaultPlan;
  /** Orders that can never be deleted, with the status and message to answer (e.g. 409, "has invoices"). */
  refusals?: Record<string, { status: number; message: string }>;
  /** Misbehave: answer every list request with the first page, whatever its offset. */
  listIgnoresOffset?: boolean;
  /** Keep every DELETE in `deletes` (default); benchmarks of a million orders turn it off. */
  recordDeletes?: boolean;
  /** Serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
  tls?: { key: string; cert: string };
  /** A hostile server, for the adversarial tests. */
  hostile?: HostileBehaviour;
  /**
   * One live token per client, as Exsited's knowledge base reports: a new access token ends every earlier
   * one (and its refresh token), so two runs on one set of credentials sign each other out.
   */
  oneLiveToken?: boolean;
  /** A rate limit on DELETE, shared by every client (429 with Retry-After beyond it). */
  limit?: LimitPlan;
  /** Every DELETE answered 503 for a while (a degraded service), then healthy again. */
  outage?: OutagePlan;
}

export interface HostileBehaviour {
  /**
   * Error answers echo the credentials the request carried: the bearer token, the client secret; with
   * 'encoded', in the forms careless servers echo them too (percent-encoded, JSON and HTML escapes, hex,
   * wrapped base64, upper case, a prefix).
   */
  echoCredentials?: boolean | 'encoded';
  /** The Retry-After header of injected 429s, sent as is (e.g. `999999999`, or an HTTP date). */
  retryAfterHeader?: string | ((now: number) => string | undefined);
  /** The token endpoint answers this status instead (a 307 to elsewhere, a proxy's 403), with `body` as its text. */
  tokenAnswer?: { status: number; body: string; headers?: Record<string, string> };
}
