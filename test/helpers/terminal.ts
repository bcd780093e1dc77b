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
