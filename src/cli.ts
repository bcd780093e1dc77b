#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { DEFAULTS, resolveRunOptions, type RunFlags } from './config.js';
import { RunControl } from './engine/run-control.js';
import { CleanupError, ExitCode, usageError } from './common/errors.js';
import { describeFileError, prepareOutputFile } from './common/files.js';
import { spreadsheetSafe } from './common/text.js';
import { print, say } from './report/terminal.js';
import { VERSION } from './version.js';

/** Flags → options, the run, and the exit code; nothing else lives here. */
const program = new Command()
  .name('exsited-order-cleanup')
  .description('Delete test orders from an Exsited environment, with retries, an audit log and resume.')
  .version(VERSION)
  .showHelpAfterError();

program
  .command('run')
  .description('delete the orders listed in --ids or selected by --filter (or continue a run with --resume)')
  .option('--job <path>', 'read options from a job spec (JSON, option names as the flags, camelCase); flags given here win')
  .option('--ids <path>', 'order IDs: a .csv file with a header row, a text file with one ID per line, or - for stdin')
  .option('--filter <path>', 'select the orders with a filter file (JSON; see README, "Filter files") instead of --ids')
  .addOption(new Option('--format <format>', 'how to read --ids (default: csv for *.csv, else text)').choices(['csv', 'text']))
  .option('--column <name>', 'CSV column holding the IDs (default: the first header named order_id, orderId, order id or id)')
  .option('--id-pattern <regex>', 'accept order IDs matching this regex instead of [A-Za-z0-9][A-Za-z0-9_-]{0,99} (/ ? # % \\ whitespace . .. are always refused)')
  .option('--audit-log <path>', 'the audit log (NDJSON) to write, or with --resume to continue (default: runs/<UTC time>-<runId>.ndjson)')
  .option('--audit-dir <dir>', 'give each run its own log in this folder: <dir>/<UTC time>-<runId>.ndjson')
  .option('--auto-resume', 'with --audit-dir: if the latest log there did not finish (no run.end, interrupted or halted), resume it first')
  .option('--shard <i/n>', 'take only the orders whose ID hashes to shard i of n (FNV-1a 32-bit mod n); give each shard its own log')
  .option('--resume', 'continue the run recorded in --audit-log: skip orders already deleted or absent, retry the rest')
  .option('--force', 'with --resume: accept an input or base URL that differs from the recorded one')
  .option('--concurrency <n>', 'DELETE requests in flight at most', DEFAULTS.concurrency)
  .option('--retries <n>', 'retries per order after the first attempt (transport errors, 408, 429, 5xx)', DEFAULTS.retries)
  .option('--timeout-ms <ms>', 'timeout of each HTTP request', DEFAULTS.timeoutMs)
  .option('--backoff-base-ms <ms>', 'first retry waits up to this (full jitter, doubling per retry)', DEFAULTS.backoffBaseMs)
  .option('--backoff-cap-ms <ms>', 'longest wait between retries, unless Retry-After asks for more', DEFAULTS.backoffCapMs)
  .option('--grace-ms <ms>', 'on SIGINT/SIGTERM, how long in-flight requests may finish', DEFAULTS.graceMs)
  .option('--max-deletes <n>', 'refuse (exit 3, before any DELETE) when more orders than this are selected', DEFAULTS.maxDeletes)
  .option('--rps <n>', 'cap on DELETE requests per second, shared by all workers (default: none until the server answers 429)')
  .option('--halt-after <n>', 'halt (exit 4) after this many orders in a row failed with the same cause; 0: never', DEFAULTS.haltAfter)
  .option('--max-duration <time>', 'stop dispatching at this deadline (e.g. 45m, 1h30m), then drain and exit 4; resume later')
  .option('--progress-interval <time>', 'off a terminal, print a progress line this often (on a terminal: one live line)', DEFAULTS.progressInterval)
  .option('--summary-json <path>', 'write the outcome (status, exit code, counts) as JSON here at the end; $GITHUB_STEP_SUMMARY also gets a markdown table')
  .option('--dry-run', 'validate and authenticate, log every order as would_delete, send no DELETE')
  .option('--yes', 'do not ask for confirmation (no prompt is shown off a TTY in any case)')
  .option('--base-url <url>', 'Exsited API base URL (default: $EXSITED_BASE_URL, else https://dev-api.exsited.com; a resume uses the recorded one)')
  .option('--allow-host <host>', 'also allow this host (repeatable; EXSITED_ALLOWED_HOSTS adds a comma-separated list)', (host: string, hosts: string[]) => [...hosts, host], [] as string[])
  .addHelpText('after', `
Credentials come from the environment only: EXSITED_CLIENT_ID, EXSITED_CLIENT_SECRET and EXSITED_REDIRECT_URI
(OAuth2 client credentials), or EXSITED_ACCESS_TOKEN (a pre-issued token, which cannot be renewed).

Exit codes: 0 all deleted or already absent (or dry run done); 1 some orders failed; 2 usage, input or
config error, nothing sent; 3 refused before any delete (host not allowed, credentials rejected,
--max-deletes exceeded, not confirmed, the audit log in use); 4 halted, resumable (--halt-after,
--max-duration, the token lost); 130/143 interrupted by SIGINT/SIGTERM, resumable.`)
  .action(async (flags: RunFlags, command: Command) => {
    const options = resolveRunOptions(await withJob(flags, command), process.env);
    const control = new RunControl(options.graceMs);
    if (options.maxDurationMs !== undefined) control.setDeadline(options.maxDurationMs);
    let signals = 0;
    const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
      if (++signals > 1) {
        say(`${signal} again: exiting at once; the audit log holds every order finished so far.`);
        process.exit(signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm);
      }
      say(`${signal}: no new orders will be started; requests in flight have ${options.graceMs} ms to finish (send it again to exit at once).`);
      control.stop({ kind: 'signal', signal });
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
    // Each command loads what it uses: axios alone costs ~150 ms of start-up, the log schemas ~90 ms.
    const { runCleanup } = await import('./run.js');
    const unfinished = options.autoResume ? await (await import('./audit/latest-log.js')).latestUnfinishedLog(options.auditDir as string) : undefined;
    if (unfinished) {
      say(`Resuming the unfinished run in ${unfinished} first.`);
      const code = await runCleanup({ ...options, resume: true, auditLog: unfinished, auditDir: undefined, ids: undefined, filter: undefined }, control);
      if (code !== ExitCode.ok && code !== ExitCode.someFailed) process.exit(code);
    }
    process.exit(await runCleanup(options, control));
  });

