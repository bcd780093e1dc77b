import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import axios, { type AxiosInstance } from 'axios';
import { HttpsProxyAgent, type HttpsProxyAgentOptions } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import { usageError } from '../common/errors.js';
import { secrets } from '../common/secrets.js';
import { VERSION } from '../common/version.js';
import { isLoopbackHost } from './host-allowlist.js';
import { BODY_NOT_JSON, PROXY_REFUSED, saysJson, SWITCHED_PROTOCOLS } from './responses.js';

/** The largest answer body kept, in bytes, unless a request says otherwise (an order, a page of a listing: orders.ts). */
const ANSWER_BYTES = 1024 * 1024;

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
 * proxied (plain http to loopback would cross the proxy in clear). A proxy that answers the CONNECT with
 * anything but 200 has not opened a tunnel: its answer is a connection failure (ProxyTunnelAgent), never
 * an answer of the API.
 */
export function createHttpClient({ baseUrl, concurrency, timeoutMs }: HttpOptions): AxiosInstance {
  // keepAliveMsecs as axios sets it on every request's socket (60 s): at the agent's 1 s default the two took turns,
  // and Node told the kernel each time, eight setsockopt(2) calls an order (test/http.test.ts).
  const agentOptions = { keepAlive: true, keepAliveMsecs: 60_000, maxSockets: concurrency + 1, maxFreeSockets: concurrency + 1 };
  const proxy = proxyFor(baseUrl);
  const client = axios.create({
    baseURL: baseUrl.href.replace(/\/+$/, ''),
    timeout: timeoutMs,
    adapter: 'http', // Node's http client, never fetch (the build leaves axios's probe of the fetch API out: scripts/build.mjs)
    maxRedirects: 0,
    // An answer's body is kept whole in memory: a DELETE's has none, a token's or an error's is a few hundred bytes.
    // A larger one (a hostile gateway's endless body) fails the request as a bad answer, never the process.
    maxContentLength: ANSWER_BYTES,
    proxy: false,
    validateStatus: () => true,
    transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: true },
    httpAgent: guarded(new http.Agent(agentOptions), timeoutMs),
    // The API's certificate is always checked, whatever NODE_TLS_REJECT_UNAUTHORIZED says: with it at 0, a proxy that
    // opens the tunnel and then answers TLS itself would be taken for the API (tokens, client secret and all).
    httpsAgent: guarded(proxy ? new ProxyTunnelAgent(proxy, agentOptions) : new https.Agent({ ...agentOptions, rejectUnauthorized: true }), timeoutMs),
  });
  // The run's two headers and nothing else: axios's defaults hold an object per HTTP method (twelve), which it
  // deep-copies into every request's config: a tenth of what a DELETE allocated. (Content-Type's empty place
  // keeps the order in which a request's own headers are sent, as axios's defaults gave it.)
  client.defaults.headers = { Accept: 'application/json', 'Content-Type': undefined, 'User-Agent': `exsited-order-cleanup/${VERSION}` } as unknown as typeof client.defaults.headers;
  return client;
}

