import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { endAfter } from './teardown.js';

interface SeenByGateway {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** What the gateway does with a push: never answer, switch protocols, or answer with this status (a 3xx with a Location). */
export type GatewayBehaviour =
  | { kind: 'hang' }
  | { kind: 'switch' } // 101 Switching Protocols, the connection then kept open
  | { kind: 'answer'; status: number; location?: string; echo?: boolean };

export interface HostileGateway {
  url: string;
  port: number;
  /** Every request received, in order. */
  seen: SeenByGateway[];
  /** Connections open now, and the most open at once. */
  connections: { open: number; most: number };
  /** Resolves once `count` requests have arrived. */
  received(count: number): Promise<void>;
  close(): Promise<void>;
}

/** The text of a page that echoes the request: what a misconfigured gateway or a proxy's error page does. */
export const ECHO_MARKER = 'HOSTILE-GATEWAY-PAGE';

/**
 * A metrics gateway that misbehaves on purpose: it hangs (takes the connection, never answers), or answers
 * with a status of its choice — a redirect with a Location, or an error page that echoes the request's
 * headers, Authorization included. It records every request it receives.
 */
export async function startHostileGateway(behaviour: GatewayBehaviour): Promise<HostileGateway> {
  const seen: SeenByGateway[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const connections = { open: 0, most: 0 };
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    for (const waiter of waiters.filter((w) => seen.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    if (behaviour.kind === 'hang') return;
    if (behaviour.kind === 'switch') {
      req.socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n');
      return;
    }
    req.resume();
    const page = behaviour.echo
      ? `<html><body><h1>${ECHO_MARKER} ${behaviour.status}</h1><pre>${req.method} ${req.url}\n` +
        `${Object.entries(req.headers).map(([name, value]) => `${name}: ${String(value)}`).join('\n')}</pre></body></html>`
      : '';
    res.writeHead(behaviour.status, { 'Content-Type': 'text/html', ...(behaviour.location ? { Location: behaviour.location } : {}) });
    res.end(page);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    connections.most = Math.max(connections.most, ++connections.open);
    socket.on('close', () => {
      sockets.delete(socket);
      connections.open--;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  endAfter('file', close);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    connections,
    received: (count) => new Promise((resolve) => (seen.length >= count ? resolve() : waiters.push({ count, resolve }))),
    close,
  };
}