/** --job FILE: its options, under the flags given on the command line (flags win). */
async function withJob(flags: RunFlags, command: Command): Promise<RunFlags> {
  if (!flags.job) return flags;
  const { readJobSpec } = await import('./job-spec.js'); // with its schema library, only when a job is used
  const job = readJobSpec(flags.job) as Record<string, unknown>;
  delete job.description;
  const merged: Record<string, unknown> = { ...flags };
  for (const [key, value] of Object.entries(job)) {
    if (command.getOptionValueSource(key) !== 'cli') merged[key] = value;
  }
  return merged as unknown as RunFlags;
}

program
  .command('schedule')
  .description('run a job on a cron schedule, never two at once (for a plain Docker host; Kubernetes and cron start `run` themselves)')
  .argument('<cron>', 'when to run, as a cron expression (5 fields, or 6 with seconds first), e.g. "30 2 * * *"')
  .requiredOption('--job <path>', 'the job spec each run uses')
  .option('--timezone <zone>', 'read the expression in this IANA time zone (default: the machine\'s)')
  .action(async (cron: string, flags: { job: string; timezone?: string }) => {
    const [{ readJobSpec }, { runSchedule }] = await Promise.all([import('./job-spec.js'), import('./schedule.js')]);
    readJobSpec(flags.job); // refuse a broken job now, not at the first turn
    process.exit(await runSchedule({ cron, runArgs: ['--job', flags.job], timezone: flags.timezone }));
  });

