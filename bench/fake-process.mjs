// The fake Exsited API in a process of its own, so that the client's cost is measured apart.
// Usage: node bench/fake-process.mjs <orders> <latencyMs> [firstId]; prints {"url": …} once listening.
import { startFakeExsited } from '../dist/fake-exsited/server.js';
import { benchIds } from './ids.mjs';

const [count, latencyMs, from = 1] = process.argv.slice(2).map(Number);
const orders = benchIds(count, from).map((id) => ({ id }));
const fake = await startFakeExsited({ orders, faults: { latencyMs }, recordDeletes: false });
process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
