import { existsSync, statSync, writeFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { CleanupError, ExitCode, usageError } from './common/errors.js';
import { describeFileError, prepareOutputFile } from './common/files.js';
import { humanDuration, parseDuration } from './common/durations.js';
import { quoted, shellQuote } from './common/text.js';
import { VERSION } from './common/version.js';
import { readJobSpec } from './config/job-spec.js';
import { GROUPS, runOptionKeys, specOf, type OptionSpec, type RunOptionKey } from './config/options.js';
import { registerSecretsOf, resolveRunOptions, type RunOptions } from './config/resolve.js';
import { DEFAULT_BASE_URL, displayBaseUrl } from './exsited/host-allowlist.js';
import { RunControl } from './engine/run-control.js';
import { Console, type LogFormat } from './report/console.js';

/** Where a command reads and writes: the process's own streams and environment, or a test's. */
export interface Io {
  /** How the person started this tool (e.g. `npx exsited-order-cleanup`): the commands it prints start the same way. */
  command: string;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** What the commands share while one command line runs. */
interface Session {
  io: Io;
  console: Console;
  exitCode: ExitCode;
  /** EXSITED_LOG_FORMAT when it is valid (the resolver reports it otherwise): the format before `run` resolves its own. */
  envFormat: LogFormat | undefined;
}

/**
 * The command line: flags → options, the command, and its exit code; nothing else lives here. A new
 * program per call, bound to `io`, so that tests run the very same commands in-process; the process's
 * own glue (its streams, its exit) is src/cli.ts.
 */
export async function main(argv: string[], io: Io): Promise<ExitCode> {
  const parsedFormat = specOf('logFormat').value.parse(io.env.EXSITED_LOG_FORMAT);
  const envFormat = 'value' in parsedFormat ? (parsedFormat.value as LogFormat) : undefined;
  const session: Session = { io, console: new Console(envFormat, io.stderr, io.stdout, !!io.stdin.isTTY), exitCode: ExitCode.ok, envFormat };
  try {
    await createProgram(session).parseAsync(argv, { from: 'user' });
    return session.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too; any other commander error is a usage error (exit 2), told by commander.
      return ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code) ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof CleanupError) {
      // A refusal is the tool doing its job (or the person saying no), not an error.
      const refusal = error.exitCode === ExitCode.refused;
      session.console.say(refusal ? `Refused: ${error.message}` : `exsited-order-cleanup: ${error.message}`, refusal ? 'warn' : 'error', { exitCode: error.exitCode });
      return error.exitCode;
    }
    // A bug, not the user's input: one sentence for a person; the stack only when asked for.
    const detail = io.env.EXSITED_DEBUG ? `\n${error instanceof Error ? error.stack : String(error)}` : ' (set EXSITED_DEBUG=1 to see where)';
    session.console.say(`exsited-order-cleanup: internal error, a bug in this tool: ${error instanceof Error ? error.message : String(error)}${detail}`, 'error');
    return ExitCode.internal;
  }
}

function createProgram(session: Session): Command {
  const { io } = session;
  const program = new Command()
    .name('exsited-order-cleanup')
    .description('Delete test orders from an Exsited environment, with retries, an audit log and resume.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      // One line for the problem, one for the way out: "Did you mean --dry-run? See 'exsited-order-cleanup run --help'."
      outputError: (text, write) => write(text
        .replace(/^error: /, 'exsited-order-cleanup: ')
        .replace(/\n\(Did you mean (.*)\?\)\n$/, '\nDid you mean $1? ')),
    })
    .showHelpAfterError("See 'exsited-order-cleanup --help'.")
    .addHelpText('after', `
Start here: 'exsited-order-cleanup demo' deletes orders from a built-in fake Exsited API with injected faults;
'exsited-order-cleanup fake-api --write-ids fake-orders.csv' serves one to try a real run against by hand.
Then 'exsited-order-cleanup run --help'.`);
  addRunCommand(program, session);
  addScheduleCommand(program, session);
  addReportCommand(program, session);
  addFakeApiCommand(program, session);
  addDemoCommand(program, session);
  return program;
}

