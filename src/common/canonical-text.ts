/**
 * Text as the secret scrubber compares it: one 16-bit code per unit, ASCII letters in lower case and a
 * space read as `+` — so that a secret echoed in upper or lower case, or form-encoded (a space sent as
 * `+`), reads as itself, and so do upper- and lower-case hex digits in an escape.
 *
 * Read as written, each unit is one character of the text. Read decoded, the escapes that hide a
 * character in echoed text are undone first, each to the bottom when it was applied more than once:
 * percent-encoding (`%2F`, `%2f`, `%252F`), JSON's backslash escapes (`\/`, `\"`, `\u005A`, and `\\u005a`
 * from JSON inside JSON), and HTML's numeric and named entities (`&#47;`, `&#x2F;`, `&amp;`,
 * `&amp;#47;`). Line breaks are dropped, so that base64 wrapped at any width (MIME's 76 columns, PEM's
 * 64) reads as one run. A decoded unit keeps the span of the text it was read from, so that what matches
 * can be replaced in the text itself.
 */
export class CanonicalText {
  codes = new Uint16Array(KEPT);
  /** Read decoded: where in the text each unit starts and ends. */
  starts = new Int32Array(KEPT);
  ends = new Int32Array(KEPT);
  length = 0;

  /** Reads `text` as written; says whether it holds anything reading it decoded could change. */
  readAsWritten(text: string): boolean {
    const n = text.length;
    this.reserve(n);
    const codes = this.codes;
    let escapes = false;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      codes[i] = fold(c);
      // A line's own line break at its end joins nothing: only one inside the text may split a run.
      if (c <= BACKSLASH && (c === PERCENT || c === AMPERSAND || c === BACKSLASH || ((c === LF || c === CR) && i < n - 2))) escapes = true;
    }
    this.length = n;
    return escapes;
  }

  /** Reads `text` with its escapes undone and its line breaks dropped (never more units than characters). */
  readDecoded(text: string): void {
    const n = text.length;
    this.reserve(n);
    this.length = 0;
    for (let i = 0; i < n; ) {
      const c = text.charCodeAt(i);
      const end = c === PERCENT ? this.percentEscape(text, i) : c === BACKSLASH ? this.backslashEscape(text, i) : c === AMPERSAND ? this.entity(text, i) : -1;
      if (end < 0) this.push(c, i, i + 1);
      else this.push(this.point, i, end);
      i = end < 0 ? i + 1 : end;
    }
  }

  /** The code point the last escape read stands for. */
  private point = 0;

  private push(point: number, start: number, end: number): void {
    if (point === LF || point === CR) return;
    if (point > 0xffff) {
      this.unit(0xd800 + ((point - 0x10000) >> 10), start, end);
      this.unit(0xdc00 + ((point - 0x10000) & 0x3ff), start, end);
    } else {
      this.unit(fold(point), start, end);
    }
  }

  private unit(code: number, start: number, end: number): void {
    const k = this.length++;
    this.codes[k] = code;
    this.starts[k] = start;
    this.ends[k] = end;
  }

  /** `%XX`, and `%25XX` (encoded again) to any depth: where it ends, or -1. */
  private percentEscape(text: string, at: number): number {
    let i = at + 1;
    if (hexDigit(text, i) < 0 || hexDigit(text, i + 1) < 0) return -1;
    while (text.startsWith('25', i) && hexDigit(text, i + 2) >= 0 && hexDigit(text, i + 3) >= 0) i += 2;
    this.point = hexDigit(text, i) * 16 + hexDigit(text, i + 1);
    return i + 2;
  }

  /** JSON's `\uXXXX` (behind any run of backslashes: escaped again) and its one-letter escapes. */
  private backslashEscape(text: string, at: number): number {
    let i = at + 1;
    while (text.charCodeAt(i) === BACKSLASH) i++;
    if (text.charCodeAt(i) === LOWER_U) {
      const unit = hexNumber(text, i + 1, i + 5);
      if (unit >= 0) {
        this.point = unit;
        return i + 5;
      }
    }
    const escaped = JSON_ESCAPES.get(text.charAt(at + 1));
    if (escaped === undefined) return -1;
    this.point = escaped;
    return at + 2;
  }

  /** `&#NN;`, `&#xHH;`, `&lt;` and the like, behind any number of `amp;` (escaped again); `&amp;` alone is `&`. */
  private entity(text: string, at: number): number {
    let i = at + 1;
    while (startsWithFolded(text, i, 'amp;')) i += 4;
    if (text.charCodeAt(i) === HASH) {
      const hex = (text.charCodeAt(i + 1) | 0x20) === LOWER_X;
      const digits = hex ? i + 2 : i + 1;
      let end = digits;
      while (end - digits < 8 && (hex ? hexDigit(text, end) >= 0 : isDecimal(text.charCodeAt(end)))) end++;
      const point = end > digits && text.charCodeAt(end) === SEMICOLON ? Number.parseInt(text.slice(digits, end), hex ? 16 : 10) : -1;
      if (point >= 0 && point <= 0x10ffff) {
        this.point = point;
        return end + 1;
      }
    }
    for (const [name, point] of NAMED_ENTITIES) {
      if (startsWithFolded(text, i, name)) {
        this.point = point;
        return i + name.length;
      }
    }
    if (i === at + 1) return -1;
    this.point = AMPERSAND;
    return i;
  }

  /**
   * Room for `n` units. Lines up to KEPT characters reuse the same arrays; a longer text (a report file)
   * gets its own, which are not kept.
   */
  private reserve(n: number): void {
    const size = this.codes.length;
    if (n <= size && (size === KEPT || n > KEPT)) return;
    const room = Math.max(n, KEPT);
    this.codes = new Uint16Array(room);
    this.starts = new Int32Array(room);
    this.ends = new Int32Array(room);
  }
}

/** `text` read as written or decoded, as the scrubber compares it: how a secret's forms are registered. */
export function canonicalForm(text: string, decoded: boolean): string {
  const reader = formReader;
  if (decoded) reader.readDecoded(text);
  else reader.readAsWritten(text);
  let form = '';
  for (let k = 0; k < reader.length; k++) form += String.fromCharCode(reader.codes[k]!);
  return form;
}

const KEPT = 4096;
const formReader = new CanonicalText();
const LF = 10;
const CR = 13;
const HASH = 35;
const PERCENT = 37;
const SEMICOLON = 59;
const AMPERSAND = 38;
const BACKSLASH = 92;
const LOWER_U = 117;
const LOWER_X = 120;

const JSON_ESCAPES = new Map([['"', 34], ['\\', BACKSLASH], ['/', 47], ['b', 8], ['f', 12], ['n', LF], ['r', CR], ['t', 9]]);
const NAMED_ENTITIES: [string, number][] = [['lt;', 60], ['gt;', 62], ['quot;', 34], ['apos;', 39]];

/** ASCII upper case to lower; a space to `+`. */
const fold = (c: number): number => (c >= 65 && c <= 90 ? c + 32 : c === 32 ? 43 : c);

function hexDigit(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

function hexNumber(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = hexDigit(text, i);
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return to > from ? value : -1;
}

const isDecimal = (c: number): boolean => c >= 48 && c <= 57;

function startsWithFolded(text: string, at: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) if (fold(text.charCodeAt(at + k)) !== lower.charCodeAt(k)) return false;
  return true;
}