/** The proxy the environment sets for `baseUrl`, checked; undefined for loopback and for hosts in NO_PROXY. */
export function proxyFor(baseUrl: URL): URL | undefined {
  if (isLoopbackHost(baseUrl.hostname)) return undefined;
  const raw = getProxyForUrl(baseUrl.href);
  if (!raw) return undefined;
  let proxy: URL;
  try {
    proxy = new URL(raw);
  } catch {
    throw usageError('the proxy set in the environment (HTTPS_PROXY or ALL_PROXY) is not a valid URL; nothing was sent');
  }
  secrets.registerUrl(proxy);
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



/**
 * https-proxy-agent hands a refused CONNECT's reply to the client as if the origin had sent it (a proxy's
 * 201 with a token, then 204 to every DELETE, became "authenticated" and "deleted" with nothing reaching
 * the API). Here any CONNECT answer but 200 fails the request as a transport error, retried as a
 * connection failure and named as the proxy's; the proxy's body (which may echo the Proxy-Authorization
 * header) is never read.
 */
class ProxyTunnelAgent extends HttpsProxyAgent<string> {
  private readonly shown: string;

  constructor(proxy: URL, options: HttpsProxyAgentOptions<string>) {
    super(proxy, options);
    this.shown = `${proxy.protocol}//${proxy.host}`;
  }

  override async connect(req: http.ClientRequest, options: Parameters<HttpsProxyAgent<string>['connect']>[1]): Promise<Socket> {
    let status: number | undefined;
    (options as { rejectUnauthorized?: boolean }).rejectUnauthorized = true; // the TLS inside the tunnel is the API's: its certificate is checked (see createHttpClient)
    req.once('proxyConnect', (connect: { statusCode: number }) => (status = connect.statusCode));
    const socket = await super.connect(req, options);
    if (status === 200) return socket;
    socket.destroy();
    throw Object.assign(new Error(`the proxy ${this.shown} refused to open a tunnel to ${options.host}:${options.port} ` +
      `(it answered CONNECT with ${status ?? 'no status'}${status === 407 ? ': proxy authentication required' : ''})`), { code: PROXY_REFUSED });
  }
}

/** The request's own timer, on the request. */
const DEADLINE = Symbol('deadline');
type Guarded = http.ClientRequest & { [DEADLINE]?: NodeJS.Timeout };

/**
 * Every request through the run's agents, whatever it asks for (a DELETE, a GET, a token):
 * - **ends at the timeout, answer and all.** axios's own timer stops when an answer's headers arrive; after that
 *   only the socket's idle timeout applies, and a server that sends a body a byte at a time never lets the socket
 *   idle: one such answer held its order's slot for as long as the server liked (red team). The request fails
 *   as a timeout (ETIMEDOUT), retried as one is.
 * - **never takes 101 Switching Protocols for an answer.** A server (or a gateway) that answers so takes the
 *   connection for another protocol and never answers the request. Node hands such an answer to an 'upgrade'
 *   listener; with none, it closes the socket and says nothing on the request: axios waited forever, the run's
 *   event loop emptied, and the process ended with exit 13 and no run.end. The request fails instead, as a
 *   transport error retried as a connection failure is: whether a DELETE so answered was carried out is
 *   unknown, and a DELETE again is safe (404: already absent).
 * - **is the last on its connection after any answer but a success or the API's own "not found".** Such an answer
 *   (a 503, a 429, a 403, a proxy's 404 page) is a gateway's as often as not, and a gateway that errs may send more
 *   than one: a 204 it sent late after a 503, or a 429, was taken as the next request's on the reused socket, and
 *   an order the server never answered was recorded deleted (red team). A fresh connection costs a handshake after
 *   those answers only: a 2xx with no body, and a 2xx, 404 or 410 in JSON whose body starts as JSON does (a resume's
 *   orders already gone, Exsited's own words), keep theirs.
 * One timer and the same three functions for every request: nothing else is allocated for a DELETE's 204 (a JSON
 * answer's first bytes are read by a listener of its own).
 */
function guarded<A extends http.Agent>(agent: A, timeoutMs: number): A {
  const add = (agent as unknown as { addRequest: (req: http.ClientRequest, options: unknown) => void }).addRequest.bind(agent);
  Object.assign(agent, {
    addRequest(req: Guarded, options: unknown) {
      req.on('upgrade', failUpgraded);
      req.on('response', lastAfterUnusual);
      req[DEADLINE] = setTimeout(endOverdue, timeoutMs, req, timeoutMs).unref();
      req.on('close', clearDeadline);
      add(req, options);
    },
  });
  return agent;
}

/**
 * Node gives the socket to this listener (its own error listeners removed) and closes the request, so it is
 * called once at most: the failure is said on the request itself, where axios listens.
 */
function failUpgraded(this: http.ClientRequest, _response: http.IncomingMessage, socket: Socket): void {
  socket.destroy();
  this.emit('error', Object.assign(new Error('the server answered 101 Switching Protocols: it took the connection for another protocol and never answered'), { code: SWITCHED_PROTOCOLS }));
}

/**
 * Node then closes the socket once the answer has come whole, rather than hand it to the next request. Kept: a 2xx with
 * no body (the API's 204), and a 2xx, 404 or 410 said to be JSON whose first bytes are (a page typed JSON, or untyped, is
 * judged a page from its body later, too late for the socket: second red team, a stray 204 after one was taken for the
 * next order's). What the first bytes said is kept on the request for statusLineOf, when the rest never comes.
 */
function lastAfterUnusual(this: http.ClientRequest & { [BODY_NOT_JSON]?: boolean }, response: http.IncomingMessage): void {
  const status = response.statusCode ?? 0;
  const { headers } = response;
  const outcome = (status >= 200 && status < 300) || status === 404 || status === 410;
  // (A 204 that says it has a body has one on the wire, which Node would read as the next answer: third red team.)
  const saysBody = (headers['content-length'] !== undefined && headers['content-length'] !== '0') || headers['transfer-encoding'] !== undefined;
  const bodiless = ((status === 204 || status === 205) && !saysBody) || (status !== 204 && status !== 205 && headers['content-length'] === '0');
  if (outcome && bodiless && status < 300) return;
  const encoding = String(headers['content-encoding'] ?? '').trim().toLowerCase();
  if (outcome && !bodiless && status !== 204 && status !== 205 && saysJson(headers['content-type']) && (encoding === '' || encoding === 'identity' || DECODED.has(encoding))) {
    if (encoding === '' || encoding === 'identity') watchStart(this, response); // a decoded body is judged whole (orders.ts ends its connection)
    return;
  }
  this.shouldKeepAlive = false;
}

/** The encodings axios decodes: a body in any other (`x-none`) is read as it came, and is no JSON of the API's. */
const DECODED = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'compress', 'x-compress']);

/** Reads the body's first byte that is not white space, as it comes: `{` or `[`, JSON; anything else, not. */
function watchStart(req: http.ClientRequest & { [BODY_NOT_JSON]?: boolean }, response: http.IncomingMessage): void {
  const look = (chunk: Buffer) => {
    for (const byte of chunk) {
      if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d || byte === 0xef || byte === 0xbb || byte === 0xbf) continue; // (and a BOM)
      response.off('data', look);
      if (byte === 0x7b || byte === 0x5b) return;
      req[BODY_NOT_JSON] = true;
      req.shouldKeepAlive = false;
      return;
    }
  };
  response.on('data', look);
}

/** Said on the request, where axios listens (a request with no answer yet has usually ended at axios's own timer, with the same words). */
function endOverdue(req: http.ClientRequest, timeoutMs: number): void {
  req.destroy(Object.assign(new Error(`timeout of ${timeoutMs}ms exceeded`), { code: 'ETIMEDOUT' }));
}

function clearDeadline(this: Guarded): void {
  clearTimeout(this[DEADLINE]);
}

export function destroyAgents(client: AxiosInstance): void {
  (client.defaults.httpAgent as http.Agent | undefined)?.destroy();
  (client.defaults.httpsAgent as https.Agent | undefined)?.destroy();
}

