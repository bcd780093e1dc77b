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
  sigint: 130,
  sigterm: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

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
