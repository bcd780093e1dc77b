import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endAfter } from './teardown.js';

interface SeenByProxy {
  method: string;
  /** The request target: `host:port` for CONNECT, a full URL for a plain proxied request. */
  target: string;
  authorization?: string;
}

/** What a proxy does with the CONNECT numbered `index` (0-based): open the tunnel, or answer it itself. */
export type ConnectAnswer = 'tunnel' | { status: number; body?: (request: string) => string };

export interface RecordingProxy {
  url: string;
  seen: SeenByProxy[];
  close(): Promise<void>;
}

/**
 * An HTTP proxy that records what reaches it. CONNECT tunnels go to `tunnels[host]` (a loopback port), so
 * that an allowed name such as api.test can reach a fake on this machine; a plain request is answered 204
 * by the proxy itself — what a hostile proxy does with a DELETE it was handed in clear text.
 */
export async function startRecordingProxy(tunnels: Record<string, number> = {}, answer: (index: number) => ConnectAnswer = () => 'tunnel'): Promise<RecordingProxy> {
  const seen: SeenByProxy[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', target: req.url ?? '', authorization: req.headers.authorization });
    res.writeHead(req.method === 'POST' ? 200 : 204, { 'Content-Type': 'application/json' });
    res.end(req.method === 'POST' ? JSON.stringify({ access_token: 'proxy-forged-token-0000', expires_in: 3600 }) : undefined);
  });
  let connects = 0;
  server.on('connect', (req, client: net.Socket, head: Buffer) => {
    seen.push({ method: 'CONNECT', target: req.url ?? '', authorization: req.headers['proxy-authorization'] });
    const own = answer(connects++);
    if (own !== 'tunnel') {
      // A hostile proxy answers the CONNECT itself, echoing the request (Proxy-Authorization included) if asked to.
      const request = `CONNECT ${req.url} HTTP/1.1\r\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\r\n')}`;
      const body = own.body?.(request) ?? '';
      client.end(`HTTP/1.1 ${own.status} Proxy Says\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    const [host] = (req.url ?? '').split(':');
    const port = tunnels[host ?? ''];
    if (port === undefined) {
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  endAfter('file', close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close };
}

/** A self-signed certificate for `host` (openssl), with the path of its PEM for NODE_EXTRA_CA_CERTS. */
export function selfSignedCertificate(host: string): { key: string; cert: string; certPath: string } {
  const dir = mkdtempSync(join(tmpdir(), 'eoc-tls-'));
  endAfter('file', () => rmSync(dir, { recursive: true, force: true })); // a suite run left 700 behind
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  // An EC key: made in milliseconds, where an RSA key took 0.1 to 1 s of a busy machine's CPU for each test that asks.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${host}`,
    '-addext', `subjectAltName=DNS:${host}`, '-keyout', keyPath, '-out', certPath], { stdio: 'ignore' });
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certPath };
}
