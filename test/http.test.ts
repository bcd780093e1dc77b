import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from '@jest/globals';
import { createHttpClient, destroyAgents } from '../src/exsited/http.js';
import { checkOrder, deleteOrder, listOrdersPage } from '../src/exsited/orders.js';
import { RunControl } from '../src/engine/run-control.js';

const servers: http.Server[] = [];
const clients: Array<ReturnType<typeof createHttpClient>> = [];
afterEach(async () => {
  clients.splice(0).forEach(destroyAgents);
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  })));
});

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the HTTP client', () => {
  test('never follows a redirect: a 3xx is the answer, and the other host receives nothing, the bearer token least of all', async () => {
    const reached: string[] = [];
    const elsewhere = await serve((req, res) => {
      reached.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.writeHead(204).end();
    });
    const api = await serve((req, res) => res.writeHead(307, { Location: `${elsewhere}${req.url}` }).end());
    const client = createHttpClient({ baseUrl: new URL(api), concurrency: 1, timeoutMs: 2000 });
    clients.push(client);

    const deleted = await deleteOrder(client, 'ORD-1', 'bearer-token-0123456789');
    const listed = await listOrdersPage(client, { limit: 10, offset: 0 }, 'bearer-token-0123456789');

    expect(deleted).toMatchObject({ kind: 'failed', httpStatus: 307 });
    expect(listed).toMatchObject({ kind: 'failed', httpStatus: 307 });
    expect(reached).toEqual([]);
  });

  test('sends the headers it always sent, in the same order, and carries none from one request to the next', async () => {
    const seen: string[] = [];
    const api = await serve((req, res) => {
      seen.push(`${req.method} ${req.rawHeaders.filter((_, i) => i % 2 === 0).join(',')}`);
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    const client = createHttpClient({ baseUrl: new URL(api), concurrency: 1, timeoutMs: 2000 });
    clients.push(client);
    await client.post('/api/v1/oauth2/token', { grant_type: 'client_credentials' }, { headers: { Authorization: 'Basic x' } });
    await deleteOrder(client, 'ORD-1', 'bearer-token-0123456789');
    await listOrdersPage(client, { limit: 10, offset: 0 }, 'bearer-token-0123456789');
    // As axios's own defaults ordered them (Content-Type second), before the instance's headers were made flat.
    expect(seen).toEqual([
      'POST Accept,Content-Type,User-Agent,Authorization,Content-Length,Accept-Encoding,Host,Connection',
      'DELETE Accept,User-Agent,Authorization,Accept-Encoding,Host,Connection',
      'GET Accept,User-Agent,Authorization,Accept-Encoding,Host,Connection',
    ]);
  });

  test('tells the kernel a connection\'s keep-alive once, not twice at every request on it', async () => {
    // axios asks for 60 s on every request's socket, and an agent at its default 1 s asked for 1 s each time the
    // socket went back to the pool: eight setsockopt(2) calls an order, ~3% of a run's CPU at full speed.
    let handlePrototype: { setKeepAlive: (...args: unknown[]) => unknown } | undefined;
    const api = await serve((req, res) => {
      handlePrototype ??= Object.getPrototypeOf((req.socket as unknown as { _handle: object })._handle);
      res.writeHead(204).end();
    });
    const client = createHttpClient({ baseUrl: new URL(api), concurrency: 1, timeoutMs: 2000 });
    clients.push(client);
    expect(await deleteOrder(client, 'ORD-0', 'bearer-token-0123456789')).toMatchObject({ kind: 'done' });
    const proto = handlePrototype!;
    const original = proto.setKeepAlive;
    let calls = 0;
    proto.setKeepAlive = function counted(this: unknown, ...args: unknown[]) {
      calls++;
      return original.apply(this, args);
    };
    try {
      for (let i = 1; i <= 5; i++) expect(await deleteOrder(client, `ORD-${i}`, 'bearer-token-0123456789')).toMatchObject({ kind: 'done' });
    } finally {
      proto.setKeepAlive = original;
    }
    expect(calls).toBe(0); // the one socket, reused five times, was set once before the count began
  });

  test('the run\'s abort cancels the requests in flight, through one listener on the run\'s signal; a listener removed is not called', async () => {
    const arrived: Array<() => void> = [];
    const api = await serve((req, res) => {
      if (req.url?.endsWith('/ORD-quick')) res.writeHead(204).end();
      else arrived.shift()?.(); // never answered
    });
    const client = createHttpClient({ baseUrl: new URL(api), concurrency: 3, timeoutMs: 60_000 });
    clients.push(client);
    const control = new RunControl(0);
    expect(await deleteOrder(client, 'ORD-quick', 'bearer-token-0123456789', control.inFlight)).toMatchObject({ kind: 'done' });
    const reached = [0, 1].map(() => new Promise<void>((resolve) => arrived.push(resolve)));
    const hanging = [0, 1].map((i) => deleteOrder(client, `ORD-${i}`, 'bearer-token-0123456789', control.inFlight));
    await Promise.all(reached);
    const heard: string[] = [];
    const listener = () => heard.push('removed listener');
    control.inFlight.addEventListener('abort', listener);
    control.inFlight.removeEventListener('abort', listener);
    control.stop({ kind: 'signal', signal: 'SIGTERM' }); // no grace: abort at once
    expect(await Promise.all(hanging)).toEqual([{ kind: 'canceled' }, { kind: 'canceled' }]);
    expect(control.inFlight.aborted).toBe(true);
    expect(heard).toEqual([]);
  });

  test('the run\'s abort reaches every request in flight even when one listener throws, as an AbortSignal\'s would (red team)', () => {
    const control = new RunControl(0);
    const heard: string[] = [];
    const thrown = new Error('a listener that throws');
    const second = () => heard.push('second');
    control.inFlight.addEventListener('abort', () => {
      control.inFlight.removeEventListener('abort', second); // removed by one called before it: not called
      throw thrown;
    });
    control.inFlight.addEventListener('abort', second);
    control.inFlight.addEventListener('abort', () => heard.push('third'));
    const nextTick = process.nextTick;
    const reported: Array<() => void> = []; // what would be thrown on the next tick, as an uncaught exception
    process.nextTick = ((report: () => void) => void reported.push(report)) as typeof process.nextTick;
    try {
      control.stop({ kind: 'signal', signal: 'SIGTERM' });
    } finally {
      process.nextTick = nextTick;
    }
    expect(heard).toEqual(['third']);
    expect(reported).toHaveLength(1);
    expect(() => reported[0]!()).toThrow(thrown);
  });

  test('an answer whose body trickles in, byte by byte, ends at --timeout-ms: it never holds its slot for good; one that needs its body is a timeout, a status that decides alone stands (red team)', async () => {
    const api = await serve((req, res) => {
      res.writeHead(req.url?.endsWith('/ORD-500') ? 500 : req.url?.endsWith('/ORD-403') ? 403 : 200, { 'Content-Type': 'application/json', 'Content-Length': '1000000' });
      const drip = setInterval(() => res.write(' '), 20); // the socket never idles, and the body never ends
      res.on('close', () => clearInterval(drip));
    });
    const client = createHttpClient({ baseUrl: new URL(api), concurrency: 1, timeoutMs: 300 });
    clients.push(client);
    const control = new RunControl(0);
    // an order's 200 is read from its body: without it, a timeout
    expect(await checkOrder(client, 'ORD-1', 'bearer-token-0123456789', control.inFlight)).toMatchObject({ kind: 'retry', httpStatus: null, code: 'ETIMEDOUT' });
    expect(await client.post('/api/v1/oauth2/token', {}).catch((error: { code?: string }) => error.code)).toBe('ETIMEDOUT'); // the token request's too
    // a DELETE's 2xx is deleted, a 5xx that 5xx, a 403 that 403, each at the deadline, whatever became of the body
    expect(await deleteOrder(client, 'ORD-2', 'bearer-token-0123456789', control.inFlight)).toEqual({ kind: 'done', value: 'deleted', httpStatus: 200 });
    expect(await deleteOrder(client, 'ORD-500', 'bearer-token-0123456789', control.inFlight)).toMatchObject({ kind: 'retry', httpStatus: 500, code: 'HTTP_500' });
    expect(await deleteOrder(client, 'ORD-403', 'bearer-token-0123456789', control.inFlight)).toMatchObject({ kind: 'failed', httpStatus: 403, code: 'HTTP_403' });
  });

  test('an answer too big to be the API\'s fails its request as a bad answer and is not kept: 1 MB for a DELETE or a token, 8 MB for an order, 16 MB for a page; a DELETE\'s 2xx stands, a failing status is told as itself', async () => {
    const big = ' '.repeat(2 * 1024 * 1024); // 2 MB of JSON whitespace around a valid body
    const api = await serve((req, res) => {
      res.writeHead(req.url?.endsWith('/ORD-500') ? 500 : 200, { 'Content-Type': 'application/json' });
      res.end(req.url?.startsWith('/api/v3/orders?') ? `{"orders":[{"id":"ORD-1"}]}${big}` : req.method === 'GET' ? `{"order":{"id":"ORD-1"}}${big}` : `{}${big}`);
    });
    const client = createHttpClient({ baseUrl: new URL(api), concurrency: 1, timeoutMs: 5000 });
    clients.push(client);
    // A failing status is the answer, its body unread: a 500 as a 500 with an empty body (a success needs its body: below, the token's).
    expect(await deleteOrder(client, 'ORD-500', 'bearer-token-0123456789')).toEqual({ kind: 'retry', httpStatus: 500, code: 'HTTP_500', message: 'HTTP 500 Internal Server Error' });
    expect(await deleteOrder(client, 'ORD-1', 'bearer-token-0123456789')).toEqual({ kind: 'done', value: 'deleted', httpStatus: 200 }); // the status decides a DELETE
    expect(await client.post('/api/v1/oauth2/token', {}).catch((error: { code?: string }) => error.code)).toBe('ERR_BAD_RESPONSE');
    expect(await checkOrder(client, 'ORD-1', 'bearer-token-0123456789')).toMatchObject({ kind: 'done', value: 'would_delete' });
    expect(await listOrdersPage(client, { limit: 10, offset: 0 }, 'bearer-token-0123456789')).toMatchObject({ kind: 'done', value: { orders: [{ id: 'ORD-1' }] } });
  });

  test('a connection is not reused after an answer but a 2xx or the API\'s own 404: a gateway\'s late second answer can never be taken for the next request\'s (red team: an order never answered was recorded deleted)', async () => {
    const ports = new Map<string, number>();
    const api = await serve((req, res) => {
      const id = req.url?.split('/').at(-1) ?? '';
      ports.set(id, req.socket.remotePort ?? 0);
      const status = Number(/^ORD-(\d{3})/.exec(id)?.[1] ?? 204);
      if (id.endsWith('-jsonpage')) res.writeHead(status, { 'Content-Type': 'application/json' }).end('<html>hi</html>'); // a page typed JSON
      else if (id.endsWith('-jsonish')) res.writeHead(status, { 'Content-Type': 'application/json' }).end('{<html>hi</html>'); // one that starts as JSON
      else if (id.endsWith('-xenc')) res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Encoding': 'x-none' }).end('<html>hi</html>');
      else if (id.endsWith('-param')) res.writeHead(status, { 'Content-Type': 'text/html; x=json' }).end('{<html>hi</html>');
      else if (id.endsWith('-saysbody')) res.writeHead(status, { 'Content-Length': '5' }).end(); // a 204 that says it has a body
      else if (id.endsWith('-untyped')) res.writeHead(status).end('ok');
      else res.writeHead(status, { 'Content-Type': id.endsWith('-page') ? 'text/html' : 'application/json' }).end(status === 204 ? undefined : status === 404 ? '{"errors":[{"code":"NOT_FOUND"}]}' : '{}');
    });
    const client = createHttpClient({ baseUrl: new URL(api), concurrency: 1, timeoutMs: 5000 });
    clients.push(client);
    const ids = ['ORD-1', 'ORD-2', 'ORD-404', 'ORD-3', 'ORD-503', 'ORD-4', 'ORD-408', 'ORD-5', 'ORD-429', 'ORD-6', 'ORD-403', 'ORD-7', 'ORD-404-page', 'ORD-8', 'ORD-200-page', 'ORD-9',
      'ORD-200-jsonpage', 'ORD-10', 'ORD-404-jsonpage', 'ORD-11', 'ORD-200-untyped', 'ORD-12',
      'ORD-200-jsonish', 'ORD-13', 'ORD-200-xenc', 'ORD-14', 'ORD-200-param', 'ORD-15', 'ORD-204-saysbody', 'ORD-16'];
    for (const id of ids) await deleteOrder(client, id, 'bearer-token-0123456789');
    const same = (a: string, b: string) => ports.get(a) === ports.get(b);
    // kept alive after a 2xx, and after the API's own 404 (JSON): a resume's orders already gone cost no handshake
    expect([same('ORD-1', 'ORD-2'), same('ORD-2', 'ORD-404'), same('ORD-404', 'ORD-3'), same('ORD-3', 'ORD-503')]).toEqual([true, true, true, true]);
    // closed after a 503, a 408, a 429, a 403 and a proxy's 404 or 200 page
    expect([same('ORD-503', 'ORD-4'), same('ORD-408', 'ORD-5'), same('ORD-429', 'ORD-6'), same('ORD-403', 'ORD-7'), same('ORD-404-page', 'ORD-8'), same('ORD-200-page', 'ORD-9')])
      .toEqual([false, false, false, false, false, false]);
    // and after a page typed JSON, or untyped, whose body says what it is too late for the headers' verdict (second red team: a stray 204 after one was the next order's)
    expect([same('ORD-200-jsonpage', 'ORD-10'), same('ORD-404-jsonpage', 'ORD-11'), same('ORD-200-untyped', 'ORD-12')]).toEqual([false, false, false]);
    // and after a page that starts as JSON does, one in an encoding the client does not read, one whose type names JSON in a parameter,
    // and a 204 that says it has a body (third red team: each kept its connection, and a stray 204 after it was the next order's)
    expect([same('ORD-200-jsonish', 'ORD-13'), same('ORD-200-xenc', 'ORD-14'), same('ORD-200-param', 'ORD-15'), same('ORD-204-saysbody', 'ORD-16')]).toEqual([false, false, false, false]);
  });

  test('a DELETE whose 2xx status line came before the run\'s abort is deleted, not left to a resume that would find it absent (red team)', async () => {
    const api = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{'); // the rest never comes
    });
    const client = createHttpClient({ baseUrl: new URL(api), concurrency: 1, timeoutMs: 60_000 });
    clients.push(client);
    const agent = client.defaults.httpAgent as { addRequest: (req: http.ClientRequest, options: unknown) => void };
    const add = agent.addRequest.bind(agent);
    let answered: Promise<unknown> | undefined;
    agent.addRequest = (req, options) => {
      answered = new Promise((resolve) => req.once('response', resolve));
      add(req, options);
    };
    const control = new RunControl(0);
    const deleting = deleteOrder(client, 'ORD-1', 'bearer-token-0123456789', control.inFlight);
    await new Promise(setImmediate);
    await answered;
    control.stop({ kind: 'signal', signal: 'SIGTERM' }); // no grace: the request is aborted with its body half read
    expect(await deleting).toEqual({ kind: 'done', value: 'deleted', httpStatus: 200 });
  });
});

