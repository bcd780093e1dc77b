import { Command, CommanderError } from 'commander';
import { CleanupError, ExitCode } from './common/errors.js';
import { VERSION } from './common/version.js';
import { scrubbedSafe } from './common/text.js';
import { specOf } from './config/options.js';
import { registerSecretsOf } from './config/resolve.js';
import { addDemoCommand } from './commands/demo.js';
import { addFakeApiCommand } from './commands/fake-api.js';
import { addReportCommand } from './commands/report.js';
import { addRunCommand } from './commands/run.js';
import { addScheduleCommand } from './commands/schedule.js';
import { consoleFor, type Io, type Session } from './commands/session.js';
import type { LogFormat } from './report/console.js';

export type { Io };

/**
 * The command line: the commands (one file each, in src/commands/), and how an error becomes an exit code
 * and a sentence. A new program per call, bound to `io`, so that tests run the very same commands
 * in-process; the process's own glue (its streams, its exit) is src/cli.ts.
 */
export async function main(argv: string[], io: Io): Promise<ExitCode> {
  // The environment's credentials are known to the scrubber before anything is said: an option's value is
  // quoted when it is refused (red team: `--concurrency=<the client secret>` printed it whole).
  registerSecretsOf(io.env);
  const parsedFormat = specOf('logFormat').value.parse(io.env.EXSITED_LOG_FORMAT);
  const envFormat = 'value' in parsedFormat ? (parsedFormat.value as LogFormat | 'pretty') : undefined;
  const session: Session = { io, console: consoleFor(io, envFormat), exitCode: ExitCode.ok, envFormat };
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
      writeErr: (text) => void io.stderr.write(scrubbedSafe(text)), // commander's own words quote what was typed
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
