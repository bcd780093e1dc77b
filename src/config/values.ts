import { MAX_TIMER_MS, parseDuration, UNIT_MS, type DurationUnit } from '../common/durations.js';
import { credentialsOf, parseHttpUrl } from '../common/http-url.js';
import { MIN_SECRET_LENGTH } from '../common/secrets.js';
import { physicalPath } from '../common/files.js';
import { holdsControl, quoted } from '../common/text.js';
import { parseShard, shardText, type Shard } from '../sources/shard.js';

/** Where an option's value came from. */
export type Layer = 'default' | 'job' | 'recorded' | 'env' | 'flag';

/**
 * How one option's value is read and checked, whichever layer gives it: a flag or an environment
 * variable (a string), a job spec (JSON: a number may stand for a count or for seconds), or a recorded
 * run (as `show` wrote it). `parse` returns the problem in words rather than throwing, so that every
 * problem of a layer can be told at once; it is told the layer, for what only some layers may hold.
 */
export interface Value<T> {
  /** The placeholder in help: `<n>`, `<time>`, …; none for a flag that takes no value. */
  placeholder?: string;
  parse(raw: unknown, layer?: Layer): { value: T } | { problem: string };
  /** The value as a flag would give it: defaults in help, printed commands. */
  show(value: T): string;
  /** The value as run.start records it (JSON that `parse` reads back); the value itself unless said. */
  record?(value: T): unknown;
  /** Merged across layers rather than overridden (allowed hosts). */
  merges?: boolean;
  choices?: readonly string[];
}

const ok = <T>(value: T) => ({ value });
const problem = (text: string) => ({ problem: text });
const got = (raw: unknown) => (typeof raw === 'string' ? quoted(raw) : JSON.stringify(raw) ?? String(raw));

export function count(min: number, max: number): Value<number> {
  return {
    placeholder: '<n>',
    parse: (raw) => {
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
      return Number.isInteger(value) && value >= min && value <= max ? ok(value) : problem(`must be a whole number from ${min} to ${max}, got ${got(raw)}`);
    },
    show: String,
  };
}

export function positive(): Value<number> {
  return {
    placeholder: '<n>',
    parse: (raw) => {
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : Number.NaN;
      return value > 0 && Number.isFinite(value) ? ok(value) : problem(`must be a number above 0, got ${got(raw)}`);
    },
    show: String,
  };
}

/**
 * A time in ms: `45m`, `1h30m`, `90s`, `500ms`; a bare number (a string, or a job's number) is in `bareUnit`.
 * `refuse` says what is wrong with it, if anything; `ms` undefined (it did not read as a time) is always wrong.
 */
function time(bareUnit: DurationUnit, refuse: (ms: number | undefined, raw: unknown) => string | undefined): Value<number> {
  return {
    placeholder: '<time>',
    parse: (raw) => {
      const ms = typeof raw === 'number' ? raw * UNIT_MS[bareUnit] : typeof raw === 'string' ? parseDuration(raw, bareUnit) : undefined;
      const wrong = refuse(ms, raw);
      return wrong === undefined ? ok(Math.round(ms as number)) : problem(wrong);
    },
    show: showDuration,
    record: showDuration,
  };
}

/** An age (`30d`, `12h`): how old a thing may get; no timer waits for it, so it is not capped at 24 days. */
export const age = (): Value<number> => time('d', (ms, raw) =>
  (ms === undefined || !(ms >= 3_600_000) ? `must be an age of an hour or more, such as 30d or 12h, got ${got(raw)}` : undefined));

/** A duration a timer waits for (`45m`, `1h30m`, `90s`, `500ms`; a bare number is seconds): at most 24 days. */
export const duration = (): Value<number> => time('s', (ms, raw) => {
  if (ms === undefined || !(ms > 0)) return `must be a duration such as 45m, 1h30m or 90s, got ${got(raw)}`;
  // Kept in whole milliseconds: 0.4ms was taken as 0, and stopped every run before it began (red team).
  if (Math.round(ms) === 0) return `must be 1ms or more, got ${got(raw)}`;
  return ms > MAX_TIMER_MS ? `must be at most 24 days (596h), got ${got(raw)}` : undefined;
});

/** How often a job is expected to run (--expect-every): a minute or more, at most a year. */
export const period = (): Value<number> => time('s', (ms, raw) =>
  (ms === undefined || !(ms >= 60_000) || ms > 366 * 86_400_000 ? `must be a period of a minute to a year, such as 24h or 1h, got ${got(raw)}` : undefined));

/** 2700000 → `45m`, 5400000 → `1h30m`, 90000 → `1m30s`, 1500 → `1500ms`. */
export function showDuration(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  let rest = ms;
  let shown = '';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      shown += `${n}${unit}`;
      rest -= n * UNIT_MS[unit];
    }
  }
  return shown || '0s';
}

export function text(placeholder: string): Value<string> {
  return {
    placeholder,
    parse: (raw) => (typeof raw === 'string' && raw.trim() !== '' ? ok(raw) : problem(`must be a non-empty text, got ${got(raw)}`)),
    show: (value) => value,
  };
}

