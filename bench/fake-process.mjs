// The fake Exsited API in a process of its own, so that the client's cost is measured apart.
// Usage: node bench/fake-process.mjs <orders> <latencyMs> [firstId] [options as JSON]; prints {"url": …} once
// listening. The options: {"faults": "503:0.12,…", "seed": 1, "retryAfterS": 1, "limit": "bucket:100", "outage": "10s@2s"}.
import { startFakeExsited } from '../dist/fake-exsited/server.js';
import { parseFaultSpec } from '../dist/fake-exsited/faults.js';
import { parseLimit, parseOutage } from '../dist/fake-exsited/limits.js';
import { benchIds } from './ids.mjs';

const [countText, latencyText, fromText = '1', optionsText = '{}'] = process.argv.slice(2);
const options = JSON.parse(optionsText);
const latencyMs = Number(latencyText);
const orders = benchIds(Number(countText), Number(fromText)).map((id) => ({ id }));
const faults = parseFaultSpec(options.faults ?? '', { latencyMs, seed: options.seed ?? 1, retryAfterS: options.retryAfterS ?? 1 });
const fake = await startFakeExsited({
  orders, faults, recordDeletes: false,
  ...(options.limit ? { limit: parseLimit(options.limit) } : {}),
  ...(options.outage ? { outage: parseOutage(options.outage) } : {}),
});
process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
