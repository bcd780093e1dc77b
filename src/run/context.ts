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
}
