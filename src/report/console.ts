import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import { secrets } from '../common/secrets.js';
import { terminalSafe } from '../common/text.js';

/** pino-pretty is loaded only when used. */
const loadPretty = () => createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;

export type LogFormat = 'pretty' | 'json' | 'text';
export type Level = 'info' | 'warn' | 'error';
type Stream = NodeJS.WritableStream & { isTTY?: boolean };

/** What reaches a screen: secrets scrubbed first, then every control or bidi character escaped. */
const safe = (text: string) => terminalSafe(secrets.scrub(text));

/**
 * The console: what the tool tells people, on stderr, through the secret scrubber and the terminal
 * escaper — one per process, created by the CLI, passed to whoever speaks. On a terminal it is
 * human-readable (pino-pretty); elsewhere — cron, containers, pipelines — one JSON object per line for
 * log collectors (`text`: bare lines). Results (reports, the fake API's address) go to stdout with
 * `print`. A console that cannot be written (a closed pipe) never stops a run: the audit log is the record.
 */
export class Console {
  readonly format: LogFormat;
  private logger: Logger | undefined;

  constructor(
    format?: LogFormat,
    private readonly err: Stream = process.stderr,
    private readonly out: Stream = process.stdout,
  ) {
    this.format = format ?? (err.isTTY ? 'pretty' : 'json');
  }

  /** Whether a person watches stderr: a terminal. */
  get isTerminal(): boolean {
    return !!this.err.isTTY;
  }

  say(text: string, level: Level = 'info', fields: Record<string, unknown> = {}): void {
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

  /** Raw text on stderr (the live progress line), made safe like the rest. */
  write(raw: string, ...escapes: string[]): void {
    this.guarded(() => this.err.write(`${escapes.join('')}${safe(raw)}`));
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
