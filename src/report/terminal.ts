import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import { secrets } from '../common/secrets.js';

/** pino-pretty is loaded only on a terminal. */
const loadPretty = () => createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;

type Level = 'info' | 'warn' | 'error';
let logger: Logger | undefined;

/**
 * The console: what the tool tells people, on stderr, through the secret scrubber. On a terminal it is
 * human-readable (pino-pretty); elsewhere — cron, containers, pipelines — one JSON object per line for
 * log collectors. EXSITED_LOG_FORMAT=pretty|json|text chooses (text: bare lines). The audit log is
 * always JSON, and a file of its own.
 */
export function say(text: string, level: Level = 'info', fields: Record<string, unknown> = {}): void {
  const format = process.env.EXSITED_LOG_FORMAT ?? (process.stderr.isTTY ? 'pretty' : 'json');
  if (format === 'text') {
    process.stderr.write(`${secrets.scrub(text)}\n`);
    return;
  }
  logger ??= pino(
    {
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: { streamWrite: (line) => secrets.scrub(line) },
    },
    format === 'pretty'
      ? loadPretty()({ destination: 2, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' })
      : pino.destination({ fd: 2, sync: true }),
  );
  // People read the message; the fields are for log collectors.
  if (format === 'pretty') logger[level](text);
  else logger[level](fields, text);
}

/** Output that is the command's result (reports, the fake API's address), plain on stdout. */
export function print(text: string): void {
  process.stdout.write(`${secrets.scrub(text)}\n`);
}

/** Quotes a value for a POSIX shell, so that a printed command can be pasted as is. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
