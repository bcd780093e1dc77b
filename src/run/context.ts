import type { RunControl } from '../engine/run-control.js';
import type { Terminal } from '../guards/confirmation.js';
import type { Console } from '../report/console.js';

export type { Terminal };

/** What a run needs from the command line around it. */
export interface RunContext {
  control: RunControl;
  console: Console;
  terminal: Terminal;
  /** How the person started this tool (`exsited-order-cleanup`, `npx exsited-order-cleanup`, `node dist/cli.js`): printed commands say the same. */
  command: string;
  /**
   * An --auto-resume night: the logs of the runs this process made so far, and how the first ended. The new
   * run's page, summary files and metrics tell them all (report/run-story), never only the last.
   */
  night?: Night;
}

export interface Night {
  logs: string[];
  /** The story of the runs made so far, and the exit code of the last of them. */
  story?: import('../report/run-report.js').RunReport;
  exitCode?: number;
}
