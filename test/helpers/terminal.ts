import { spawn } from 'node:child_process';
import { CLI } from './cli.js';
import { endAfter } from './teardown.js';

export interface TerminalSession {
  /** Everything the terminal showed so far, escapes and all. */
  screen(): string;
  /** Resolves once the screen shows text matching `pattern`. */
  shows(pattern: RegExp): Promise<void>;
  /** Types on the keyboard (`\x03` is Ctrl-C). */
  type(keys: string): void;
  /** Closes the terminal (its window, an SSH session lost): the kernel hangs up on what runs there (SIGHUP). */
  hangUp(): void;
  done: Promise<{ code: number | null; screen: string }>;
}

/**
 * A shell command line run at a pseudo-terminal of `columns` columns, as a person at a real terminal
 * runs it: `script(1)` gives it the terminal, `stty` its size. `cli` in the line stands for the built CLI.
 */
export function atTerminal(line: string, options: { env?: NodeJS.ProcessEnv; cwd?: string; columns?: number } = {}): TerminalSession {
  const command = `stty cols ${options.columns ?? 80} rows 24; ${line.replaceAll('cli ', `${process.execPath} ${CLI} `)}`;
  const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: options.cwd, env: { PATH: process.env.PATH, TERM: 'xterm', ...options.env } });
  child.on('exit', endAfter('test', () => child.kill('SIGKILL')));
  let screen = '';
  const watchers: Array<{ pattern: RegExp; resolve: () => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString();
    for (const watcher of watchers.filter((w) => w.pattern.test(screen))) {
      watchers.splice(watchers.indexOf(watcher), 1);
      watcher.resolve();
    }
  });
  return {
    screen: () => screen,
    shows: (pattern) => new Promise((resolve) => (pattern.test(screen) ? resolve() : watchers.push({ pattern, resolve }))),
    type: (keys) => child.stdin.write(keys),
    hangUp: () => child.kill('SIGKILL'),
    done: new Promise((resolve) => child.on('close', (code) => resolve({ code, screen }))),
  };
}

/** The rows a person sees at the end: each line as redrawn by carriage returns, without the erase escapes. */
export function visibleRows(screen: string): string[] {
  return screen.split(/\r?\n/).map((row) => (row.split('\r').at(-1) ?? '').replace(/\u001b\[[0-9;]*[A-Za-z]/g, ''));
}

/**
 * The rows a terminal of `columns` columns shows at the end, as xterm draws the stream: a character written
 * in the last column leaves the cursor there, and the next one wraps to a new row (so a line as wide as
 * the terminal, followed by the `^C` the terminal echoes, takes two rows). `\r` goes to the row's start,
 * `\n` to the next row, ESC [ K clears to the row's end, ESC [ nA moves up n rows; other escapes draw nothing.
 */
export function screenRows(screen: string, columns = 80): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let column = 0;
  let wrapPending = false;
  for (let i = 0; i < screen.length; i++) {
    const c = screen[i] as string;
    if (c === '\u001b') {
      const escape = /^\u001b\[(\d*)([A-Za-z])/.exec(screen.slice(i, i + 12));
      if (escape?.[2] === 'K') rows[row]!.length = Math.min(rows[row]!.length, column);
      if (escape?.[2] === 'A') row = Math.max(0, row - Number(escape[1] || 1));
      i += (escape?.[0].length ?? 1) - 1;
      wrapPending = false;
    } else if (c === '\r') {
      column = 0;
      wrapPending = false;
    } else if (c === '\n') {
      row++;
      rows[row] ??= [];
      column = 0;
      wrapPending = false;
    } else {
      if (wrapPending) {
        row++;
        rows[row] ??= [];
        column = 0;
        wrapPending = false;
      }
      rows[row]![column] = c;
      if (column === columns - 1) wrapPending = true;
      else column++;
    }
  }
  return rows.map((cells) => Array.from(cells, (cell) => cell ?? ' ').join(''));
}
