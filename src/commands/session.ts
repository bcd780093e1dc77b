import type { ExitCode } from '../common/errors.js';
import type { LogFormat } from '../report/console.js';
import { Console } from '../report/console.js';

/** Where a command reads and writes: the process's own streams and environment, or a test's. */
export interface Io {
  /** How the person started this tool (e.g. `npx exsited-order-cleanup`): the commands it prints start the same way. */
  command: string;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Where `run` and `fake-api` hear SIGINT and SIGTERM: the process unless given (a test stops an in-process run it left behind). */
  signals?: NodeJS.EventEmitter;
}

/** What the commands share while one command line runs. */
export interface Session {
  io: Io;
  console: Console;
  exitCode: ExitCode;
  /** EXSITED_LOG_FORMAT when it is valid (the resolver reports it otherwise): the format before `run` resolves its own. */
  envFormat: LogFormat | 'pretty' | undefined;
}

/** A console on the session's streams, in `format` (or the default for where stderr goes). */
export const consoleFor = (io: Io, format?: LogFormat | 'pretty') => new Console(format, io.stderr, io.stdout, !!io.stdin.isTTY, io.env);