/**
 * A file or folder path: non-empty, and without control characters (a newline, an escape), which no path a
 * person means holds, and which in messages would forge a line or steer the terminal.
 */
export function path(placeholder: string): Value<string> {
  const base = text(placeholder);
  return {
    ...base,
    parse: (raw) => {
      if (typeof raw === 'string' && holdsControl(raw)) return problem(`must be a path without control characters (a newline, an escape), got ${got(raw)}`);
      const parsed = base.parse(raw);
      // As the kernel resolves it: every check, write and record then means the same file (physicalPath).
      if (!('value' in parsed)) return parsed;
      try {
        return ok(physicalPath(parsed.value));
      } catch (error) {
        return problem(`${quoted(parsed.value)}: ${(error as Error).message}`);
      }
    },
  };
}

/** A name that goes into a URL's path as it is (a Pushgateway's job): `pattern` is anchored, `allowed` says it in words. */
export function name(pattern: RegExp, allowed: string, placeholder: string): Value<string> {
  const whole = new RegExp(`^(?:${pattern.source})$`);
  return {
    placeholder,
    parse: (raw) => (typeof raw === 'string' && whole.test(raw) ? ok(raw) : problem(`must be ${allowed}, got ${got(raw)}`)),
    show: (value) => value,
  };
}

/**
 * An http(s) URL with neither a query nor a fragment (common/http-url). `user:password@` in it never, or
 * (`credentialsFromEnv`) only from the environment — a command line is visible to every user of the machine (`ps`), a job file is shipped
 * and shared — and then with a password long enough to be told from ordinary text (common/secrets).
 * `credentialsGo` says where they go instead. Problems never echo the value: it may hold a password.
 */
export function httpUrl(placeholder: string, credentialsGo: string, credentialsFromEnv = true): Value<string> {
  return {
    placeholder,
    parse: (raw, layer) => {
      if (typeof raw !== 'string' || raw.trim() === '') return problem('must be a URL (a non-empty text)');
      const parsed = parseHttpUrl(raw);
      if ('problem' in parsed) return problem(parsed.problem);
      const { url } = parsed;
      if (url.search !== '' || url.hash !== '' || /[?#]/.test(raw)) return problem('must have no query (?…) or fragment (#…)');
      const credentials = credentialsOf(url);
      if (!credentials) return ok(raw.trim());
      if (layer !== 'env' || !credentialsFromEnv) {
        const why = layer === 'flag' ? 'a command line is visible to every user of the machine, in ps' : layer === 'env' ? 'they would end up in logs' : 'a job file is no place for secrets';
        return problem(`must not hold a user or password (${why}): ${credentialsGo}; nothing was sent`);
      }
      if (credentials.password.length < MIN_SECRET_LENGTH) {
        return problem(`holds a password shorter than ${MIN_SECRET_LENGTH} characters (or none): it could not be told from ordinary text, ` +
          'so it could not be kept out of logs; nothing was sent');
      }
      return ok(raw.trim());
    },
    show: (value) => value,
  };
}

/**
 * A text read by a parser of its own (a fault spec, a rate limit, a time zone): the parser's error is the
 * problem, without the option's name it may start with (the resolver names the option).
 */
export function parsedBy<T>(placeholder: string, parse: (text: string) => T, show: (value: T) => string = String): Value<T> {
  return {
    placeholder,
    parse: (raw) => {
      if (typeof raw !== 'string') return problem(`must be a text, got ${got(raw)}`);
      try {
        return ok(parse(raw));
      } catch (error) {
        return problem((error instanceof Error ? error.message : String(error)).replace(/^--[\w-]+:\s*/, ''));
      }
    },
    show,
  };
}

export function choice<T extends string>(choices: readonly T[], placeholder: string): Value<T> {
  return {
    placeholder,
    choices,
    parse: (raw) => (choices.includes(raw as T) ? ok(raw as T) : problem(`must be ${choices.join(' or ')}, got ${got(raw)}`)),
    show: (value) => value,
  };
}

/** A switch: present or absent on the command line, true or false in a job spec. */
export function flag(): Value<boolean> {
  return {
    parse: (raw) => (typeof raw === 'boolean' ? ok(raw) : problem(`must be true or false, got ${got(raw)}`)),
    show: String,
  };
}

/** Several values: a repeated flag, a JSON list, or a comma-separated environment variable. Merged across layers. */
export function list(placeholder: string): Value<string[]> {
  return {
    placeholder,
    merges: true,
    parse: (raw) => {
      const items = typeof raw === 'string' ? raw.split(',') : raw;
      if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) return problem(`must be a list of texts, got ${got(raw)}`);
      return ok(items.map((item) => item.trim()).filter(Boolean));
    },
    show: (values) => values.join(','),
  };
}

export function shard(): Value<Shard> {
  return {
    placeholder: '<i/n>',
    parse: (raw) => {
      try {
        return ok(parseShard(String(raw)));
      } catch {
        return problem(`must be INDEX/COUNT with 0 <= INDEX < COUNT, such as 0/4, got ${got(raw)}`);
      }
    },
    show: shardText,
    record: shardText,
  };
}
