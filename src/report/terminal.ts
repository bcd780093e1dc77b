import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import { secrets } from '../common/secrets.js';
import { terminalSafe } from '../common/text.js';

/** pino-pretty is loaded only on a terminal. */
const loadPretty = () => createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;

type Level = 'info' | 'warn' | 'error';
let logger: Logger | undefined;

/** What reaches a screen: secrets scrubbed first, then every control or bidi character escaped. */
const safe = (text: string) => terminalSafe(secrets.scrub(text));

/**
 * The console: what the tool tells people, on stderr, through the secret scrubber and the terminal
 * escaper. On a terminal it is human-readable (pino-pretty); elsewhere — cron, containers, pipelines —
 * one JSON object per line for log collectors. EXSITED_LOG_FORMAT=pretty|json|text chooses (text: bare
 * lines). The audit log is always JSON, and a file of its own. A console that cannot be written (a closed
 * pipe) never stops a run: the audit log is the record.
 */
export function say(text: string, level: Level = 'info', fields: Record<string, unknown> = {}): void {
  const format = process.env.EXSITED_LOG_FORMAT ?? (process.stderr.isTTY ? 'pretty' : 'json');
  try {
    if (format === 'text') {
      process.stderr.write(`${safe(text)}\n`);
      return;
    }
    logger ??= pino(
      {
        base: undefined,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        hooks: { streamWrite: safe },
      },
      format === 'pretty'
        ? loadPretty()({ destination: 2, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' })
        : pino.destination({ fd: 2, sync: true }),
    );
    // People read the message; the fields are for log collectors.
    if (format === 'pretty') logger[level](safe(text));
    else logger[level](fields, safe(text));
  } catch {
    // stderr is gone (EPIPE): nobody is reading
  }
}

/** Output that is the command's result (reports, the fake API's address), plain on stdout. */
export function print(text: string): void {
  try {
    process.stdout.write(`${safe(text)}\n`);
  } catch {
    // stdout is gone (EPIPE)
  }
}

/** Quotes a value for a POSIX shell, so that a printed command can be pasted as is. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