function addRunCommand(program: Command, session: Session): void {
  const { io } = session;
  const run = program
    .command('run')
    .description('delete the orders listed in --ids or selected by --filter (or continue a run with --resume)')
    .showHelpAfterError("See 'exsited-order-cleanup run --help'.");
  for (const key of runOptionKeys) {
    const option = commanderOption(specOf(key));
    if (option) run.addOption(option);
  }
  run.addHelpText('after', `
Examples:
  exsited-order-cleanup run --ids test-orders.csv --dry-run   check the IDs and the credentials; delete nothing
  exsited-order-cleanup run --ids test-orders.csv             delete them (you type the count to confirm)
  exsited-order-cleanup run --filter qa.json --dry-run        select by a filter file, review its manifest
  exsited-order-cleanup run --resume                          continue the newest unfinished run in runs/
  exsited-order-cleanup run --job jobs/nightly-cleanup.json   a ready-made job (cron, containers, pipelines)

Credentials come from the environment only: EXSITED_CLIENT_ID, EXSITED_CLIENT_SECRET and EXSITED_REDIRECT_URI
(OAuth2 client credentials), or EXSITED_ACCESS_TOKEN (a pre-issued token, which cannot be renewed).

Exit codes: 0 all deleted or already absent (or dry run done); 1 some orders failed; 2 usage, input or
configuration error, nothing sent; 3 refused before any delete (host not allowed, credentials rejected,
--max-deletes exceeded, not confirmed, the audit log in use); 4 stopped, resumable (--halt-after,
--max-duration, the token lost, the token cache locked by another run, the audit log could not be
written); 70 a bug in this tool; 130/143 interrupted by Ctrl-C/SIGTERM, resumable.`);
  run.action(async (flags: Partial<Record<RunOptionKey, unknown>>) => {
    const job = typeof flags.job === 'string' ? await readJobSpec(flags.job) : undefined;
    const options = resolveRunOptions({ flags, job: job && { path: job.path, options: job.options }, env: io.env });
    const console = (session.console = new Console(options.logFormat, io.stderr, io.stdout, !!io.stdin.isTTY));
    const control = new RunControl(options.graceMs);
    if (options.maxDuration !== undefined) control.setDeadline(options.maxDuration);
    let signals = 0;
    const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
      // Once run.end is written, its exit code is the process's: a signal cuts the reports short, it does not change the story.
      const ended = control.endedWith;
      if (++signals > 1) {
        console.say(ended !== undefined
          ? `${signal} again: exiting at once with the run's own exit code (${ended}); the reports not made yet can be made from its audit log.`
          : `${signal} again: exiting at once; the audit log holds every order finished so far.`);
        process.exit(ended ?? (signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm));
      }
      if (ended !== undefined) {
        console.say(`${signal}: the run has ended (exit ${ended}); finishing its reports (a few seconds at most; send it again to exit at once).`);
        return;
      }
      // Before deletion began (reading input, listing, at the question) there is nothing in flight to speak of.
      if (control.deleting) {
        console.say(`${signal}: no new orders will be started; requests in flight have ${humanDuration(control.graceMs)} to finish (send it again to exit at once).`);
      }
      control.stop({ kind: 'signal', signal });
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
    try {
      // Each command loads what it uses: axios alone costs ~150 ms of start-up, the log schemas ~90 ms.
      const { runCleanup } = await import('./run.js');
      const context = { control, console, terminal: { stdin: io.stdin, stderr: io.stderr }, command: io.command };
      const unfinished = options.autoResume ? await findOwnUnfinishedRun(options, session) : undefined;
      if (unfinished) {
        console.say(`Resuming this job's unfinished run in ${unfinished} first.`);
        const code = await runCleanup({ ...options, resume: true, auditLog: unfinished, auditDir: undefined, ids: undefined, filter: undefined }, context);
        if (code !== ExitCode.ok && code !== ExitCode.someFailed) {
          session.exitCode = code;
          return;
        }
      }
      session.exitCode = await runCleanup(options, context);
    } finally {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
  });
}

/**
 * --auto-resume: this job's own unfinished run in --audit-dir, if there is one to continue; every other
 * unfinished run there (a person's, another job's, one a person interrupted) is named with the command
 * that continues it, and left for a person.
 */
async function findOwnUnfinishedRun(options: RunOptions, session: Session): Promise<string | undefined> {
  const [{ autoResumeFinding }, { jobIdentity }, { identityOf }] = await Promise.all([
    import('./audit/latest-log.js'), import('./planner/job-identity.js'), import('./run.js'),
  ]);
  let host: string;
  try {
    host = displayBaseUrl(new URL(options.baseUrl ?? DEFAULT_BASE_URL));
  } catch {
    return undefined; // the run itself says what is wrong with the URL
  }
  const finding = await autoResumeFinding(options.auditDir as string, jobIdentity(identityOf(options), host, false).id);
  const SHOWN = 5;
  for (const { entry, why } of finding.leftAlone.slice(0, SHOWN)) {
    session.console.say(`${entry.path} holds an unfinished run that --auto-resume leaves alone: ${why}. To continue it: ` +
      `${session.io.command} run --resume --audit-log ${shellQuote(entry.path)}`, 'warn');
  }
  if (finding.leftAlone.length > SHOWN) session.console.say(`… and ${finding.leftAlone.length - SHOWN} more unfinished runs in ${options.auditDir}`, 'warn');
  return finding.resume?.path;
}

/** A run option as commander's: no default held (the resolver knows which flags were given), help grouped. */
function commanderOption(spec: OptionSpec<unknown>): Option | undefined {
  if (!spec.flag) return undefined;
  const { value } = spec;
  const shownDefault = spec.default === undefined || spec.default === false || (Array.isArray(spec.default) && spec.default.length === 0)
    ? '' : ` (default: ${value.show(spec.default)})`;
  const option = new Option(value.placeholder ? `${spec.flag} ${value.placeholder}` : spec.flag, `${spec.help}${shownDefault}${spec.env ? ` [${spec.env}]` : ''}`)
    .helpGroup(`${GROUPS[spec.group]}:`);
  if (value.choices) option.choices(value.choices);
  if (value.merges) option.argParser((item: string, previous: string[] = []) => [...previous, item]);
  return option;
}

function addScheduleCommand(program: Command, session: Session): void {
  program
    .command('schedule')
    .description('run a job on a cron schedule, never two at once (for a plain Docker host; Kubernetes and cron start `run` themselves)')
    .argument('<cron>', 'when to run, as a cron expression (5 fields, or 6 with seconds first), e.g. "30 2 * * *"')
    .showHelpAfterError("See 'exsited-order-cleanup schedule --help'.")
    .requiredOption('--job <path>', 'the job spec each run uses')
    .option('--timezone <zone>', 'read the expression in this IANA time zone (default: the machine\'s)')
    .action(async (cron: string, flags: { job: string; timezone?: string }) => {
      await readJobSpec(flags.job); // refuse a broken job now, not at the first turn
      const { runSchedule } = await import('./schedule.js');
      session.exitCode = await runSchedule({ cron, runArgs: ['--job', flags.job], timezone: flags.timezone }, session.console);
    });
}

function addReportCommand(program: Command, session: Session): void {
  program
    .command('report')
    .description('summarise a run and all its resumes from its audit log (several logs: a rerun together with the run it came from); ' +
      'a folder: list its logs')
    .argument('<audit-log...>', 'the audit log(s) of the run, oldest first; or a folder of logs (runs/)')
    .option('--json', 'print the report as JSON on stdout')
    .option('--failed-csv <path>', 'write the orders whose latest outcome is failed: order_id,http_status,error_code,message (usable as --ids)')
    .option('--html <path>', 'write the report as one self-contained HTML page: charts of throughput, throttling, retries and failures by cause, time per order')
    .option('--timeline <path>', 'write the per-interval series (outcomes, retries and failures by cause, pace, pauses) as CSV')
    .option('--interval <duration>', 'the interval of --timeline and the charts, such as 1s or 5m (default: about 240 across the runs)')
    .showHelpAfterError("See 'exsited-order-cleanup report --help'.")
    .action(async (paths: string[], flags: { json?: boolean; failedCsv?: string; html?: string; timeline?: string; interval?: string }) => {
      const { console } = session;
      if (paths.length === 1 && isFolder(paths[0] as string)) {
        const [{ logsIn }, { formatLogList }] = await Promise.all([import('./audit/latest-log.js'), import('./report/run-report.js')]);
        const logs = await logsIn(paths[0] as string);
        console.print(flags.json ? JSON.stringify(logs.map(({ path, start, end, unfinished }) => ({ path, start, end, unfinished })), null, 2) : formatLogList(paths[0] as string, logs));
        return;
      }
      registerSecretsOf(session.io.env);
      const intervalMs = flags.interval === undefined ? undefined : parseDuration(flags.interval);
      if (flags.interval !== undefined && !(intervalMs !== undefined && intervalMs > 0)) throw usageError(`report: --interval ${quoted(flags.interval as string)} is not a duration such as 1s, 30s or 5m`);
      const files = { failedCsv: flags.failedCsv, html: flags.html, timeline: flags.timeline, intervalMs };
      const outputs = [['--failed-csv', files.failedCsv], ['--html', files.html], ['--timeline', files.timeline]] as const;
      const [{ refuseCollisions }, { lockPathOf }, { manifestPathOf }, { describeLog }] = await Promise.all([
        import('./guards/file-roles.js'), import('./audit/run-lock.js'), import('./planner/input.js'), import('./audit/latest-log.js'),
      ]);
      refuseCollisions([
        ...paths.flatMap((log) => [
          { what: 'the audit log', path: log, output: false }, { what: 'the audit log\'s lock', path: lockPathOf(log), output: false },
          { what: 'the audit log\'s manifest', path: manifestPathOf(log), output: false },
          { what: 'the input its run recorded', path: describeLog(log).start?.source.path ?? '', output: false },
        ]),
        ...(session.io.env.EXSITED_TOKEN_CACHE ? [{ what: 'the token cache (EXSITED_TOKEN_CACHE)', path: session.io.env.EXSITED_TOKEN_CACHE, output: false }] : []),
        ...outputs.map(([option, path]) => ({ what: `report: ${option}`, path: path ?? '', output: true })),
      ], 'nothing was written');
      for (const [option, path] of outputs) {
        if (path) prepareOutputFile(path, `report: ${option}`, 'nothing was written');
      }
      const [{ reportWithFiles }, { formatRunReport }] = await Promise.all([import('./report/report-files.js'), import('./report/run-report.js')]);
      const report = await reportWithFiles(paths, files, { command: session.io.command, version: VERSION });
      console.print(flags.json ? JSON.stringify(report, null, 2) : formatRunReport(report, session.io.command));
      if (files.failedCsv) console.say(`${report.failedOrders.length} failed order(s) written to ${files.failedCsv}`);
      if (files.timeline) console.say(`The timeline written to ${files.timeline}`);
      if (files.html) console.say(`The HTML report written to ${files.html}`);
    });
}

const isFolder = (path: string) => existsSync(path) && statSync(path).isDirectory();

function addFakeApiCommand(program: Command, session: Session): void {
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
    .option('--one-live-token', 'a new access token ends the earlier ones, as Exsited reportedly does: runs sharing credentials sign each other out')
    .option('--limit <spec>', 'a rate limit on DELETE shared by every client: bucket:RATE[:BURST] (a token bucket) or window:N (N per calendar second)')
    .option('--outage <spec>', 'every DELETE answered 503 for a while, e.g. 10s@2s: for 10 s, from 2 s after the first DELETE')
    .option('--token-ttl <s>', 'access token lifetime in seconds', '3600')
    .option('--write-ids <path>', 'also write the IDs of its orders to this CSV, to try a real run with --ids')
    .action(async (flags: Record<string, string>) => {
      const [{ parseFaultSpec }, { loadOrders }, { DEMO_CLIENT, startFakeExsited }, { parseLimit, parseOutage }] = await Promise.all([
        import('./fake-exsited/faults.js'), import('./fake-exsited/order-store.js'), import('./fake-exsited/server.js'), import('./fake-exsited/limits.js'),
      ]);
      const seed = Number(flags.seed);
      let faults;
      let orders;
      let limits;
      try {
        faults = parseFaultSpec(flags.faults ?? '', { seed, latencyMs: Number(flags.latencyMs), retryAfterS: Number(flags.retryAfter) });
        limits = { ...(flags.limit ? { limit: parseLimit(flags.limit) } : {}), ...(flags.outage ? { outage: parseOutage(flags.outage) } : {}) };
        orders = loadOrders(flags.orders ?? '500', seed);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw usageError(`fake-api: ${code ? `--orders ${flags.orders}: ${describeFileError(error)}` : (error as Error).message}`);
      }
      if (flags.writeIds) {
        const { refuseCollisions } = await import('./guards/file-roles.js');
        refuseCollisions([{ what: 'fake-api: --orders', path: /^\d+$/.test(flags.orders ?? '') ? '' : flags.orders ?? '', output: false },
          { what: 'fake-api: --write-ids', path: flags.writeIds, output: true }], 'nothing was written');
        prepareOutputFile(flags.writeIds, 'fake-api: --write-ids');
      }
      const fake = await startFakeExsited({ orders, port: Number(flags.port), host: flags.host, tokenTtlS: Number(flags.tokenTtl), faults, oneLiveToken: !!flags.oneLiveToken, ...limits });
      try {
        if (flags.writeIds) writeFileSync(flags.writeIds, `order_id\n${orders.map((order) => order.id).join('\n')}\n`);
      } catch (error) {
        await fake.close();
        throw usageError(`fake-api: --write-ids ${flags.writeIds} could not be written: ${describeFileError(error)}`);
      }
      session.console.print(`Fake Exsited API on ${fake.url} with ${fake.orders.size} orders. Use it with:
  export EXSITED_BASE_URL=${fake.url} EXSITED_CLIENT_ID=${DEMO_CLIENT.clientId} EXSITED_CLIENT_SECRET=${DEMO_CLIENT.clientSecret} EXSITED_REDIRECT_URI=${DEMO_CLIENT.redirectUri}
${flags.writeIds ? `Its order IDs are in ${flags.writeIds}; with that export, try:\n  ${session.io.command} run --ids ${flags.writeIds} --dry-run\n` : ''}State: GET ${fake.url}/__fake/state. Stop with Ctrl-C.`);
      // Serves until SIGINT or SIGTERM.
      await new Promise<void>((resolve) => {
        const stop = () => void fake.close().then(resolve);
        process.once('SIGINT', stop).once('SIGTERM', stop);
      });
    });
}

function addDemoCommand(program: Command, session: Session): void {
  const { io } = session;
  program
    .command('demo')
    .description('run the job against a fake Exsited API with injected faults; needs no credentials or network')
    .action(async () => {
      // The demo is read by a person even when its output is piped: bare lines there, not JSON.
      session.console = new Console(session.envFormat ?? (io.stderr.isTTY ? 'pretty' : 'text'), io.stderr, io.stdout);
      const { runDemo } = await import('./demo.js');
      session.exitCode = await runDemo({ console: session.console, terminal: { stdin: io.stdin, stderr: io.stderr }, command: io.command });
    });
}
