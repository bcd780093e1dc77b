import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import { usageError } from '../common/errors.js';
import { secrets } from '../common/secrets.js';
import { cut } from '../common/text.js';
import { VERSION } from '../version.js';
import { isLoopbackHost } from './host-allowlist.js';

export interface HttpOptions {
  baseUrl: URL;
  /** DELETE requests in flight at most; the agents keep that many sockets alive (plus one for auth). */
  concurrency: number;
  timeoutMs: number;
}

/**
 * The one axios instance of a run. Redirects are never followed (a 3xx could carry the bearer token to a
 * host outside the allowlist); every status is returned, not thrown, so that classification happens in
 * one place; only transport failures throw. axios's own proxy support is never used: it hands an https
 * request to an http proxy in clear text, token and all. A proxy (HTTPS_PROXY, ALL_PROXY, NO_PROXY) is
 * used through a CONNECT tunnel, so it carries TLS it cannot read or answer itself; loopback is never
 * proxied (plain http to loopback would cross the proxy in clear).
 */
export function createHttpClient({ baseUrl, concurrency, timeoutMs }: HttpOptions): AxiosInstance {
  const agentOptions = { keepAlive: true, maxSockets: concurrency + 1, maxFreeSockets: concurrency + 1 };
  const proxy = proxyFor(baseUrl);
  return axios.create({
    baseURL: baseUrl.href.replace(/\/+$/, ''),
    timeout: timeoutMs,
    maxRedirects: 0,
    proxy: false,
    validateStatus: () => true,
    transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: true },
    httpAgent: new http.Agent(agentOptions),
    httpsAgent: proxy ? new HttpsProxyAgent(proxy, agentOptions) : new https.Agent(agentOptions),
    headers: { Accept: 'application/json', 'User-Agent': `exsited-order-cleanup/${VERSION}` },
  });
}

/** The proxy the environment sets for `baseUrl`, checked; undefined for loopback and for hosts in NO_PROXY. */
function proxyFor(baseUrl: URL): URL | undefined {
  if (isLoopbackHost(baseUrl.hostname)) return undefined;
  const raw = getProxyForUrl(baseUrl.href);
  if (!raw) return undefined;
  let proxy: URL;
  try {
    proxy = new URL(raw);
  } catch {
    throw usageError('the proxy set in the environment (HTTPS_PROXY or ALL_PROXY) is not a valid URL; nothing was sent');
  }
  secrets.register(decodeURIComponent(proxy.password));
  const shown = `${proxy.protocol}//${proxy.host}`; // never its user or password
  if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') {
    throw usageError(`the proxy set in the environment (HTTPS_PROXY or ALL_PROXY), ${shown}, is not an http:// or https:// proxy; ` +
      'only those are supported (set NO_PROXY to bypass it); nothing was sent');
  }
  if (proxy.search || proxy.hash || proxy.pathname.replace(/\/+$/, '') !== '') {
    throw usageError(`the proxy set in the environment (HTTPS_PROXY or ALL_PROXY), ${shown}, has a path, query or fragment; nothing was sent`);
  }
  return proxy;
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
  return { code: cut(code, 100), message: cut(message, 500) };
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
  return { code: cut(code, 100), message: cut(message, 500) };
}

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: unknown, now = Date.now()): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = /^[A-Za-z]{3}/.test(value) ? Date.parse(value) : Number.NaN; // HTTP dates start with the weekday
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
