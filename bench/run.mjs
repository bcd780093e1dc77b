// npm run bench: the scenarios of the benchmark, each against the fake Exsited API in its own process,
// the tool run as users run it (the built CLI as a child process). Writes bench/results.json.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEMO_CLIENT } from '../dist/fake-exsited/server.js';
import { benchIds } from './ids.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const CLI = process.env.BENCH_CLI ?? here('../dist/cli.js'); // BENCH_CLI: another build's, to compare
const work = mkdtempSync(join(tmpdir(), 'eoc-bench-'));
const only = process.argv[2]; // e.g. `npm run bench -- memory`
const results = { machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version }, date: new Date().toISOString(), scenarios: {} };

/**
 * Children still running (fakes, the tool, baselines): stopped when the bench exits, however it exits — a
 * scenario that throws, or a signal — and the work folder (a million-line log, ID files) removed.
 */
const children = new Set();
const track = (child) => {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
};
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

async function startFake(orders, latencyMs, from = 1, options = {}) {
  const child = spawn(process.execPath, [here('./fake-process.mjs'), String(orders), String(latencyMs), String(from), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  track(child);
  const [line] = await once(child.stdout, 'data');
  const { url } = JSON.parse(line.toString());
  return {
    url,
    state: async () => (await fetch(`${url}/__fake/state?deleted=false`)).json(),
    token: async () => {
      const response = await fetch(`${url}/api/v1/oauth2/token`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credentials', client_id: DEMO_CLIENT.clientId, client_secret: DEMO_CLIENT.clientSecret, redirect_uri: DEMO_CLIENT.redirectUri }),
      });
      return (await response.json()).access_token;
    },
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function writeIds(name, count, from = 1) {
  const path = join(work, name);
  const out = createWriteStream(path);
  for (let start = 0; start < count; start += 100_000) {
    out.write(`${benchIds(Math.min(100_000, count - start), from + start).join('\n')}\n`);
  }
  out.end();
  await once(out, 'finish');
  return path;
}

/** Runs the CLI; returns wall time, the fake's view and run.end from the audit log. */
async function runTool(fake, idsPath, args, log = join(work, `audit-${Date.now()}-${Math.random().toString(36).slice(2)}.ndjson`), okCodes = [0]) {
  const env = {
    PATH: process.env.PATH, EXSITED_BASE_URL: fake.url, EXSITED_CLIENT_ID: DEMO_CLIENT.clientId,
    EXSITED_CLIENT_SECRET: DEMO_CLIENT.clientSecret, EXSITED_REDIRECT_URI: DEMO_CLIENT.redirectUri,
  };
  const spawnedAt = Date.now();
  const started = performance.now();
  const child = track(spawn(process.execPath, [CLI, 'run', '--ids', idsPath, '--audit-log', log, '--yes', '--max-deletes', '100000000', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] }));
  // A tool that hangs fails the scenario after ten minutes, never the bench forever.
  const hung = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = await once(child, 'exit');
  clearTimeout(hung);
  const wallMs = performance.now() - started;
  if (!okCodes.includes(code)) throw new Error(`the tool exited ${code}:\n${stderr}`);
  const state = await fake.state();
  const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
  const end = JSON.parse(lines.at(-1));
  return { wallMs, state, end, spawnedAt, log };
}

const deleteWindowRate = (state) => ((state.stats.deletesAnswered - 1) * 1000) / (state.stats.lastDeleteAt - state.stats.firstDeleteAt);
const deliveredLatency = (state) => state.stats.deliveredLatencyMsTotal / state.stats.deletesAnswered;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (n, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The bare axios loop (baselines/axios-loop.mjs); with a log file, the loop that also writes a pino line per order (axios-pino-loop.mjs). */
async function axiosLoop(fake, idsPath, concurrency, logFile) {
  const token = await fake.token();
  const baseline = logFile ? ['./baselines/axios-pino-loop.mjs', logFile] : ['./baselines/axios-loop.mjs'];
  const { stdout } = await promisify(execFile)(process.execPath, [here(baseline[0]), fake.url, token, idsPath, String(concurrency), ...baseline.slice(1)]);
  const out = JSON.parse(stdout);
  const state = await fake.state();
  return { rate: (out.ok * 1000) / out.ms, windowRate: deleteWindowRate(state), ok: out.ok };
}

async function xargsCurl(fake, idsPath, concurrency) {
  const token = await fake.token();
  const started = performance.now();
  await promisify(execFile)('/bin/sh', ['-c',
    `xargs -P ${concurrency} -I{} curl -s -o /dev/null -X DELETE -H "Authorization: Bearer ${token}" ${fake.url}/api/v3/orders/{} < ${idsPath}`],
  { maxBuffer: 1 << 20 });
  const ms = performance.now() - started;
  const state = await fake.state();
  return { rate: (state.stats.deletesAnswered * 1000) / ms };
}

/** Side by side: each contender once per round, in turn, each against a fresh fake of `orders` orders; a round's results together. */
const PAIRS = 3;
async function interleaved(rounds, contenders, orders, latencyMs) {
  const results = [];
  for (let round = 0; round < rounds; round++) {
    const row = {};
    for (const [name, run] of Object.entries(contenders)) {
      const fake = await startFake(orders, latencyMs);
      row[name] = await run(fake);
      await fake.stop();
    }
    results.push(row);
  }
  return results;
}

function report(name, rows) {
  results.scenarios[name] = Object.fromEntries(rows.map(([key, value]) => [key, value]));
  console.log(`\n${name}`);
  for (const [key, value, goal] of rows) console.log(`  ${key.padEnd(34)} ${String(value).padEnd(14)} ${goal ? `goal: ${goal}` : ''}`);
}

/** The audit log's lines. */
const auditLines = (log) => readFileSync(log, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
/** Whether every ID is in the log exactly once, as an order line. */
function exactlyOnce(log, count) {
  const orders = auditLines(log).filter((l) => l.event === 'order');
  return orders.length === count && new Set(orders.map((l) => l.orderId)).size === count;
}
/** Orders deleted per second over the server's first to last DELETE, 429s left out. */
const acceptedRate = (state) => ((state.stats.deletesAnswered - state.stats.limited) * 1000) / (state.stats.lastDeleteAt - state.stats.firstDeleteAt);
const serverSeconds = (state) => (state.stats.lastDeleteAt - state.stats.firstDeleteAt) / 1000;

/** Throttling (issue 12): a limit the API does not document, noise, faults, shards sharing a limit, an outage. */
const c16 = ['--concurrency', '16'];
async function throttled(name, n, latencyMs, fakeOptions, args, okCodes = [0]) {
  const ids = await writeIds(`${name}.txt`, n);
  const fake = await startFake(n, latencyMs, 1, fakeOptions);
  const tool = await runTool(fake, ids, args, undefined, okCodes);
  await fake.stop();
  return { ...tool, once: exactlyOnce(tool.log, n) };
}

const scenarios = {
  async throughput() {
    const n = 12_000;
    const ids = await writeIds('s1.txt', n);
    const pairs = await interleaved(PAIRS, {
      tool: async (fake) => {
        const tool = await runTool(fake, ids, ['--concurrency', '32']);
        return { rate: deleteWindowRate(tool.state), latency: deliveredLatency(tool.state), cpuMs: tool.end.resources.cpuMs };
      },
      bare: (fake) => axiosLoop(fake, ids, 32),
    }, n, 20);
    const latency = median(pairs.map((p) => p.tool.latency));
    const ideal = (32 * 1000) / latency;
    report(`1. latency 20 ms, concurrency 32, 12,000 orders (${PAIRS} interleaved pairs, medians)`, [
      ['delivered latency L (ms)', round(latency, 2)],
      ['ideal C/L (orders/s)', round(ideal)],
      ['tool, first to last DELETE (orders/s)', round(median(pairs.map((p) => p.tool.rate)))],
      ['bare axios loop (orders/s)', round(median(pairs.map((p) => p.bare.windowRate)))],
      ['tool / bare axios, median of the pairs', round(median(pairs.map((p) => p.tool.rate / p.bare.windowRate)), 3), '>= 0.95'],
      ['share of ideal', round(median(pairs.map((p) => p.tool.rate)) / ideal, 3)],
      ['tool CPU (ms)', median(pairs.map((p) => p.tool.cpuMs))],
    ]);
  },

  async overhead() {
    const n = 30_000;
    const ids = await writeIds('s2.txt', n);
    const pairs = await interleaved(PAIRS, {
      tool: async (fake) => {
        const tool = await runTool(fake, ids, ['--concurrency', '64']);
        return { rate: deleteWindowRate(tool.state), cpuMs: tool.end.resources.cpuMs, rssMb: tool.end.resources.maxRssMb };
      },
      bare: (fake) => axiosLoop(fake, ids, 64),
      logged: (fake) => axiosLoop(fake, ids, 64, join(work, `s2-baseline-${Date.now()}.ndjson`)),
    }, n, 0);
    const curlN = 3000;
    const curlIds = await writeIds('s2-curl.txt', curlN);
    const fake = await startFake(curlN, 0);
    const curl = await xargsCurl(fake, curlIds, 64);
    await fake.stop();
    const toolRate = median(pairs.map((p) => p.tool.rate));
    report(`2. latency 0, concurrency 64, 30,000 orders (${PAIRS} interleaved triples, medians)`, [
      ['tool, first to last DELETE (orders/s)', round(toolRate)],
      ['bare axios loop (orders/s)', round(median(pairs.map((p) => p.bare.windowRate)))],
      ['axios loop + a sync pino line per order (orders/s)', round(median(pairs.map((p) => p.logged.windowRate)))],
      ['tool / bare axios, median of the triples', round(median(pairs.map((p) => p.tool.rate / p.bare.windowRate)), 3), '>= 0.85'],
      ['tool / axios + pino line, median', round(median(pairs.map((p) => p.tool.rate / p.logged.windowRate)), 3), '>= 0.95'],
      [`xargs -P 64 curl, ${curlN} orders (orders/s)`, round(curl.rate)],
      ['tool / xargs + curl', round(toolRate / curl.rate, 1), '>= 10'],
      ['tool CPU (ms); peak RSS (MB)', `${median(pairs.map((p) => p.tool.cpuMs))}; ${median(pairs.map((p) => p.tool.rssMb))}`],
    ]);
  },

  async ratecap() {
    const n = 5000;
    const ids = await writeIds('s3.txt', n);
    const fake = await startFake(n, 5);
    const tool = await runTool(fake, ids, ['--concurrency', '16', '--rps', '500']);
    await fake.stop();
    const rate = deleteWindowRate(tool.state);
    report('3. rate cap 500/s, latency 5 ms, 5,000 orders', [
      ['achieved (orders/s)', round(rate)],
      ['achieved / cap', round(rate / 500, 3), '0.97 to 1.00'],
    ]);
  },

  async memory() {
    const rows = [];
    const rss = {};
    for (const n of [10_000, 1_000_000]) {
      const ids = await writeIds(`s4-${n}.txt`, n);
      const fake = await startFake(n, 0);
      const tool = await runTool(fake, ids, ['--concurrency', '64']);
      await fake.stop();
      rss[n] = tool.end.resources.maxRssMb;
      rows.push([`peak RSS, ${n.toLocaleString('en')} orders (MB)`, rss[n], n === 1_000_000 ? '<= 200' : '<= 80']);
      rows.push([`  rate, ${n.toLocaleString("en")} orders (orders/s)`, round((n * 1000) / tool.wallMs)]);
    }
    rows.push(['growth per order (bytes)', Math.round(((rss[1_000_000] - rss[10_000]) * 1024 * 1024) / 990_000), '<= 100']);
    report('4. memory: real deletions at latency 0', rows);
  },

  async resume() {
    const done = 1_000_000;
    const rest = 5_000;
    const ids = await writeIds('s5.txt', done + rest);
    const log = join(work, 's5.ndjson');
    const fake = await startFake(rest, 0, done + 1);
    // The log of a run killed after a million orders: run.start (the fields the resume checks, as the journal writes them), then a line per order.
    const out = createWriteStream(log);
    const runId = 'benchresume1';
    const sha256 = createHash('sha256').update(readFileSync(ids)).digest('hex');
    const source = { kind: 'text', path: ids, format: 'text', sha256, count: done + rest };
    const options = { maxDeletes: 100_000_000, haltAfter: 25, concurrency: 32, retries: 5, timeoutMs: 30000, dryRun: false, force: false, allowHosts: [], auth: 'client_credentials' };
    out.write(`${JSON.stringify({ level: 'info', time: new Date().toISOString(), runId, event: 'run.start', recordVersion: 2, version: '0.1.0', source, baseUrl: fake.url, options, cwd: process.cwd(), msg: 'run started' })}\n`);
    for (let start = 1; start <= done; start += 10_000) {
      const chunk = benchIds(Math.min(10_000, done - start + 1), start).map((orderId) => JSON.stringify({
        level: 'info', time: '2026-11-27T10:00:00.000Z', runId, event: 'order', orderId, outcome: 'deleted', httpStatus: 204, attempts: 1, durationMs: 3, msg: 'order deleted',
      }));
      if (!out.write(`${chunk.join('\n')}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const tool = await runTool(fake, ids, ['--resume', '--force', '--concurrency', '32'], log);
    await fake.stop();
    report('5. resume from a 1,000,000-line audit log', [
      ['process start to first DELETE (ms)', tool.state.stats.firstDeleteAt - tool.spawnedAt, '<= 3000'],
      ['orders deleted by the resume', tool.end.summary.deleted],
      ['orders skipped', tool.end.summary.skipped],
      ['peak RSS (MB)', tool.end.resources.maxRssMb],
    ]);
  },

  async bucket() {
    const bucket = await throttled('t-bucket', 3000, 20, { limit: 'bucket:100' }, c16);
    report('7. throttling: a token bucket of 100/s (burst 100), concurrency 16, latency 20 ms, 3,000 orders', [
      ['delivered, server clock (orders/s)', round(acceptedRate(bucket.state))],
      ['share of the limit', round(acceptedRate(bucket.state) / 100, 3), '>= 0.92'],
      ['requests answered 429', `${round((bucket.state.stats.limited * 100) / bucket.state.stats.deletesAnswered, 2)}%`, '<= 3%'],
      ['rate cuts; limit found (requests/s)', `${bucket.end.summary.throttling.cuts}; ${bucket.end.summary.throttling.ceilingRps}`],
      ['every order once in the log', bucket.once],
    ]);
  },

  async burst() {
    const burst = await throttled('t-burst', 3000, 5, { limit: 'bucket:100:10' }, ['--concurrency', '8']);
    report('7b. throttling: a token bucket of 100/s with a burst of 10, concurrency 8, latency 5 ms, 3,000 orders', [
      ['delivered, server clock (orders/s)', round(acceptedRate(burst.state))],
      ['share of the limit', round(acceptedRate(burst.state) / 100, 3), '>= 0.88'],
      ['requests answered 429', `${round((burst.state.stats.limited * 100) / burst.state.stats.deletesAnswered, 2)}%`, '<= 5%'],
      ['rate cuts; limit found (requests/s)', `${burst.end.summary.throttling.cuts}; ${burst.end.summary.throttling.ceilingRps}`],
      ['every order once in the log', burst.once],
    ]);
  },

  async window() {
    const window = await throttled('t-window', 3000, 20, { limit: 'window:100' }, c16);
    report('8. throttling: a fixed one-second window of 100/s, concurrency 16, latency 20 ms, 3,000 orders', [
      ['delivered, server clock (orders/s)', round(acceptedRate(window.state))],
      ['share of the limit', round(acceptedRate(window.state) / 100, 3), '>= 0.9'],
      ['requests answered 429', `${round((window.state.stats.limited * 100) / window.state.stats.deletesAnswered, 2)}%`],
      ['every order once in the log', window.once],
    ]);
  },

  async noise() {
    // Long enough (30 s clean, at --rps 400 to spare the 2 cores) that the last orders' Retry-After waits are not the story.
    const noiseArgs = [...c16, '--rps', '400'];
    const clean = await throttled('t-clean', 12_000, 20, {}, noiseArgs);
    const noisy = await throttled('t-noise', 12_000, 20, { faults: '429:0.05', seed: 7 }, noiseArgs);
    const noisyLines = auditLines(noisy.log);
    const retryTooSoon = earlyRetries(noisyLines);
    report('9. throttling: 5% random 429s (Retry-After 1 s), no real limit, --rps 400, concurrency 16, 12,000 orders', [
      ['clean run, server clock (s)', round(serverSeconds(clean.state))],
      ['noisy run, server clock (s)', round(serverSeconds(noisy.state))],
      ['noisy / clean rate', round(serverSeconds(clean.state) / serverSeconds(noisy.state), 3), '>= 0.85'],
      ['rate cuts under noise', noisy.end.summary.throttling.cuts],
      ['orders retried before their Retry-After', retryTooSoon, '0'],
      ['every order once in the log', noisy.once],
    ]);
  },

  async faults() {
    // The run's length is its unluckiest order's chain of retries (each attempt fails 29% of the time),
    // so five seeds are run, with the default backoff (100 ms base) and with the former default (500 ms).
    const c8 = ['--concurrency', '8', '--timeout-ms', '1000'];
    const spec = '503:0.12,500:0.05,429:0.05,reset:0.03,delete-then-503:0.03,hang:0.01';
    const clean = [];
    for (let seed = 1; seed <= 3; seed++) clean.push((await throttled('t-mix-clean', 400, 20, {}, c8)).wallMs);
    const cleanMs = median(clean);
    const rows = [['clean run, whole process, median of 3 (s)', round(cleanMs / 1000, 2)]];
    for (const [label, extra] of [['default backoff', []], ['--backoff-base-ms 500', ['--backoff-base-ms', '500']]]) {
      const runs = [];
      // Exit 1 is allowed: an order can meet six faults in a row (0.29^6 ≈ 0.06% of orders) and fail, as it should.
      for (let seed = 1; seed <= 5; seed++) runs.push(await throttled('t-mix', 400, 20, { faults: spec, seed }, [...c8, ...extra], [0, 1]));
      const ratios = runs.map((run) => run.wallMs / cleanMs).sort((a, b) => a - b);
      rows.push([`${label}: fault mix / clean, 5 seeds`, `median ${round(median(ratios), 2)}, ${ratios.map((r) => round(r, 1)).join(' ')}`, '<= 3']);
      rows.push([`${label}: every order once in the log`, runs.every((run) => run.once)]);
      rows.push([`${label}: failed orders (after 6 attempts)`, runs.map((run) => run.end.summary.failed).join(' ')]);
      rows.push([`${label}: rate cuts`, runs.map((run) => run.end.summary.throttling.cuts).join(' ')]);
    }
    report('10. throttling: the fault mix (12% 503, 5% 500, 5% 429, 3% resets, 3% delete-then-503, 1% hangs), 400 orders, concurrency 8, --timeout-ms 1000', rows);
  },

  shards,
  outage,
  refusal,

  async startup() {
    const n = 200;
    const ids = await writeIds('s6.txt', n);
    const samples = [];
    for (let i = 0; i < 5; i++) {
      const fake = await startFake(n, 0);
      const tool = await runTool(fake, ids, []);
      await fake.stop();
      samples.push(tool.state.stats.firstDeleteAt - tool.spawnedAt);
    }
    samples.sort((a, b) => a - b);
    report('6. start-up (5 runs)', [
      ['process start to first DELETE, median (ms)', samples[2], '<= 250'],
      ['  min / max (ms)', `${samples[0]} / ${samples[4]}`],
    ]);
  },
};

/** Orders sent again sooner than the Retry-After of their 429 (from the order.retry lines' delays and times). */
function earlyRetries(lines) {
  let early = 0;
  for (const line of lines) if (line.event === 'order.retry' && line.httpStatus === 429 && line.delayMs < 1000) early++;
  return early;
}

/** Four shard processes sharing one token bucket of 100/s: together, and each one's share while all four run. */
async function shards() {
  const n = 6000;
  const ids = await writeIds('t-shards.txt', n);
  const fake = await startFake(n, 20, 1, { limit: 'bucket:100' });
  const runs = await Promise.all([0, 1, 2, 3].map((i) => runTool(fake, ids, ['--concurrency', '16', '--shard', `${i}/4`])));
  await fake.stop();
  const times = runs.map((run) => auditLines(run.log).filter((l) => l.event === 'order' && l.outcome === 'deleted').map((l) => Date.parse(l.time)));
  /** Each one's share of the deliveries from `a` to before `b` (ms). */
  const shares = (a, b) => {
    const counts = times.map((t) => t.filter((at) => at >= a && at < b).length);
    const sum = counts.reduce((x, y) => x + y, 0);
    return counts.map((c) => `${round((c * 100) / sum)}%`).join(' ');
  };
  // While all four ran; and each half of the whole run (the first DELETE of any to the last of any).
  const from = Math.max(...times.map((t) => t[0]));
  const to = Math.min(...times.map((t) => t.at(-1)));
  const start = Math.min(...times.map((t) => t[0]));
  const end = Math.max(...times.map((t) => t.at(-1)));
  const middle = (start + end) / 2;
  const state = await Promise.resolve(runs[0].state);
  report('11. throttling: four shard processes sharing a token bucket of 100/s, concurrency 16 each, 6,000 orders', [
    ['together, server clock (orders/s)', round(acceptedRate(state))],
    ['share of the limit', round(acceptedRate(state) / 100, 3), '>= 0.85'],
    ['while all four ran (s)', round((to - from) / 1000)],
    ['each one\'s share then', shares(from, to + 1), '15-35% each'],
    ['each one\'s share, first half of the run', shares(start, middle), '20-30% each'],
    ['each one\'s share, second half of the run', shares(middle, end + 1), '20-30% each'],
    ['requests answered 429', `${round((state.stats.limited * 100) / state.stats.deletesAnswered, 2)}%`],
  ]);
}

/** Every DELETE answered 503 for 10 s (from 3 s after the first), then healthy again; --retries 10. */
async function outage() {
  const n = 6000;
  const ids = await writeIds('t-outage.txt', n);
  const fake = await startFake(n, 20, 1, { outage: '10s@3s' });
  const tool = await runTool(fake, ids, ['--concurrency', '16', '--rps', '400', '--retries', '10']);
  await fake.stop();
  const lines = auditLines(tool.log);
  const start = tool.state.stats.firstDeleteAt + 3000;
  const end = start + 10_000;
  const finished = lines.filter((l) => l.event === 'order').map((l) => Date.parse(l.time));
  const retries = lines.filter((l) => l.event === 'order.retry').map((l) => Date.parse(l.time));
  const before = finished.filter((at) => at >= start - 2000 && at < start).length / 2;
  // Recovered: the first second after the outage in which as many orders finished as in a second before it (90%).
  let recoveredAfter;
  for (let at = end; at < end + 30_000; at += 100) {
    if (finished.filter((t) => t >= at && t < at + 1000).length >= 0.9 * before) {
      recoveredAfter = at + 1000 - end;
      break;
    }
  }
  const duringRetries = retries.filter((at) => at >= start && at < end).length;
  const steadyRetries = retries.filter((at) => at >= start + 1000 && at < end).length;
  report('12. throttling: an outage (every DELETE 503 for 10 s), --retries 10, --rps 400, concurrency 16, 6,000 orders', [
    ['orders/s before the outage', before],
    ['failed requests during the outage', `${duringRetries} (${steadyRetries} after its first second: ${round(steadyRetries / 9)}/s)`],
    ['requests held by the retry budget (s)', round(tool.end.summary.throttling.budgetHeldMs / 1000)],
    ['full rate again after the outage (s)', recoveredAfter === undefined ? 'never' : round(recoveredAfter / 1000), '<= 10'],
    ['deleted + already absent + failed', `${tool.end.summary.deleted} + ${tool.end.summary.alreadyAbsent} + ${tool.end.summary.failed}`],
    ['every order once in the log', exactlyOnce(tool.log, n)],
  ]);
}

/**
 * A gateway refusing everyone (every DELETE 429, Retry-After 1 s) for 20 s, 10 s into a run on a bucket of 100/s; the run
 * stopped by --max-duration 90s (exit 4). What matters is the minute after the refusal: the old build crawled from the floor.
 */
async function refusal() {
  const n = 9000;
  const ids = await writeIds('t-refusal.txt', n);
  const fake = await startFake(n, 20, 1, { limit: 'bucket:100', outage: '20s@10s:429' });
  const tool = await runTool(fake, ids, ['--concurrency', '16', '--max-duration', '90s'], undefined, [0, 4]);
  await fake.stop();
  const lines = auditLines(tool.log);
  const end = tool.state.stats.firstDeleteAt + 30_000;
  const deleted = lines.filter((l) => l.event === 'order' && l.outcome === 'deleted').map((l) => Date.parse(l.time));
  const restore = lines.find((l) => l.event === 'throttle' && l.kind === 'restore');
  report('15. throttling: refused (every DELETE 429) for 20 s from 10 s, a bucket of 100/s, concurrency 16, stopped at 90 s', [
    ['orders/s in the 10 s before the refusal', round(deleted.filter((at) => at < end - 20_000).length / 10)],
    ['orders/s in the minute after it', round(deleted.filter((at) => at >= end && at < end + 60_000).length / 60), '>= 90'],
    ['the climb back began, after its end (s)', restore ? `${round((Date.parse(restore.time) - end) / 1000)} (from ${round(restore.rateAfter, 2)}/s, up to ${restore.ceiling === null ? 'unpaced' : `${round(0.9 * restore.ceiling)}/s`})` : 'never'],
    ['requests answered 429', `${tool.state.stats.limited} by the limit`],
  ]);
}

/**
 * A million-order audit log as the journal writes it: a run interrupted at 400,000 orders and its resume,
 * 300 orders a second (about 56 minutes of work), 5% of orders retried once (429s, 503s, resets), 0.2%
 * failed (409 and timeouts), a rate decision every minute with the paced rate climbing between, and a
 * 40-second outage in the resume.
 */
async function millionOrderLog(path) {
  const out = createWriteStream(path);
  const t0 = Date.parse('2026-11-27T01:00:00.000Z');
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const line = (ms, runId, fields, msg, level = 'info') => `${JSON.stringify({ level, time: new Date(t0 + ms).toISOString(), runId, ...fields, msg })}\n`;
  const source = { kind: 'csv', path: 'orders.csv', format: 'csv', sha256: 'b'.repeat(64), count: 1_000_000, rows: 1_000_000, duplicates: 0, column: 'order_id' };
  const options = { maxDeletes: 2_000_000, haltAfter: 25, concurrency: 16, retries: 5, timeoutMs: 30000, dryRun: false, force: false, allowHosts: [], auth: 'client_credentials' };
  const runs = [{ runId: 'bench0000001', from: 0, to: 400_000, startMs: 0 }, { runId: 'bench0000002', from: 400_000, to: 1_000_000, startMs: 400_000 / 0.3 + 600_000, resumeOf: 'bench0000001' }];
  let chunk = '';
  const flush = async () => {
    if (!out.write(chunk)) await once(out, 'drain');
    chunk = '';
  };
  for (const run of runs) {
    chunk += line(run.startMs, run.runId, { event: 'run.start', recordVersion: 2, version: '0.1.0', source, baseUrl: 'https://api-stage.exsited.com', options, ...(run.resumeOf ? { resumeOf: run.resumeOf, skipped: run.from } : {}) }, 'run started');
    let pace = 270;
    for (let i = run.from; i < run.to; i++) {
      const ms = run.startMs + ((i - run.from) / 300) * 1000 + 5;
      const orderId = `ORD-${String(i + 1).padStart(8, '0')}`;
      if (i % 18_000 === 0) {
        chunk += line(ms, run.runId, { event: 'throttle', kind: 'cut', windowMs: 1000, answers: 300, share: 0.12, baseline: 0.01, acceptedRate: 300, rateBefore: pace, rateAfter: 270, ceiling: 300, pauseMs: i % 72_000 === 0 ? 1000 : 0 }, 'rate cut');
        pace = 270;
      } else if (i % 300 === 0 && pace < 330) chunk += line(ms, run.runId, { event: 'pace', rps: (pace += 4) }, `paced at ${pace}/s`);
      const outage = run.resumeOf && i >= 700_000 && i < 712_000;
      if (i === 700_000 && outage) chunk += line(ms, run.runId, { event: 'service', state: 'failing', failures: 15, answers: 20 }, 'the service is failing', 'warn');
      if (i === 712_000 && run.resumeOf) chunk += line(ms, run.runId, { event: 'service', state: 'answering', failures: 0, answers: 1, failingMs: 40_000 }, 'the service answers again', 'warn');
      const r = random();
      let attempts = 1;
      if (r < 0.05 || outage) {
        attempts = 2;
        const cause = outage ? { httpStatus: 503 } : r < 0.02 ? { httpStatus: 429 } : r < 0.04 ? { httpStatus: 503 } : { errorCode: 'ECONNRESET' };
        chunk += line(ms - 3, run.runId, { event: 'order.retry', orderId, attempt: 1, ...cause, delayMs: 120 }, 'order retry scheduled');
      }
      const durationMs = Math.round(20 + 60 * random() ** 3 + (attempts - 1) * 150);
      if (r > 0.998) {
        const timeout = r > 0.9995;
        chunk += line(ms, run.runId, { event: 'order', orderId, outcome: 'failed', httpStatus: timeout ? null : 409, attempts: timeout ? 6 : 1, durationMs: timeout ? 31_000 : durationMs,
          error: timeout ? { code: 'ETIMEDOUT', message: 'no answer within 30000 ms' } : { code: 'ORDER_LOCKED', message: 'Order has open invoices' } }, 'order failed', 'warn');
      } else {
        chunk += line(ms, run.runId, { event: 'order', orderId, outcome: 'deleted', httpStatus: 204, attempts, durationMs }, 'order deleted');
      }
      if (chunk.length > 1 << 20) await flush();
    }
    const endMs = run.startMs + ((run.to - run.from) / 300) * 1000 + 50;
    chunk += line(endMs, run.runId, { event: 'run.end', status: run.resumeOf ? 'failed' : 'interrupted', exitCode: run.resumeOf ? 1 : 143, durationMs: endMs - run.startMs, summary: { throttledMs: 5000 }, ...(run.resumeOf ? {} : { reason: 'received SIGTERM' }) }, 'run ended');
  }
  await flush();
  out.end();
  await once(out, 'finish');
}

/** `report` of a million-order log: the text report (as before), and the HTML page with the timeline CSV. */
scenarios.report = async () => {
  const log = join(work, 'million.ndjson');
  await millionOrderLog(log);
  const measure = async (args) => {
    const { stderr } = await promisify(execFile)('/usr/bin/time', ['-f', '%e %M', process.execPath, CLI, 'report', log, ...args], { maxBuffer: 1 << 26 });
    const [seconds, kb] = stderr.trim().split('\n').at(-1).split(' ').map(Number);
    return { seconds, mb: Math.round(kb / 1024) };
  };
  const text = await measure(['--json']);
  const html = await measure(['--html', join(work, 'million.html'), '--timeline', join(work, 'million.csv')]);
  const size = (path) => Math.round(statSync(path).size / 1024);
  const lines = readFileSync(log, 'utf8').split('\n').length - 1;
  report(`13. report of a 1,000,000-order audit log (${lines.toLocaleString('en')} lines, ${Math.round(statSync(log).size / 1048576)} MB; a run and its resume, 56 min of work)`, [
    ['text report: time (s); peak memory (MB)', `${text.seconds}; ${text.mb}`],
    ['--html and --timeline: time (s)', html.seconds, '<= 30'],
    ['--html and --timeline: peak memory (MB)', html.mb, '<= 512'],
    ['HTML page (KB)', size(join(work, 'million.html')), '<= 1024'],
    ['timeline CSV (KB)', size(join(work, 'million.csv'))],
  ]);
};

/**
 * `report <folder>` over a year of nights: the million-order log (a run and its resume) hard-linked 365
 * times into one folder — 365 nights of a million orders each, read from the page cache (the disk would
 * add its own read time: 365 × the log's size) — and, for the nightly job's own case, 30 of them.
 */
scenarios.history = async () => {
  const log = join(work, 'million.ndjson');
  await millionOrderLog(log);
  const year = join(work, 'nights');
  mkdirSync(year);
  for (let night = 1; night <= 365; night++) linkSync(log, join(year, `night-${String(night).padStart(3, '0')}.ndjson`));
  const month = join(work, 'month');
  mkdirSync(month);
  for (let night = 1; night <= 30; night++) linkSync(log, join(month, `night-${String(night).padStart(3, '0')}.ndjson`));
  const measure = async (folder, args) => {
    const { stderr } = await promisify(execFile)('/usr/bin/time', ['-f', '%e %M', process.execPath, CLI, 'report', folder, ...args], { maxBuffer: 1 << 26, timeout: 3_600_000 });
    const [seconds, kb] = stderr.trim().split('\n').at(-1).split(' ').map(Number);
    return { seconds, mb: Math.round(kb / 1024) };
  };
  const single = join(work, 'single');
  mkdirSync(single);
  linkSync(log, join(single, 'night.ndjson'));
  const oneNight = await measure(single, ['--json']);
  const thirty = await measure(month, ['--html', join(work, 'month.html'), '--expect-every', '24h']);
  const all = await measure(year, ['--html', join(work, 'year.html'), '--json', '--expect-every', '24h']);
  const mb = Math.round(statSync(log).size / 1048576);
  report(`14. report <folder>: the history of 365 nights of 1,000,000 orders (one ${mb} MB log hard-linked 365 times: ${Math.round(365 * mb / 1024)} GB read, from the page cache)`, [
    ['one night: time (s); peak memory (MB)', `${oneNight.seconds}; ${oneNight.mb}`],
    ['30 nights, --html: time (s); peak memory (MB)', `${thirty.seconds}; ${thirty.mb}`],
    ['365 nights, --html and --json: time (s)', all.seconds],
    ['365 nights: peak memory (MB)', all.mb, '<= 200'],
    ['365 nights: lines read per second', Math.round((365 * (readFileSync(log, 'utf8').split('\n').length - 1)) / all.seconds)],
  ]);
};

if (only && !(only in scenarios)) {
  console.error(`no scenario ${only}; the scenarios: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
const started = performance.now();
for (const [name, scenario] of Object.entries(scenarios)) {
  if (!only || only === name) await scenario();
}
results.totalSeconds = round((performance.now() - started) / 1000);
// One scenario (`npm run bench -- startup`) updates its entry in bench/results.json; all of them replace it.
const file = here('./results.json');
if (only && existsSync(file)) {
  const previous = JSON.parse(readFileSync(file, 'utf8'));
  Object.assign(previous.scenarios, results.scenarios);
  // The line it ran on with it: `"$(bash scripts/node-line.sh 26)" bench/run.mjs memory` measures the image's line, not machine.node's.
  previous.updated = { ...previous.updated, [only]: results.date };
  previous.updatedOn = { ...previous.updatedOn, [only]: process.version };
  writeFileSync(file, `${JSON.stringify(previous, null, 2)}\n`);
} else {
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}
console.log(`\nbench done in ${results.totalSeconds} s; results in bench/results.json`);
