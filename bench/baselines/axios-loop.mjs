// The floor for any axios client: one keep-alive instance, p-limit, DELETE each ID, nothing else
// (no validation, no retries, no audit log). Usage: node axios-loop.mjs <baseUrl> <token> <idsFile> <concurrency>
import { readFileSync } from 'node:fs';
import http from 'node:http';
import axios from 'axios';
import pLimit from 'p-limit';

const [baseURL, token, idsFile, concurrency] = process.argv.slice(2);
const ids = readFileSync(idsFile, 'utf8').split('\n').filter(Boolean);
const client = axios.create({
  baseURL, validateStatus: () => true, headers: { Authorization: `Bearer ${token}` },
  httpAgent: new http.Agent({ keepAlive: true, keepAliveMsecs: 60_000, maxSockets: Number(concurrency) }),
});
const limit = pLimit(Number(concurrency));
const started = performance.now();
let ok = 0;
await Promise.all(ids.map((id) => limit(async () => {
  const response = await client.delete(`/api/v3/orders/${encodeURIComponent(id)}`);
  if (response.status === 204) ok++;
})));
const ms = performance.now() - started;
process.stdout.write(`${JSON.stringify({ ok, ms, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
process.exit(0);
