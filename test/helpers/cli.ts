import { spawn, type ChildProcessWithoutNullStreams, type SpawnOptionsWithoutStdio } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { generateOrders, type FakeOrder } from '../../src/fake-exsited/order-store.js';
import { DEMO_CLIENT, startFakeExsited, type FakeClient, type FakeExsited, type FakeExsitedOptions } from '../../src/fake-exsited/server.js';
import { nobodysCli } from '../global-setup.js';
import { endAfter } from './teardown.js';

/** The built CLI: e2e tests run what users run (`npm test` builds first). */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** What stderr told people: the `msg` of each JSON console line (the console is JSON off a terminal). */
  log: string;
}

const messages = (stderr: string) => stderr.split('\n').filter(Boolean).map((line) => {
  try {
    return (JSON.parse(line) as { msg?: string }).msg ?? line;
  } catch {
    return line;
  }
}).join('\n');

export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  done: Promise<CliResult>;
  /** Resolves when stderr has printed text matching `pattern`. */
  printed(pattern: RegExp): Promise<void>;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin, which is then closed; `open` leaves stdin open (a pipe nobody writes to yet). */
  stdin?: string | 'open';
  /** Run as this user (tests run as root in CI: an unprivileged user meets permission errors). */
  user?: { uid: number; gid: number };
  /** A shell line run before the CLI in the same process, e.g. `ulimit -f 64` (a file size limit). */
  shellPrefix?: string;
  /**
   * Arguments added by bash, after the given ones, as a person's shell adds them: `--ids <(printf …)` (process
   * substitution: a pipe named /dev/fd/63). `--norc`: bash on a socket (spawn's stdio) would read ~/.bashrc.
   */
  bashArgs?: string;
  /** A command the CLI runs under, e.g. strace with a system call made to fail. */
  wrap?: string[];
}

export { NOBODY } from '../global-setup.js';

export function startCli(args: string[], options: CliOptions = {}): RunningCli {
  const env = { PATH: process.env.PATH, ...options.env };
  const spawnOptions: SpawnOptionsWithoutStdio = { cwd: options.cwd, env, stdio: 'pipe', ...(options.user ?? {}) };
  // Another user runs the copy they can reach (test/global-setup.ts), wherever the checkout lives.
  const { node, cli } = (options.user && nobodysCli()) || { node: process.execPath, cli: CLI };
  const child: ChildProcessWithoutNullStreams = options.bashArgs !== undefined
    ? spawn('bash', ['--norc', '-c', `exec "$0" "$@" ${options.bashArgs}`, node, cli, ...args], spawnOptions)
    : options.shellPrefix !== undefined
      ? spawn('sh', ['-c', `${options.shellPrefix}; exec "$0" "$@"`, node, cli, ...args], spawnOptions)
      : options.wrap
        ? spawn(options.wrap[0] as string, [...options.wrap.slice(1), node, cli, ...args], spawnOptions)
        : spawn(node, [cli, ...args], spawnOptions);
  // Killed after the test if still running, so that a hung CLI never outlives its test.
  child.on('exit', endAfter('test', () => child.kill('SIGKILL')));
  let stdout = '';
  let stderr = '';
  const watchers: Array<{ pattern: RegExp; resolve: () => void }> = [];
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const watcher of watchers.filter((w) => w.pattern.test(stderr))) {
      watchers.splice(watchers.indexOf(watcher), 1);
      watcher.resolve();
    }
  });
  if (options.stdin !== 'open') child.stdin?.end(options.stdin ?? '');
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, log: messages(stderr) }));
  });
  return {
    child,
    done,
    printed: (pattern) => new Promise((resolve) => (pattern.test(stderr) ? resolve() : watchers.push({ pattern, resolve }))),
  };
}

export const runCli = (args: string[], options: CliOptions = {}) => startCli(args, options).done;

const LAZY_MODULES = [
  () => import('../../src/sources/filter-spec.js'), () => import('../../src/planner/selection.js'), () => import('../../src/run/run.js'),
  () => import('../../src/report/run-report.js'), () => import('../../src/audit/resume-state.js'), () => import('../../src/exsited/http.js'),
  () => import('../../src/engine/executor.js'), () => import('../../src/audit/latest-log.js'), () => import('csv-stringify/sync'),
  () => import('../../src/report/report-files.js'), () => import('../../src/report/summary-files.js'), () => import('../../src/report/report-text.js'),
  () => import('../../src/report/html/page.js'), () => import('../../src/report/metrics.js'), () => import('../../src/run/retention.js'),
  () => import('../../src/exsited/token-cache.js'), () => import('../../src/guards/file-roles.js'),
  () => import('../../src/report/history.js'), () => import('../../src/report/history-outputs.js'), () => import('../../src/report/html/history-page.js'),
];

/**
 * The same command line run in this process (src/program's `main`, as the built CLI runs it), with its
 * own environment and streams: for variants of a behaviour that need nothing of a real process (no
 * signal, user, file size limit, working directory or proxy variable), without the cost of starting
 * one. The main path is tested through the built CLI (runCli, startCli).
 */
