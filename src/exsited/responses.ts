import type { AxiosResponse } from 'axios';
import { cut, quoted } from '../common/text.js';

/*
 * Reading the API's answers: what is worth a retry, what went wrong in words a person can act on (never
 * an axios error's request config, headers or body), and how long the server asks to be left alone.
 * Types only from axios: these helpers load no HTTP machinery.
 */

const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** Statuses worth another try: timeouts, throttling and server errors. */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/** A transport failure as `{code, message}`: never the request config, headers or body of an axios error. */
/** The code of a transport error raised when a proxy refuses to open a tunnel (its message is ours: it names the proxy and its answer). */
export const PROXY_REFUSED = 'EPROXYCONNECT';

/** The code of a transport error raised when a server answers a request by switching protocols (101): an answer that cannot be used (common/domain's isUnusableAnswer). */
export const SWITCHED_PROTOCOLS = 'EUPGRADE';

/**
 * The answer's status line and headers when its body never came whole (cut off by a reset, too big, too slow, not the
 * gzip it said, or the run aborted it), read from the request axios sent; undefined when no status line came. Its body
 * is empty here, and the status is the answer (a DELETE's 2xx or 404; a 5xx, another try, a 429's Retry-After heard;
 * a 401, renew; a 403, final): a gateway's 502 is HTTP 502 however its page ended. Only a body read for its content
 * is needed (a 2xx's order, page or token, a dry run's 404 in JSON: orders.ts needsItsBody, auth.ts): without it the
 * answer could not be used.
 */
export function statusLineOf(error: unknown): Pick<AxiosResponse, 'status' | 'statusText' | 'headers' | 'data'> | undefined {
  const request = (error as { request?: { res?: { statusCode?: unknown; statusMessage?: unknown; headers?: unknown }; [BODY_NOT_JSON]?: boolean } } | undefined)?.request;
  const res = request?.res;
  if (typeof res?.statusCode !== 'number' || res.statusCode < 200) return undefined; // a 1xx is no answer (101: a switch of protocols, EUPGRADE)
  const statusText = typeof res.statusMessage === 'string' ? res.statusMessage : '';
  // What the body's first bytes said, when they came (exsited/http.ts): a page, however it ended.
  return { status: res.statusCode, statusText, headers: (res.headers ?? {}) as AxiosResponse['headers'], data: request?.[BODY_NOT_JSON] ? NOT_JSON : undefined };
}

/** Set on a request whose answer, said to be JSON, did not start as JSON does (exsited/http.ts). */
export const BODY_NOT_JSON = Symbol('body not JSON');
/** The body of such an answer, when the rest never came: all that is known of it. */
const NOT_JSON = '(a body that did not start as JSON does)';

/**
 * What came instead of the API's answer, in a few words (`a text/html body`, `a body that is not JSON`), or undefined:
 * Exsited answers in JSON, or with no body at all (a DELETE's 204), so a body that is anything else — a proxy's, a
 * gateway's or a captive portal's page, a default backend's `text/plain` — says nothing of an order (red team: a proxy's
 * 404 page recorded the order already_absent, its 200 page deleted, and a resume skipped both). Read from the body when
 * it came, whatever the headers claim (a page typed JSON, or untyped, is a page still); from the headers when it did not
 * (cut off, too big). A 204 or 205 has no body whatever its Content-Type says (frameworks send `text/html` on them), nor
 * has an answer whose body came empty (or blank) or whose Content-Length is 0.
 */
export function notTheApis(response: Pick<AxiosResponse, 'status' | 'headers' | 'data'>): string | undefined {
  if (response.status === 204 || response.status === 205) return undefined;
  const headers = response.headers ?? {};
  const type = mediaType(headers['content-type']);
  const typed = type !== '' && !saysJson(type);
  const { data } = response;
  if (data !== undefined) {
    if (typeof data === 'string' && data.trim() === '') return undefined; // nothing
    // JSON, parsed whatever the type said: an object or a list is the API's; a bare number, true or null is a page's text (axios parses "1").
    if (data !== null && typeof data === 'object') return undefined;
    return typed ? `${article(type)} ${cut(type, 60)} body` : 'a body that is not JSON';
  }
  return typed && String(headers['content-length'] ?? '') !== '0' ? `${article(type)} ${cut(type, 60)} body` : undefined;
}

/** A Content-Type's media type, lower case, without its parameters (`text/html; x=json` is `text/html`). */
const mediaType = (contentType: unknown): string => String(contentType ?? '').split(/[;,]/)[0]?.trim().toLowerCase() ?? '';

/** Whether a Content-Type says JSON (`application/json`, `application/problem+json`), in its media type, never a parameter. */
export const saysJson = (contentType: unknown): boolean => /\bjson\b/.test(mediaType(contentType));

const article = (word: string): string => (/^[aeiou]/i.test(word) ? 'an' : 'a');

/** A failure's status and words, the status once: `HTTP 503: maintenance`, or a message that names its status itself (a page's) as it is. */
export const withStatus = (status: number, message: string): string => (message.startsWith(`HTTP ${status} `) || message === `HTTP ${status}` ? message : `HTTP ${status}: ${message}`);

/** `token endpoint answered 503: maintenance`, or `… answered 503 Service Unavailable: a text/html body` (the status once). */
export const tokenEndpointAnswered = (status: number, message: string): string => `token endpoint answered ${withStatus(status, message).slice('HTTP '.length)}`;

/** A page's title (or first heading), for the words of a failure: never the page itself (red team: raw HTML on the console and in the log). */
function pageTitle(html: string): string | undefined {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(html)?.[1] ?? /<h1[^>]*>([^<]*)<\/h1>/i.exec(html)?.[1];
  const words = title?.replace(/\s+/g, ' ').trim();
  return words ? cut(words, 100) : undefined;
}

export function describeTransportError(error: unknown): { code: string; message: string } {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' && e.code ? e.code : 'ENETWORK';
  const message = typeof e.message === 'string' && e.message ? e.message : code;
  return { code: cut(code, 100), message: cut(message, 500) };
}

/** axios's CanceledError (the request was aborted by its signal), recognised without loading axios. */
export function isCancel(error: unknown): boolean {
  const e = error as { __CANCEL__?: unknown; code?: unknown } | undefined;
  return !!e && (e.__CANCEL__ === true || e.code === 'ERR_CANCELED');
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
  } else if (typeof body === 'string' && /<[a-z!/]/i.test(body)) { // a page, or text with markup in it (PHP's "Notice: …<br>")
    const title = pageTitle(body);
    message = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}: ${notTheApis(response) ?? 'a page'}${title ? `, ${quoted(title, 100)}` : ''}`;
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

/** A status that says the server, not the request, is at fault, or asks for time: 5xx, 408, 429. */
export const serverSide = (status: number | null): boolean => status !== null && (status >= 500 || isRetryableStatus(status));

/**
 * Why the token endpoint said no, and what to check. Only 400 and 401 speak of the credentials: a redirect
 * (never followed: it could carry the client secret elsewhere), a 404 or a 403 from a proxy or gateway
 * point elsewhere, and saying "check the credentials" would send a person the wrong way.
 */
export function refusedGrant(response: AxiosResponse): string {
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
    return `${tokenEndpointAnswered(status, message)} (check EXSITED_CLIENT_ID, EXSITED_CLIENT_SECRET and EXSITED_REDIRECT_URI)`;
  }
  return `${tokenEndpointAnswered(status, message)}; the credentials were not checked — a proxy, firewall or gateway may be ` +
    'refusing the request (HTTPS_PROXY, NO_PROXY), or the API client lacks a permission';
}
