import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a route reads of a request. */
export interface FakeRequest {
  method: string;
  url: URL;
  authorization: string | undefined;
  /** performance.now() when the request arrived, before any latency was added. */
  arrived: number;
  body(): Promise<string>;
}

/** The ways a route answers: one call per request (none after `hang`). */
export interface Reply {
  json(status: number, body: unknown, headers?: Record<string, string>): void;
  /** Exsited's error shape: `{errors: [{code, message}]}`. */
  error(status: number, code: string, message: string, headers?: Record<string, string>): void;
  text(status: number, body: string, headers?: Record<string, string>): void;
  noContent(): void;
  /** The connection destroyed without an answer. */
  reset(): void;
  /** No answer at all, until the server closes. */
  hang(): void;
}

/** A request and its reply over node's HTTP server; `hanging` keeps the unanswered ones for close() to end. */
export function httpExchange(req: IncomingMessage, res: ServerResponse, hanging: Set<ServerResponse>): { request: FakeRequest; reply: Reply } {
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  const request: FakeRequest = {
    method: String(req.method),
    url: new URL(req.url ?? '/', 'http://fake'),
    authorization: req.headers.authorization,
    arrived: performance.now(),
    body: () => readBody(req),
  };
  const reply: Reply = {
    json,
    error: (status, code, message, headers) => json(status, { errors: [{ code, message }] }, headers),
    text: (status, body, headers) => res.writeHead(status, { 'Content-Type': 'text/plain', ...headers }).end(body),
    noContent: () => res.writeHead(204).end(),
    reset: () => req.socket.destroy(),
    hang: () => {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
    },
  };
  return { request, reply };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
