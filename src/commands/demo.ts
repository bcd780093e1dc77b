import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { ExitCode } from '../common/errors.js';
import { resolveRunOptions } from '../config/resolve.js';
import { RunControl } from '../engine/run-control.js';
import { Console } from '../report/console.js';
import type { RunContext } from '../run/run.js';
import type { Session } from './session.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));

/** `demo`: a real run against the fake API in this process, with injected faults; no credentials or network. */
export function addDemoCommand(program: Command, session: Session): void {
  const { io } = session;
  program
    .command('demo')
    .description('run the job against a fake Exsited API with injected faults; needs no credentials or network')
    .action(async () => {
      // The demo is read by a person even when its output is piped: plain sentences there, not JSON.
      session.console = new Console(session.envFormat ?? 'human', io.stderr, io.stdout, true, io.env);
      session.exitCode = await runDemo({ console: session.console, terminal: { stdin: io.stdin, stderr: io.stderr }, command: io.command });
    });
}

/**
 * The demo: the fake API in-process with the seed orders in fixtures/, faults injected (5xx, 429 with
 * Retry-After, resets, "deleted then 503", spurious 401s, 2-second tokens), and a real run on a CSV with
 * every quirk the reader handles. Needs no credentials and no network.
 */
async function runDemo({ console, terminal, command }: Omit<RunContext, 'control'>): Promise<ExitCode> {
  // Loaded when the demo runs: the fake API and the run are not every command's start-up cost.
  const [{ loadOrders }, { DEMO_CLIENT, startFakeExsited }, { runCleanup }] = await Promise.all([
    import('../fake-exsited/order-store.js'), import('../fake-exsited/server.js'), import('../run/run.js'),
  ]);
  const fake = await startFakeExsited({
    orders: await loadOrders(fixture('orders.json')),
    tokenTtlS: 2,
    faults: {
      seed: 7, latencyMs: 15, statuses: { 500: 0.04, 502: 0.03, 503: 0.05 }, throttle: 0.01, retryAfterS: 1,
      reset: 0.02, deleteThen503: 0.03, unauthorized: 0.02,
    },
  });
  console.say(`Demo: a fake Exsited API on ${fake.url} holds ${fake.orders.size} orders; deleting those listed in fixtures/demo-orders.csv.`);
  try {
    const env = {
      EXSITED_CLIENT_ID: DEMO_CLIENT.clientId, EXSITED_CLIENT_SECRET: DEMO_CLIENT.clientSecret, EXSITED_REDIRECT_URI: DEMO_CLIENT.redirectUri,
    };
    const options = resolveRunOptions({
      flags: {
        ids: fixture('demo-orders.csv'), baseUrl: fake.url, backoffBaseMs: 50, backoffCapMs: 1000, yes: true, htmlReport: 'runs/demo-report.html',
        // One fault in five answers: with the default 5 retries, an order left alone at the tail of the run met six in a row now and then.
        retries: 10,
      }, env,
    });
    const exitCode = await runCleanup(options, { control: new RunControl(options.graceMs), console, terminal, command });
    console.say(`The fake API received ${fake.deletes.length} DELETE requests and ${fake.tokenRequests.length} token requests; ` +
      `${fake.orders.size} of its orders remain. Each line of the audit log is one JSON event (see docs/audit-log.md).`);
    return exitCode;
  } finally {
    await fake.close();
  }
}
