import http from 'node:http';
import https from 'node:https';
import { humanDuration } from '../common/durations.js';
import { credentialsOf, shownUrl } from '../common/http-url.js';
import { secrets } from '../common/secrets.js';
import { describeTransportError } from '../exsited/responses.js';

export interface PushgatewayOptions {
  /** The gateway's URL, checked by the options (http or https, no query): user:password@ in it for basic auth. */
  url: string;
  /** A bearer token (EXSITED_METRICS_PUSHGATEWAY_TOKEN); never together with a password. */
  token?: string;
  /** The grouping key: job and shard (names of the tool's own, checked by the options), and `mode/dry_run` for a dry run's group. */
  job: string;
  shard: string;
  dryRun: boolean;
  /** How long one push may take, answer included. */
  timeoutMs: number;
}

export interface Pushgateway {
  /** The gateway as it may be shown: no user, password, query or fragment. */
  shown: string;
  /** POSTs the metrics to the group; rejects with a sentence of ours (the status, the error code), never the gateway's words. */
  post(body: string, contentType: string, signal: AbortSignal): Promise<void>;
  /** Destroys every socket still open to the gateway: nothing holds the process afterwards. */
  close(): void;
}

/**
 * A Prometheus Pushgateway, pushed to with a POST (so that a run that fails leaves the last success's
 * timestamp in place). Its answer is read for the status only: the body is discarded unread (a gateway's
 * or a proxy's error page may echo the request, its Authorization header included), a redirect is not
 * followed (it would take the credentials elsewhere) and counts as a failure, like any status but 2xx.
 * Its own agent, without keep-alive, so that `close` can destroy every socket it opened.
 */
export function pushgateway(options: PushgatewayOptions): Pushgateway {
  const url = new URL(options.url);
  secrets.registerUrl(url);
  const credentials = credentialsOf(url);
  const auth = credentials ? `${credentials.user}:${credentials.password}` : undefined;
  const target = new URL(url.href);
  target.username = '';
  target.password = '';
  const group = `job/${encodeURIComponent(options.job)}/shard/${encodeURIComponent(options.shard)}${options.dryRun ? '/mode/dry_run' : ''}`;
  target.pathname = `${url.pathname.replace(/\/+$/, '')}/metrics/${group}`;
  const transport = url.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: false, maxSockets: 1 });
  const authorization = options.token ? { Authorization: `Bearer ${options.token}` } : {};
  return {
    shown: shownUrl(url),
    post: (body, contentType, signal) => new Promise<void>((resolve, reject) => {
      const bounded = AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]);
      const request = transport.request(target, {
        method: 'POST', agent, auth, signal: bounded,
        headers: { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...authorization },
      });
      request.on('response', (response) => {
        response.on('error', () => undefined);
        response.resume(); // unread: never shown, never kept
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`the gateway answered ${status}${status >= 300 && status < 400 ? ' (a redirect, not followed)' : ''}`));
      });
      // A 101 is no answer (Node hands it to this listener only; with none, the push never settled, and a run
      // with nothing else to do ended with exit 13): the gateway took the connection for another protocol.
      request.once('upgrade', (_response, socket: { destroy(): void }) => {
        socket.destroy();
        reject(new Error('the gateway answered 101 Switching Protocols (it took the connection for another protocol)'));
      });
      request.on('error', (error) => reject(new Error(bounded.aborted ? `no answer within ${humanDuration(options.timeoutMs)}` : transportProblem(error))));
      request.end(body);
    }),
    close: () => agent.destroy(),
  };
}

/** A connection's failure in words: the error's code and Node's message (never a peer's text), the code once. */
function transportProblem(error: unknown): string {
  const { code, message } = describeTransportError(error);
  return message.includes(code) ? message : `${code}: ${message}`;
}
