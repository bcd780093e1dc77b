import { refusal, usageError } from '../common/errors.js';
import { parseHttpUrl } from '../common/http-url.js';

/** Hosts this tool may talk to without being told more: Exsited's published non-production hosts and loopback. */
export const DEFAULT_ALLOWED_HOSTS = ['dev-api.exsited.com', 'api-stage.exsited.com', 'localhost', '127.0.0.1', '::1'];
export const DEFAULT_BASE_URL = 'https://dev-api.exsited.com';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);

/** localhost, 127.0.0.1 or ::1 (in any spelling `normalizeHost` accepts). */
export const isLoopbackHost = (host: string) => LOOPBACK.has(normalizeHost(host));

/** `[::1]` → `::1`, `Dev-API.exsited.com.` → `dev-api.exsited.com` */
function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/**
 * Parses a base URL and refuses it unless its host is allowlisted (exit 3). Called before any request,
 * the token request included. Plain http is accepted for loopback only; credentials in the URL, a query
 * or a fragment are usage errors (exit 2), since they would end up in logs.
 */
export function checkBaseUrl(raw: string, allowedHosts: readonly string[], source = 'the base URL'): URL {
  const parsed = parseHttpUrl(raw);
  // Never the text itself: a URL may carry user:password@, and one that cannot be parsed cannot be cut apart safely.
  if ('problem' in parsed) throw usageError(`${source} ${parsed.problem}; nothing was sent`);
  const { url } = parsed;
  if (url.username || url.password) throw usageError(`${source} must not contain credentials; use the EXSITED_* environment variables; nothing was sent`);
  if (url.search || url.hash || /[?#]/.test(raw)) throw usageError(`${source} must not contain a query or a fragment; nothing was sent`);
  const host = normalizeHost(url.hostname);
  const allowed = new Set(allowedHosts.map(normalizeHost));
  if (!allowed.has(host)) {
    throw refusal(
      `Refusing to touch ${host}: it is not an allowed host, and an unknown host is treated as production. ` +
        `Allowed: ${[...allowed].join(', ')}. To allow it, pass --allow-host ${host} or add it to EXSITED_ALLOWED_HOSTS.`,
    );
  }
  if (url.protocol === 'http:' && !LOOPBACK.has(host)) {
    throw refusal(`Refusing plain http:// to ${host}: credentials would cross the network unencrypted; use https://`);
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/** The base URL as recorded and printed: scheme, host, port and path; never credentials or a query. */
export function displayBaseUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}
