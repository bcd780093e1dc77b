import { dirname } from 'node:path';
import type { Command } from 'commander';
import { humanDuration } from '../common/durations.js';
import { CleanupError, ExitCode, signalExitCode, STOP_SIGNALS, type StopSignal } from '../common/errors.js';
import { oneLine, shellQuote } from '../common/text.js';
import { readJobSpec } from '../config/job-spec.js';
import { RUN_OPTIONS, type RunOptionKey } from '../config/options.js';
import { resolveRunOptions, type Layers, type RunOptions } from '../config/resolve.js';
import { RunControl } from '../engine/run-control.js';
import { DEFAULT_BASE_URL, displayBaseUrl } from '../exsited/host-allowlist.js';
import { personPresent } from '../guards/confirmation.js';
import { DEFAULT_AUDIT_DIR } from '../planner/recorded-run.js';
import { Console } from '../report/console.js';
import type { Night, RunContext } from '../run/context.js';
import { addOptions } from './flags.js';
import type { Session } from './session.js';

const HELP = `
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
written); 5 the API unreachable (tried for 30 s), nothing sent: run it again later; 70 a bug in this
tool; 130/143/129 interrupted by Ctrl-C/SIGTERM/SIGHUP (the terminal closed), resumable.`;

/** `run`: flags, a job spec and the environment resolved into options, then the run (after this job's own unfinished one, with --auto-resume). */
export function addRunCommand(program: Command, session: Session): void {
  const run = program
    .command('run')
    .description('delete the orders listed in --ids or selected by --filter (or continue a run with --resume)')
    .showHelpAfterError("See 'exsited-order-cleanup run --help'.");
  addOptions(run, RUN_OPTIONS).addHelpText('after', HELP);
  run.action(async (flags: Partial<Record<RunOptionKey, unknown>>) => {
    const { io } = session;
    const job = typeof flags.job === 'string' ? await readJobSpec(flags.job) : undefined;
    const layers: Layers = { flags, job: job && { path: job.path, options: job.options }, env: io.env };
    const options = resolveRunOptions(layers);
    // A person asked on /dev/tty (IDs piped in) reads this console too, even with stderr piped: plain sentences, not JSON.
    const console = (session.console = new Console(options.logFormat, io.stderr, io.stdout, personPresent(io, options.ids === '-'), io.env));
    const control = new RunControl(options.graceMs);
    if (options.maxDuration !== undefined) control.setDeadline(options.maxDuration);
    const stopHandling = handleSignals(control, console, io.signals ?? process);
    try {
      // Each command loads what it uses: axios alone costs ~150 ms of start-up, the log schemas ~90 ms.
      const { runCleanup } = await import('../run/run.js');
      const context: RunContext = { control, console, terminal: { stdin: io.stdin, stderr: io.stderr }, command: io.command };
      const unfinished = options.autoResume ? await findOwnUnfinishedRun(options, session) : undefined;
      if (unfinished) {
        // One night, one story: the new run's page, summary files and metrics tell the continued run's work too.
        const night: Night = { logs: [] };
        Object.assign(context, { night });
        const code = await continueFirst(unfinished, () => runCleanup(resolveRunOptions(layers, { continuing: unfinished }), context), console);
        if (code !== undefined && code !== ExitCode.ok && code !== ExitCode.someFailed) {
          session.exitCode = code;
          return;
        }
        // A signal while the continued run made its reports: this process was told to stop; the new run is not started.
        if (control.reason?.kind === 'signal') {
          console.say(`${control.reason.signal}: the new run is not started; the next one will do its work.`, 'warn');
          session.exitCode = code ?? signalExitCode(control.reason.signal);
          return;
        }
      }
      const told = context.night?.logs.length ?? 0;
      const code = await runCleanup(options, context);
      // A night whose new run was recorded ends as its story does (run-story's nightEnd): the continued run's failures are not lost.
      session.exitCode = context.night && context.night.logs.length > told ? (context.night.exitCode as ExitCode) : code;
      // Retention last, once the night's story is told from its logs; not when this process was told to stop.
      if (options.keepFor !== undefined && options.auditDir && control.reason?.kind !== 'signal') {
        const { pruneFinishedLogs } = await import('../run/retention.js');
        await pruneFinishedLogs(options.auditDir, options.keepFor, context.night?.logs ?? [], console);
      }
      // The folder's history last, as it stands after retention (its page links each run to the page that tells it).
      // A signal, before or while the folder is read, leaves the page for later (said, with the command that makes it).
      if (options.historyHtml) {
        const { writeFolderHistory } = await import('./report.js');
        const signals = io.signals ?? process;
        const stop = new AbortController();
        const onSignal = () => stop.abort(new Error('a signal'));
        if (control.reason?.kind === 'signal') onSignal();
        for (const signal of STOP_SIGNALS) signals.on(signal, onSignal);
        try {
          await writeFolderHistory(options.auditDir ?? (options.auditLog ? dirname(options.auditLog) : DEFAULT_AUDIT_DIR), options, session, stop.signal);
        } finally {
          for (const signal of STOP_SIGNALS) signals.off(signal, onSignal);
        }
      }
    } finally {
      stopHandling();
    }
  });
}

