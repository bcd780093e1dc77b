import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import { secrets } from '../common/secrets.js';
import { terminalSafe } from '../common/text.js';

/** pino-pretty is loaded only when used. */
const require = createRequire(import.meta.url);
const loadPretty = () => require('pino-pretty') as typeof PinoPretty;

export type LogFormat = 'pretty' | 'json' | 'text';
export type Level = 'info' | 'warn' | 'error';
type Stream = NodeJS.WritableStream & { isTTY?: boolean };

/** What reaches a screen: secrets scrubbed first, then every control or bidi character escaped. */
const safe = (text: string) => terminalSafe(secrets.scrub(text));

/**
 * The console: what the tool tells people, on stderr, through the secret scrubber and the terminal
 * escaper — one per process, created by the CLI, passed to whoever speaks. On a terminal it is
 * human-readable (pino-pretty); piped while a person is at the keyboard, bare lines; elsewhere — cron,
 * containers, pipelines — one JSON object per line for log collectors. Results (reports, the fake API's address) go to stdout with
 * `print`. A console that cannot be written (a closed pipe) never stops a run: the audit log is the record.
 */
export class Console {
  readonly format: LogFormat;
  private logger: Logger | undefined;
  /** The live line (progress) at the bottom of a terminal, redrawn under anything else said. */
  private liveLine: string | undefined;

  constructor(
    format?: LogFormat,
    private readonly err: Stream = process.stderr,
    private readonly out: Stream = process.stdout,
    /** Whether a person is at the keyboard (stdin is a terminal): with stderr piped (`2>&1 | tee`), they still read it. */
    personPresent = false,
  ) {
    this.format = format ?? (err.isTTY ? 'pretty' : personPresent ? 'text' : 'json');
  }

  /** Whether a person watches stderr: a terminal. */
  get isTerminal(): boolean {
    return !!this.err.isTTY;
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
   * and leave a trail when redrawn). Only on a terminal.
   */
  live(text: string): void {
    if (!this.isTerminal) return;
    const fitted = [...safe(text)].slice(0, Math.max(1, this.columns - 1)).join('');
    this.liveLine = fitted;
    this.guarded(() => this.err.write(`\r${fitted}\u001b[K`));
  }

  /** Clears the live line, leaving the cursor at the start of an empty row. */
  clearLive(): void {
    if (this.liveLine === undefined) return;
    this.liveLine = undefined;
    this.guarded(() => this.err.write('\r\u001b[K'));
  }

  private sayNow(text: string, level: Level, fields: Record<string, unknown>): void {
    this.guarded(() => {
      if (this.format === 'text') {
        this.err.write(`${safe(text)}\n`);
        return;
      }
      const logger = this.logger ??= this.createLogger();
      // People read the message; the fields are for log collectors.
      if (this.format === 'pretty') logger[level](safe(text));
      else logger[level](fields, safe(text));
    });
  }

  print(text: string): void {
    this.guarded(() => this.out.write(`${safe(text)}\n`));
  }

  private createLogger(): Logger {
    const destination = { write: (line: string) => void this.err.write(line) };
    return pino(
      {
        base: undefined,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        hooks: { streamWrite: safe },
      },
      this.format === 'pretty'
        ? loadPretty()({ destination: this.err as never, sync: true, colorize: !!this.err.isTTY, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' })
        : destination,
    );
  }

  private guarded(write: () => void): void {
    try {
      write();
    } catch {
      // the stream is gone (EPIPE): nobody is reading
    }
  }
}
