import type { StopCause } from './domain.js';
/** Exit codes are part of the CLI's contract (README.md, "Exit codes"). */
export const ExitCode = {
  ok: 0,
  someFailed: 1,
  usage: 2,
  refused: 3,
  halted: 4,
  /** The API could not be reached at all before the run started (tried for 30 s): nothing was sent; run it again later. */
  unreachable: 5,
  /** A bug in this tool (sysexits' EX_SOFTWARE): never mistaken for a resumable halt. */
  internal: 70,
  /** The terminal hung up (closed, an SSH session lost): stopped as SIGTERM stops it, resumable. */
  sighup: 129,
  sigint: 130,
  sigterm: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The signals that stop a run gracefully (a second SIGINT or SIGTERM exits at once), and the exit code each gives (128 + its number). */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];
export const signalExitCode = (signal: StopSignal): ExitCode => ({ SIGINT: ExitCode.sigint, SIGTERM: ExitCode.sigterm, SIGHUP: ExitCode.sighup })[signal];
/** Whether an exit code is a stop signal's. */
export const bySignal = (exitCode: number) => STOP_SIGNALS.some((signal) => signalExitCode(signal) === exitCode);

/** An error the user can act on: its message is printed as is, and the process exits with `exitCode`. */
export class CleanupError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** Why, in common/domain's fixed words, where the exit code alone does not say (credentials rejected: exit 3). */
    readonly stopCause?: StopCause,
  ) {
    super(message);
    this.name = 'CleanupError';
  }
}

export const usageError = (message: string) => new CleanupError(ExitCode.usage, message);
export const refusal = (message: string, cause?: StopCause) => new CleanupError(ExitCode.refused, message, cause);
