import { secrets } from './secrets.js';

/**
 * Characters that can move a terminal's cursor, rewrite its state (ANSI CSI and OSC sequences, OSC 52
 * writes the clipboard), reorder or hide text: C0 controls but tab and newline, DEL, C1 controls, bidi
 * marks, embeddings, overrides and isolates, zero-width characters, line and paragraph separators, BOM.
 */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * Text fit for a terminal: every unsafe character shown as its `\uXXXX` escape. Applied to JSON text it
 * keeps the JSON valid and its values exact (those characters only occur inside strings, where `\uXXXX`
 * means the same character; JSON.stringify has escaped the C0 ones already).
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escape);
}

/** What reaches a screen, a log or a page: secrets scrubbed first (an escape must not hide one), then every unsafe character escaped. */
export function scrubbedSafe(text: string): string {
  return terminalSafe(secrets.scrub(text));
}

/**
 * A value from outside (an input line, a server's text) quoted for a message: secrets scrubbed first,
 * then cut to `max` characters, then quoted and escaped — so that neither a cut secret nor an escape
 * sequence can survive.
 */
export function quoted(value: string, max = 60): string {
  const clean = secrets.scrub(value);
  return terminalSafe(JSON.stringify(clean.length > max ? `${clean.slice(0, max)}…` : clean));
}

/** Scrubbed, then cut: a server's message as it is kept and shown. */
export function cut(text: string, max: number): string {
  // On one line: a server's message with line breaks would forge lines of the console and the report (red team).
  const clean = secrets.scrub(text).replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/**
 * A free-text cell for a CSV a person may open in a spreadsheet: a leading `=`, `+`, `-`, `@`, tab or
 * carriage return would make it a formula (OWASP, "CSV injection"), so such a cell gets a leading `'`.
 * Order IDs are never passed through this: they must stay exact to be read back.
 */
export function spreadsheetSafe(cell: string): string {
  // Scrubbed first: once the CSV doubles its quotes, a secret holding `"` no longer looks like itself.
  const safe = scrubbedSafe(cell);
  return /^[=+\-@\t\r]/.test(safe) ? `'${safe}` : safe;
}

/**
 * Quotes a value for a POSIX shell, so that a printed command can be pasted as is. A value holding a newline
 * or another control character (a file name in a shared folder) is quoted as bash's $'…', each such
 * character escaped as its UTF-8 bytes in octal: on one line, never forging a line of what is printed, and
 * pasted it names the same file in any locale (bash reads `\u2028` only in a UTF-8 one: cron's is often C).
 */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(value)) return value;
  if (!/[\n\r\t]/.test(value) && terminalSafe(value) === value) return `'${value.replace(/'/g, `'\\''`)}'`;
  return `$'${value.replace(/[\\']/g, '\\$&').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t').replace(UNSAFE, octalBytes)}'`;
}

const octalBytes = (c: string) => [...Buffer.from(c)].map((byte) => `\\${byte.toString(8).padStart(3, '0')}`).join('');

/** A C0 or C1 control character (a newline, an escape, DEL). */
export const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Whether a name holds a control character (a newline, an escape): no path a person means, and no log name this tool gives. */
export const holdsControl = (text: string): boolean => CONTROL.test(text);

/** A path or a line of text on one line: a file name holding a newline never forges a line of what is printed. */
export const oneLine = (text: string): string => text.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
