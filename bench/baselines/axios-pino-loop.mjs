// The honest floor for a client that keeps a record: the bare axios loop (axios-loop.mjs) plus one pino line
// per order, written synchronously to a file before the next request of its slot (pino.destination, sync).
// Usage: node axios-pino-loop.mjs <baseUrl> <token> <idsFile> <concurrency> <logFile>
import { readFileSync } from 'node:fs';
import http from 'node:http';
import axios from 'axios';
import pLimit from 'p-limit';
import pino from 'pino';

const [baseURL, token, idsFile, concurrency, logFile] = process.argv.slice(2);
const ids = readFileSync(idsFile, 'utf8').split('\n').filter(Boolean);
const client = axios.create({
  baseURL, validateStatus: () => true, headers: { Authorization: `Bearer ${token}` },
  httpAgent: new http.Agent({ keepAlive: true, keepAliveMsecs: 60_000, maxSockets: Number(concurrency) }),
});
const log = pino({ base: { runId: 'baseline' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: logFile, sync: true }));
const limit = pLimit(Number(concurrency));
const started = performance.now();
let ok = 0;
await Promise.all(ids.map((orderId) => limit(async () => {
  const sent = performance.now();
  const response = await client.delete(`/api/v3/orders/${encodeURIComponent(orderId)}`);
  if (response.status === 204) ok++;
  log.info({ event: 'order', orderId, outcome: response.status === 204 ? 'deleted' : 'failed', httpStatus: response.status, attempts: 1, durationMs: Math.round(performance.now() - sent) }, 'order deleted');
})));
const ms = performance.now() - started;
process.stdout.write(`${JSON.stringify({ ok, ms, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
process.exit(0);