export async function runInProcess(args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<CliResult> {
  // Jest's module runtime fails concurrent dynamic imports that share a built-in module ("request for
  // 'node:crypto' is not in cache"); Node does not. The modules the CLI loads lazily are loaded here first,
  // one at a time.
  for (const lazy of LAZY_MODULES) await lazy();
  const { main } = await import('../../src/program.js');
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const err = new PassThrough().on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Still going after its test (one that timed out): stopped as SIGTERM stops a run, so that none of its waits outlives the test.
  const signals = new EventEmitter();
  const ended = endAfter('test', () => signals.emit('SIGTERM', 'SIGTERM'));
  const code = await main(args, { command: 'exsited-order-cleanup', env: { ...options.env }, stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]), stdout: out, stderr: err, signals })
    .finally(ended);
  await new Promise((resolve) => setImmediate(resolve));
  return { code, signal: null, stdout, stderr, log: messages(stderr) };
}

/**
 * A fresh working directory for one test (readable by every user: some tests run the CLI as nobody),
 * removed when its file's tests are done (a suite run left some 700 behind in the temporary folder).
 */
export const workDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'eoc-test-'));
  chmodSync(dir, 0o755);
  endAfter('file', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The environment a CLI child needs to reach `api` (the fake, or a test's own server) with a client's credentials. */
export function credentialsEnv(api: Pick<FakeExsited, 'url'>, client: FakeClient = DEMO_CLIENT): NodeJS.ProcessEnv {
  return {
    EXSITED_BASE_URL: api.url,
    EXSITED_CLIENT_ID: client.clientId,
    EXSITED_CLIENT_SECRET: client.clientSecret,
    EXSITED_REDIRECT_URI: client.redirectUri,
  };
}

/** A fake API with `count` seeded orders; `options` overrides the rest. */
export async function fakeApi(count: number, options: Partial<FakeExsitedOptions> = {}): Promise<{ fake: FakeExsited; orders: FakeOrder[] }> {
  const orders = generateOrders(count, 11);
  const fake = await startFakeExsited({ orders: orders.map((o) => ({ ...o })), ...options });
  endAfter('file', () => fake.close());
  return { fake, orders };
}

/** Resolves once the fake API has deleted `count` orders: tests wait for events, never sleep. */
export const untilDeletes = (api: FakeExsited, count: number) => new Promise<void>((resolve) => {
  const check = () => {
    if (api.deleted.length >= count) {
      api.events.off('delete', check);
      resolve();
    }
  };
  api.events.on('delete', check);
  check();
});

export interface AuditLine {
  event: string;
  runId: string;
  orderId?: string;
  outcome?: string;
  [key: string]: any;
}

/** The audit log's lines; `torn` receives the lines that are not JSON (left by a kill mid-write). */
export function readAudit(path: string, torn: string[] = []): AuditLine[] {
  const lines: AuditLine[] = [];
  for (const text of readFileSync(path, 'utf8').split('\n').filter(Boolean)) {
    try {
      lines.push(JSON.parse(text) as AuditLine);
    } catch {
      torn.push(text);
    }
  }
  if (torn.length === 0) return lines;
  if (arguments.length < 2) throw new Error(`${path} has unreadable lines: ${torn.join(' | ')}`);
  return lines;
}

/** The audit log in `dir` (an --audit-dir of one run's log). */
export function onlyLogIn(dir: string): string {
  const logs = readdirSync(dir).filter((name) => name.endsWith('.ndjson'));
  if (logs.length !== 1) throw new Error(`${dir} holds ${logs.length} audit logs, not one`);
  return join(dir, logs[0] as string);
}

/** The log as a run killed (-9) before its end leaves it: its run.end lines cut away; `edit` may change the lines left. */
export function cutRunEnd(log: string, edit: (lines: string[]) => void = () => undefined): void {
  const lines = readFileSync(log, 'utf8').trim().split('\n').filter((line) => !line.includes('"event":"run.end"'));
  edit(lines);
  writeFileSync(log, `${lines.join('\n')}\n`);
}

/** Fast retries for tests: the backoff is real, only tiny. */
export const FAST = ['--backoff-base-ms', '5', '--backoff-cap-ms', '50'];

/** A run of the built CLI, eight workers, against a fake of `count` orders with `options`: its result, its audit lines, its run.end and its throttle lines. */
export async function runOnFake(count: number, options: Parameters<typeof fakeApi>[1], args: string[]) {
  const api = await fakeApi(count, options);
  const dir = workDir();
  const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
  const log = join(dir, 'a.ndjson');
  const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '8', ...args], { env: credentialsEnv(api.fake) });
  const lines = readAudit(log);
  return { ...api, result, log, lines, end: lines.find((l) => l.event === 'run.end') as AuditLine, throttles: lines.filter((l) => l.event === 'throttle') };
}