program
  .command('report')
  .description('summarise a run and all its resumes from its audit log')
  .argument('<audit-log>', 'the audit log (NDJSON) of the run')
  .option('--json', 'print the report as JSON on stdout')
  .option('--failed-csv <path>', 'write the orders whose latest outcome is failed: order_id,httpStatus,error_code,message (usable as --ids)')
  .action(async (auditLog: string, flags: { json?: boolean; failedCsv?: string }) => {
    if (flags.failedCsv) prepareOutputFile(flags.failedCsv, 'report: --failed-csv');
    const { buildRunReport, formatRunReport } = await import('./report/run-report.js');
    const report = await buildRunReport(auditLog);
    if (flags.failedCsv) {
      // The IDs stay exact (the file is fed back to --ids); the server's text cannot become a formula.
      const rows = report.failedOrders.map((f) => [f.orderId, f.httpStatus ?? '', spreadsheetSafe(f.code), spreadsheetSafe(f.message)]);
      try {
        writeFileSync(flags.failedCsv, stringify([['order_id', 'httpStatus', 'error_code', 'message'], ...rows]));
      } catch (error) {
        throw usageError(`report: --failed-csv ${flags.failedCsv} could not be written: ${describeFileError(error)}`);
      }
    }
    print(flags.json ? JSON.stringify(report, null, 2) : formatRunReport(report));
    if (flags.failedCsv) say(`${report.failedOrders.length} failed order(s) written to ${flags.failedCsv}`);
  });

program
  .command('fake-api')
  .description('serve a fake Exsited API on loopback, for trying the tool and for tests')
  .option('--port <port>', 'port to listen on (0: any free port)', '8787')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--orders <n|file>', 'generate this many orders, or load them from a JSON file', '500')
  .option('--seed <n>', 'seed for generated orders and faults', '1')
  .option('--faults <spec>', 'injected faults, e.g. 503:0.05,500:0.02,429:0.02,reset:0.01,hang:0.01,delete-then-503:0.02,401:0.01', '')
  .option('--retry-after <s>', 'Retry-After seconds sent with injected 429s', '1')
  .option('--latency-ms <ms>', 'delay before every answer', '0')
  .option('--token-ttl <s>', 'access token lifetime in seconds', '3600')
  .action(async (flags: Record<string, string>) => {
    const [{ parseFaultSpec }, { loadOrders }, { DEMO_CLIENT, startFakeExsited }] = await Promise.all([
      import('./fake-exsited/faults.js'), import('./fake-exsited/order-store.js'), import('./fake-exsited/server.js'),
    ]);
    const seed = Number(flags.seed);
    let faults;
    let orders;
    try {
      faults = parseFaultSpec(flags.faults ?? '', { seed, latencyMs: Number(flags.latencyMs), retryAfterS: Number(flags.retryAfter) });
      orders = loadOrders(flags.orders ?? '500', seed);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw usageError(`fake-api: ${code ? `--orders ${flags.orders}: ${describeFileError(error)}` : (error as Error).message}`);
    }
    const fake = await startFakeExsited({ orders, port: Number(flags.port), host: flags.host, tokenTtlS: Number(flags.tokenTtl), faults });
    print(`Fake Exsited API on ${fake.url} with ${fake.orders.size} orders. Use it with:
  export EXSITED_BASE_URL=${fake.url} EXSITED_CLIENT_ID=${DEMO_CLIENT.clientId} EXSITED_CLIENT_SECRET=${DEMO_CLIENT.clientSecret} EXSITED_REDIRECT_URI=${DEMO_CLIENT.redirectUri}
State: GET ${fake.url}/__fake/state. Stop with Ctrl-C.`);
    const stop = () => void fake.close().then(() => process.exit(0));
    process.on('SIGINT', stop).on('SIGTERM', stop);
  });

program
  .command('demo')
  .description('run the job against a fake Exsited API with injected faults; needs no credentials or network')
  .action(async () => {
    // The demo is read by a person even when its output is piped: bare lines there, not JSON.
    process.env.EXSITED_LOG_FORMAT ??= process.stderr.isTTY ? 'pretty' : 'text';
    const { runDemo } = await import('./demo.js');
    process.exit(await runDemo());
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof CleanupError) {
    say(`exsited-order-cleanup: ${error.message}`, 'error', { exitCode: error.exitCode });
    process.exit(error.exitCode);
  }
  // A bug, not the user's input: one sentence for a person; the stack only when asked for.
  const detail = process.env.EXSITED_DEBUG ? `\n${error instanceof Error ? error.stack : String(error)}` : ' (set EXSITED_DEBUG=1 to see where)';
  say(`exsited-order-cleanup: internal error, a bug in this tool: ${error instanceof Error ? error.message : String(error)}${detail}`, 'error');
  process.exit(ExitCode.halted);
});