/**
 * --auto-resume's first step: this job's unfinished run, continued through the same resolver and checks as
 * any run. One that can no longer be continued as recorded (its input file replaced since, a check a person
 * must settle) is left for a person, said plainly, and the new run goes on: a nightly job never stops
 * working because of one night's leftovers. Undefined when it was left.
 */
async function continueFirst(auditLog: string, resume: () => Promise<ExitCode>, console: Console): Promise<ExitCode | undefined> {
  console.say(`Resuming this job's unfinished run in ${auditLog} first.`);
  try {
    return await resume();
  } catch (error) {
    if (!(error instanceof CleanupError) || error.exitCode !== ExitCode.usage) throw error;
    console.say(`The unfinished run in ${auditLog} cannot be continued as it was recorded (${error.message.replace(/^--resume: /, '')}); ` +
      'it is left for a person, and this run goes on.', 'warn');
    return undefined;
  }
}

/**
 * SIGINT, SIGTERM and SIGHUP (the terminal closed, an SSH session lost: by default it killed the run, its
 * requests in flight unrecorded): the first stops the run gracefully (in flight may finish within the grace period);
 * the second exits at once. Once run.end is written its exit code is the process's: a signal then cuts the
 * reports short, it does not change the story. Returns what removes the handlers.
 */
function handleSignals(control: RunControl, console: Console, source: NodeJS.EventEmitter): () => void {
  let signals = 0;
  const onSignal = (signal: StopSignal) => {
    // A terminal closed hangs up twice (its shell passes the hang-up on to its jobs, the kernel sends its own):
    // a SIGHUP never makes a stop abrupt (red team: the second one exited at once, in-flight deletions unrecorded).
    if (signal === 'SIGHUP' && signals > 0) return;
    const ended = control.endedWith;
    console.stopLive(); // the progress line goes first: what follows is said on a clean row
    if (++signals > 1) {
      console.say(ended !== undefined
        ? `${signal} again: exiting with the run's own exit code (${ended}) once its summary files are written (a second at most); the reports not made yet can be made from its audit log.`
        : `${signal} again: exiting at once; the audit log holds every order finished so far.`);
      if (ended === undefined) process.exit(signalExitCode(signal));
      // The summary JSON is what a pipeline reads next: written whole, or not at all (a temporary file and rename).
      void Promise.race([control.summaryWritten, new Promise((resolve) => setTimeout(resolve, 1000).unref())]).then(() => process.exit(control.endedWith ?? ended));
      return;
    }
    if (ended !== undefined) {
      console.say(`${signal}: the run has ended (exit ${ended}); finishing its reports (a few seconds at most; ${again(signal)}).`);
      control.stop({ kind: 'signal', signal }); // and nothing new starts (--auto-resume's new run)
      return;
    }
    // Before deletion began (reading input, listing, at the question) there is nothing in flight to speak of.
    if (control.deleting) {
      console.say(`${signal}: no new orders will be started; requests in flight have ${humanDuration(control.graceMs)} to finish (${again(signal)}).`);
    }
    control.stop({ kind: 'signal', signal });
  };
  for (const signal of STOP_SIGNALS) source.on(signal, onSignal);
  return () => {
    for (const signal of STOP_SIGNALS) source.off(signal, onSignal);
  };
}

/** How to make a stop abrupt: the same signal again, except a hang-up (a closed terminal sends two). */
const again = (signal: StopSignal) => (signal === 'SIGHUP' ? 'SIGINT or SIGTERM exits at once' : 'send it again to exit at once');

/**
 * --auto-resume: this job's own unfinished run in --audit-dir, if there is one to continue; every other
 * unfinished run there (a person's, another job's, one a person interrupted) is named with the command
 * that continues it, and left for a person.
 */
async function findOwnUnfinishedRun(options: RunOptions, session: Session): Promise<string | undefined> {
  const [{ autoResumeFinding }, { newerVersion }, { identityOf, jobIdentity }] = await Promise.all([import('../audit/latest-log.js'), import('../audit/records.js'), import('../planner/job-identity.js')]);
  let host: string;
  try {
    host = displayBaseUrl(new URL(options.baseUrl ?? DEFAULT_BASE_URL));
  } catch {
    return undefined; // the run itself says what is wrong with the URL
  }
  const finding = await autoResumeFinding(options.auditDir as string, jobIdentity(identityOf(options), host, false).id);
  const SHOWN = 5;
  for (const { entry, why } of finding.leftAlone.slice(0, SHOWN)) {
    session.console.say(entry.start
      ? `${oneLine(entry.path)} holds an unfinished run that --auto-resume leaves alone: ${why}. To continue it: ${session.io.command} run --resume --audit-log ${shellQuote(entry.path)}`
      : `${oneLine(entry.path)} is left alone by --auto-resume: ${entry.newer !== undefined ? newerVersion(entry.newer) : 'it holds no run this tool can read (not a log of this tool, or a damaged one)'}`, 'warn');
  }
  if (finding.leftAlone.length > SHOWN) session.console.say(`… and ${finding.leftAlone.length - SHOWN} more unfinished runs in ${options.auditDir}`, 'warn');
  return finding.resume?.path;
}
