import pino, { type Logger } from 'pino';
import { scrubbedSafe } from '../common/text.js';

/**
 * `human`: plain sentences, warnings and errors in colour (a terminal's, and a person's with stderr piped);
 * `text`: a line each with its time and level (`12:44:21 WARN  …`), for a file or `kubectl logs`;
 * `json`: one object per line, for log collectors (the default off a terminal).
 */
export type LogFormat = 'human' | 'text' | 'json';
export type Level = 'info' | 'warn' | 'error';
type Stream = NodeJS.WritableStream & { isTTY?: boolean };

/**
 * Whether to colour (no-color.org, and the FORCE_COLOR most tools honour): FORCE_COLOR set to anything but
 * `0` or `false` colours; NO_COLOR set and not empty does not; otherwise a terminal that is not `dumb` does.
 */
function colourWanted(env: NodeJS.ProcessEnv, stream: { isTTY?: boolean }): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env.NO_COLOR) return false;
  return !!stream.isTTY && env.TERM !== 'dumb';
}

const SGR = { warn: '\u001b[33m', error: '\u001b[31m', bold: '\u001b[1m', reset: '\u001b[0m' } as const;

/**
 * The console: what the tool tells people, on stderr, through the secret scrubber and the terminal
 * escaper — one per process, created by the CLI, passed to whoever speaks. On a terminal, and piped while
 * a person is at the keyboard, plain sentences (`human`), warnings and errors in colour where colour is
 * wanted; elsewhere — cron, containers, pipelines — one JSON object per line for log collectors. Results (reports, the fake API's address) go to stdout with
 * `print`. A console that cannot be written (a closed pipe) never stops a run: the audit log is the record.
 */
export class Console {
  readonly format: LogFormat;
  /** Whether warnings, errors and the prompt are coloured (colourWanted). */
  readonly colour: boolean;
  private readonly drawsLines: boolean;
  private logger: Logger | undefined;
  /** The live line (progress) at the bottom of a terminal, redrawn under anything else said. */
  private liveLine: string | undefined;
  private liveStopped = false;

  constructor(
    format?: LogFormat | 'pretty',
    private readonly err: Stream = process.stderr,
    private readonly out: Stream = process.stdout,
    /** Whether a person is at the keyboard (stdin is a terminal): with stderr piped (`2>&1 | tee`), they still read it. */
    personPresent = false,
    env: NodeJS.ProcessEnv = {},
  ) {
    this.format = format === 'pretty' ? 'text' : (format ?? (err.isTTY || personPresent ? 'human' : 'json'));
    this.colour = colourWanted(env, err);
    this.drawsLines = !!err.isTTY && env.TERM !== 'dumb';
  }

  /** `text` in bold, where colour is wanted: the question a person must answer. */
  emphasis(text: string): string {
    return this.colour ? `${SGR.bold}${text}${SGR.reset}` : text;
  }

  /** Whether stderr is a terminal that can redraw a line (not TERM=dumb): the progress line lives there; elsewhere, progress lines. */
  get isTerminal(): boolean {
    return this.drawsLines;
  }

  /** The terminal's width, for lines that must fit on one row. */
  get columns(): number {
    return (this.err as { columns?: number }).columns || 80;
  }

  say(text: string, level: Level = 'info', fields: Record<string, unknown> = {}): void {
    this.guarded(() => {
      const live = this.liveLine;
      if (live !== undefined) this.clearLive();
      this.sayNow(text, level, fields);
      if (live !== undefined) this.live(live);
    });
  }

  /**
   * Draws the live line: one row at the bottom of a terminal, cut to its width (a longer one would wrap
   * and leave a trail when redrawn) less three columns, where the `^C` a terminal echoes still fits (at the
   * last column it wrapped to a row of its own, and clearing that row left the live line above). Only on a terminal.
   */
  live(text: string): void {
    if (!this.isTerminal || this.liveStopped) return;
    const fitted = [...scrubbedSafe(text)].slice(0, Math.max(1, this.columns - 3)).join('');
    this.liveLine = fitted;
    this.guarded(() => this.err.write(`\r${fitted}\u001b[K`));
  }

  /** Clears the live line for good (Ctrl-C: the run is stopping), and the `^C` the terminal echoed on its row. */
  stopLive(): void {
    this.liveStopped = true;
    if (this.liveLine !== undefined && this.isTerminal) this.guarded(() => this.err.write('\r\u001b[K'));
    this.liveLine = undefined;
  }

  /** Clears the live line, leaving the cursor at the start of an empty row. */
  clearLive(): void {
    if (this.liveLine === undefined) return;
    this.liveLine = undefined;
    this.guarded(() => this.err.write('\r\u001b[K'));
  }

  private sayNow(text: string, level: Level, fields: Record<string, unknown>): void {
    this.guarded(() => {
      const said = scrubbedSafe(text);
      if (this.format === 'human') {
        this.err.write(level !== 'info' && this.colour ? `${SGR[level]}${said}${SGR.reset}\n` : `${said}\n`);
      } else if (this.format === 'text') {
        const time = new Date().toTimeString().slice(0, 8);
        const label = level.toUpperCase().padEnd(5);
        this.err.write(`${time} ${level !== 'info' && this.colour ? `${SGR[level]}${label}${SGR.reset}` : label} ${said}\n`);
      } else {
        // People read the message; the fields are for log collectors.
        (this.logger ??= this.createLogger())[level](fields, said);
      }
    });
  }

  print(text: string): void {
    this.guarded(() => this.out.write(`${scrubbedSafe(text)}\n`));
  }

  private createLogger(): Logger {
    const destination = { write: (line: string) => void this.err.write(line) };
    return pino({ base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) }, hooks: { streamWrite: scrubbedSafe } }, destination);
  }

  private guarded(write: () => void): void {
    try {
      write();
    } catch {
      // the stream is gone (EPIPE): nobody is reading
    }
  }
}
