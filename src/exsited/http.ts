import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { getProxyForUrl } from 'proxy-from-env';
import { secrets } from '../common/secrets.js';
import { VERSION } from '../version.js';

export interface HttpOptions {
  baseUrl: URL;
  /** DELETE requests in flight at most; the agents keep that many sockets alive (plus one for auth). */
  concurrency: number;
  timeoutMs: number;
}

/**
 * The one axios instance of a run. Redirects are never followed (a 3xx could carry the bearer token to a
 * host outside the allowlist); every status is returned, not thrown, so that classification happens in
 * one place; only transport failures throw.
 */
export function createHttpClient({ baseUrl, concurrency, timeoutMs }: HttpOptions): AxiosInstance {
  const agentOptions = { keepAlive: true, maxSockets: concurrency + 1, maxFreeSockets: concurrency + 1 };
  return axios.create({
    baseURL: baseUrl.href.replace(/\/+$/, ''),
    timeout: timeoutMs,
    maxRedirects: 0,
    // Every request goes to the one base URL: when no proxy variable applies to it, say so once,
    // rather than have axios read the proxy environment again for each request.
    ...(getProxyForUrl(baseUrl.href) ? {} : { proxy: false as const }),
    validateStatus: () => true,
    transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: true },
    httpAgent: new http.Agent(agentOptions),
    httpsAgent: new https.Agent(agentOptions),
    headers: { Accept: 'application/json', 'User-Agent': `exsited-order-cleanup/${VERSION}` },
  });
}

export function destroyAgents(client: AxiosInstance): void {
  (client.defaults.httpAgent as http.Agent | undefined)?.destroy();
  (client.defaults.httpsAgent as https.Agent | undefined)?.destroy();
}

const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** Statuses worth another try: timeouts, throttling and server errors. */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/** A transport failure as `{code, message}`: never the request config, headers or body of an axios error. */
export function describeTransportError(error: unknown): { code: string; message: string } {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' && e.code ? e.code : 'ENETWORK';
  const message = typeof e.message === 'string' && e.message ? e.message : code;
  return { code, message: secrets.scrub(message) };
}

export function isCancel(error: unknown): boolean {
  return axios.isCancel(error) || (error as { code?: unknown }).code === 'ERR_CANCELED';
}

/** A failed response as `{code, message}`: Exsited's `errors[]` (or the raw body, shortened). */
export function exsitedError(response: AxiosResponse): { code: string; message: string } {
  const body: unknown = response.data;
  let code = `HTTP_${response.status}`;
  let message = '';
  const errors = body && typeof body === 'object' ? (body as { errors?: unknown }).errors : undefined;
  if (Array.isArray(errors)) {
    const entries = errors.filter((entry): entry is { code?: unknown; message?: unknown } => !!entry && typeof entry === 'object');
    const first = entries[0]?.code;
    if ((typeof first === 'string' && first !== '') || typeof first === 'number') code = String(first);
    message = entries.map((entry) => entry.message).filter((text) => typeof text === 'string' && text !== '').join('; ');
  } else if (typeof body === 'string') {
    message = body.trim();
  }
  if (message === '') message = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  return { code: secrets.scrub(code), message: secrets.scrub(message.length > 500 ? `${message.slice(0, 500)}…` : message) };
}

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: unknown, now = Date.now()): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = /^[A-Za-z]{3}/.test(value) ? Date.parse(value) : Number.NaN; // HTTP dates start with the weekday
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
