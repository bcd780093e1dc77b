import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { AuditJournal } from '../src/audit/journal.js';
import { shellQuote, terminalSafe } from '../src/common/text.js';
import { execFileSync } from 'node:child_process';
import { Console } from '../src/report/console.js';
import { readAudit, workDir } from './helpers/cli.js';
import { runEndFields } from './helpers/records.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Every character terminalSafe must escape, class by class, as text.ts lists them. */
const UNSAFE_CLASSES: Array<[string, number[]]> = [
  ['C0 controls but tab and newline', [...range(0x00, 0x08), ...range(0x0b, 0x1f)]],
  ['DEL', [0x7f]],
  ['C1 controls', range(0x80, 0x9f)],
  ['the Arabic letter mark', [0x061c]],
  ['the Mongolian vowel separator', [0x180e]],
  ['zero-width characters and the LRM, RLM marks', range(0x200b, 0x200f)],
  ['line and paragraph separators, bidi embeddings and overrides (LRE, RLE, PDF, LRO, RLO)', range(0x2028, 0x202e)],
  ['word joiner, invisible operators and bidi isolates', range(0x2060, 0x2069)],
  ['the byte order mark', [0xfeff]],
];
const UNSAFE = UNSAFE_CLASSES.flatMap(([, codes]) => codes);
/** The neighbours of those ranges, and the two controls a line may hold: shown as they are. */
const KEPT = [0x09, 0x0a, 0x20, 0x7e, 0xa0, 0x061b, 0x061d, 0x180d, 0x180f, 0x200a, 0x2010, 0x2027, 0x202f, 0x205f, 0xfefe, 0xff01];

const char = (code: number) => String.fromCharCode(code);
const escaped = (code: number) => `\\u${code.toString(16).padStart(4, '0')}`;
const hex = (code: number) => `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
/** Every unsafe character, each between two letters: `a<U+0000>b a<U+0001>b …`. */
const hostile = UNSAFE.map((code) => `a${char(code)}b`).join(' ');
const rawUnsafe = (text: string) => [...text].filter((c) => UNSAFE.includes(c.charCodeAt(0)) && c !== '\n').map((c) => hex(c.charCodeAt(0)));

class Captured {
  text = '';
  isTTY = false;
  write(chunk: string | Uint8Array): boolean {
    this.text += chunk.toString();
    return true;
  }
}

describe('terminalSafe', () => {
  test.each(UNSAFE_CLASSES)('escapes each character of %s', (_name, codes) => {
    for (const code of codes) expect([hex(code), terminalSafe(`x${char(code)}y`)]).toEqual([hex(code), `x${escaped(code)}y`]);
  });

  test('keeps tab, newline and the printable neighbours of those ranges as they are', () => {
    const text = KEPT.map(char).join('');
    expect(terminalSafe(text)).toBe(text);
  });
});

describe('every unsafe character, on its way to a terminal', () => {
  test.each(['human', 'text', 'json'] as const)('the console (%s) shows each as its escape, none raw', (format) => {
    const err = new Captured();
    new Console(format, err as never, new Captured() as never).say(`refused: ${hostile}`, 'warn');

    expect(rawUnsafe(err.text)).toEqual([]);
    const shown: string = format === 'json' ? JSON.parse(err.text).msg : err.text;
    for (const code of UNSAFE) expect(shown).toContain(`a${escaped(code)}b`);
  });

  test('the audit journal keeps each as a JSON escape: no raw character in the file, the value exact', () => {
    const path = `${workDir()}/a.ndjson`;
    const journal = new AuditJournal(path, 'r1', () => undefined);
    journal.order({ orderId: 'ORD-1', outcome: 'failed', httpStatus: 409, attempts: 1, durationMs: 1, error: { code: 'HTTP_409', message: hostile } });
    journal.end(runEndFields());

    expect(rawUnsafe(readFileSync(path, 'utf8'))).toEqual([]);
    expect(readAudit(path).find((line) => line.event === 'order')?.error.message).toBe(hostile);
  });
});

describe('shellQuote', () => {
  test('a value with a newline or another control character is quoted as $\'…\' on one line, and bash reads it back as it was, in any locale (red team: \\u2028 only in UTF-8)', () => {
    const values = ['runs/a.ndjson', "it's here", 'a b', 'x\nFORGED 03:00 INFO  done', 'tab\there', 'cr\rhere', 'esc\u001b[31mred', "both ' and \\ and \n", 'bidi\u202eevil', 'line\u2028sep'];
    for (const value of values) {
      const quoted = shellQuote(value);
      expect(terminalSafe(quoted)).toBe(quoted); // nothing left for the terminal to act on
      expect(quoted).not.toMatch(/[\n\r]/);
    }
    // One bash per locale reads them all back, each after a NUL (20 shells took a second of a busy machine).
    const script = values.map((value) => `printf '\\0%s' ${shellQuote(value)}`).join('; ');
    for (const LC_ALL of ['C', 'C.UTF-8']) expect(execFileSync('bash', ['-c', script], { encoding: 'utf8', env: { LC_ALL } }).split('\0').slice(1)).toEqual(values);
    expect(shellQuote('x\nFORGED')).toBe("$'x\\nFORGED'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });
});
