import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ExitCode, signalExitCode, STOP_SIGNALS, type StopSignal, usageError } from '../common/errors.js';
import { resolveFlags, SCHEDULE_OPTIONS } from '../config/command-options.js';
import { readJobSpec } from '../config/job-spec.js';
import { resolveRunOptions } from '../config/resolve.js';
import type { Console } from '../report/console.js';
import { addOptions } from './flags.js';
import type { Session } from './session.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

/** `schedule`: the job spec on a cron schedule, each run a child process of its own. */
export function addScheduleCommand(program: Command, session: Session): void {
  const command = program
    .command('schedule')
    .description('run a job on a cron schedule, never two at once (for a plain Docker host; Kubernetes and cron start `run` themselves)')
    .argument('<cron>', 'when to run, as a cron expression (5 fields, or 6 with seconds first), e.g. "30 2 * * *"')
    .showHelpAfterError("See 'exsited-order-cleanup schedule --help'.");
  addOptions(command, SCHEDULE_OPTIONS).action(async (cron: string, given: Record<string, unknown>) => {
    const flags = resolveFlags('schedule', SCHEDULE_OPTIONS, given);
    const job = flags.job as string; // commander refuses the command line without it
    const spec = await readJobSpec(job); // refuse a broken job now, not at the first turn
    // What every turn would refuse, refused now, resolved as a turn resolves it (flags, spec, environment): a path
    // holding a credential, missing credentials, options that do not combine (red team: stuck every night).
    const check = () => void resolveRunOptions({ flags: { job }, job: { path: spec.path, options: spec.options }, env: session.io.env });
    session.exitCode = await runSchedule({ cron, runArgs: ['--job', job], timezone: flags.timezone, check }, session.console);
  });
}

interface ScheduleOptions {
  cron: string;
  /** The arguments of each `run`, e.g. ['--job', 'jobs/nightly-cleanup.json']. */
  runArgs: string[];
  timezone?: string;
  /** Refuses, once the expression is known good, what every turn would refuse. */
  check: () => void;
}

/**
 * `schedule`: the job on a cron schedule, for a plain Docker host (Kubernetes and host cron start the
 * one-shot `run` themselves). Each run is a child process of its own — its own memory, lock, log and
 * exit code — and never two at once: a run still going when the next is due makes the scheduler skip
 * that turn (and say so). SIGTERM, SIGINT or SIGHUP stops the schedule, passes the signal to a run in
 * progress (which drains and records `interrupted`, for the next turn to resume with --auto-resume), waits
 * for it, and exits: 143/130/129 when a run was interrupted, 0 when none was going.
 */
async function runSchedule(options: ScheduleOptions, console: Console): Promise<ExitCode> {
  const { Cron } = await import('croner');
  const say = (text: string) => console.say(text);
  let current: ChildProcess | undefined;
  let stopping: StopSignal | undefined;
  return new Promise((resolve) => {
    const turn = async () => {
      if (stopping) return;
      say(`schedule: starting exsited-order-cleanup run ${options.runArgs.join(' ')}`);
      const exit = await new Promise<number | null>((done) => {
        // In a process group of its own: a signal a terminal sends to its whole group (Ctrl-C, the hang-up of a
        // closed terminal) reaches the run once, passed on below — twice, the second would stop it at once.
        current = spawn(process.execPath, [CLI, 'run', ...options.runArgs], { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
        current.on('exit', (code) => done(code));
      });
      current = undefined;
      if (stopping) resolve(signalExitCode(stopping));
      else say(`schedule: the run exited ${exit}. Next run: ${next()}`);
    };
    let cron: InstanceType<typeof Cron>;
    try {
      cron = new Cron(options.cron, {
        timezone: options.timezone,
        protect: () => say(`schedule: a run is due but the last one is still going; skipped this turn. Next: ${next()}`),
      }, turn);
    } catch (error) {
      throw usageError(`schedule: ${JSON.stringify(options.cron)} is not a cron expression: ${(error as Error).message}`);
    }
    try {
      options.check();
    } catch (error) {
      cron.stop();
      throw error;
    }
    const next = () => cron.nextRun()?.toISOString() ?? 'never';
    say(`schedule: ${JSON.stringify(options.cron)}${options.timezone ? ` (${options.timezone})` : ''}; next run: ${next()}. Stop with SIGTERM.`);
    const onSignal = (signal: StopSignal) => {
      if (stopping) return;
      stopping = signal;
      cron.stop();
      if (!current) {
        say(`schedule: ${signal}: no run in progress; stopped.`);
        resolve(ExitCode.ok);
        return;
      }
      say(`schedule: ${signal}: passing it to the run in progress and waiting for it to drain.`);
      current.kill(signal);
    };
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  });
}
