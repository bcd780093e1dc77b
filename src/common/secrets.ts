import { CanonicalText, canonicalForm } from './canonical-text.js';
import { SecretIndex } from './secret-index.js';

/**
 * The last line of defence for "no secret reaches a log, the terminal or an error message": every
 * credential the process holds (from the environment, used or not, every token it is issued, a proxy's
 * and a metrics gateway's) is registered here, and every line written to the audit log or the console
 * passes through `scrub`, whatever code produced it. Callers scrub before they cut or escape a text (see
 * common/text).
 *
 * A secret is found in a text as it is and in what an echo makes of it: in upper or lower case; behind
 * any mix of percent-encoding (upper or lower hex, form-encoded, every byte, encoded twice), JSON escapes
 * (`\/`, `\u005A`) and HTML entities (`&#47;`, `&#x2F;`, `&amp;`), which the text is read through (see
 * CanonicalText); as the hex of its bytes; base64-encoded (standard and URL-safe, whole and at any
 * alignment inside a longer encoding, so the password inside an echoed `Authorization: Basic …` header is
 * found too), even wrapped over lines; and any 12 characters of it (a cut, an echoed prefix), in any of
 * those forms but hex and base64. Each form is at least 8 characters long, so that ordinary text (an ID,
 * a hash) cannot match one by chance; a secret shorter than that is refused.
 */
export const MIN_SECRET_LENGTH = 8; // shorter values could not be told from ordinary text: they are refused

export class SecretScrubber {
  private readonly index = new SecretIndex();
  private readonly asWritten = new CanonicalText();
  private readonly decoded = new CanonicalText();

  /**
   * A secret, its parts secret too unless `parts` is false: an identifier (the client ID, a user name with
   * its password), which may be made of words that ordinary text holds as well, is found whole only.
   */
  register(value: string | undefined, { parts = true } = {}): void {
    if (!value || value.length < MIN_SECRET_LENGTH) return;
    const bytes = Buffer.from(value);
    // Percent-encoding hides a character's UTF-8 bytes, which read decoded as one unit each: the secret
    // as those bytes is a form too (for ASCII, the secret itself).
    for (const text of new Set([value, bytes.toString('latin1')])) {
      this.index.add(canonicalForm(text, false), parts);
      this.index.add(canonicalForm(text, true), parts); // differs for a secret holding `%`, `\` or `&`: as the text reads it
    }
    for (const form of [bytes.toString('hex'), ...base64Forms(bytes)]) this.index.add(canonicalForm(form, false), false);
  }

  /**
   * A user and password sent as HTTP basic auth (a proxy's, a gateway's): the password in all its forms,
   * and `user:password` as the header carries it (base64), so that an echoed header is caught whole.
   */
  registerBasic(user: string, password: string): void {
    if (!password) return;
    this.register(password);
    if (user) this.register(`${user}:${password}`, { parts: false });
  }

  /** The credentials of a URL (`https://user:password@host`), decoded as they are sent. */
  registerUrl(url: URL): void {
    if (!url.password) return;
    this.registerBasic(safeDecode(url.username), safeDecode(url.password));
    this.register(url.password); // as written in the URL, percent-encoding included
  }

  /** Whether `text` holds a registered form (what scrub would redact but a bearer token): the check of each order ID, cheaper than scrub. */
  holds(text: string): boolean {
    return this.spansOf(text).length > 0;
  }

  scrub(text: string): string {
    const spans = this.spansOf(text);
    const out = spans.length === 0 ? text : redact(text, spans);
    return /bearer/i.test(out) ? out.replace(/(bearer\s+)[A-Za-z0-9._~+/=-]{6,}/gi, '$1[REDACTED]') : out;
  }

  /**
   * Where registered forms are in `text`, as pairs [start, end): read as written (always), and decoded
   * when it holds an escape or a line break. Both readings: an escape's first character right before a
   * secret (`%` and a secret starting with two hex digits) would otherwise hide the secret as written.
   */
  private spansOf(text: string): number[] {
    const spans: number[] = [];
    const escapes = this.asWritten.readAsWritten(text);
    this.index.find(this.asWritten, spans);
    if (!escapes) return spans;
    const decodedSpans: number[] = [];
    this.decoded.readDecoded(text);
    this.index.find(this.decoded, decodedSpans);
    const { starts, ends } = this.decoded;
    for (let k = 0; k < decodedSpans.length; k += 2) spans.push(starts[decodedSpans[k]!]!, ends[decodedSpans[k + 1]! - 1]!);
    return spans;
  }
}

/** `text` with each span, merged with those it overlaps or touches, replaced by `[REDACTED]`. */
function redact(text: string, spans: number[]): string {
  const ordered: [number, number][] = [];
  for (let k = 0; k < spans.length; k += 2) ordered.push([spans[k]!, spans[k + 1]!]);
  ordered.sort((a, b) => a[0] - b[0]);
  let out = '';
  let redactedTo = -1;
  for (const [start, end] of ordered) {
    if (start > redactedTo) out += `${text.slice(Math.max(redactedTo, 0), start)}[REDACTED]`;
    redactedTo = Math.max(redactedTo, end);
  }
  return out + text.slice(redactedTo);
}

/**
 * `value` base64-encoded, whole; and the base64 text that its bytes always produce, at each of the three alignments it can have inside
 * a longer encoded text (`user:password` puts the password anywhere): the characters that depend on its
 * bytes alone, standard and URL-safe. For an 8-character secret these are 8 to 10 characters long.
 */
function base64Forms(bytes: Buffer): string[] {
  // The whole encoding (padding and all) first: a header that carries exactly this value is replaced whole.
  const forms = [bytes.toString('base64'), bytes.toString('base64url')];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64').replace(/=+$/, '');
    const form = encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
    if (form.length >= MIN_SECRET_LENGTH) forms.push(form, form.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** One scrubber per process: the console, the audit journal and error reporting share what it knows. */
export const secrets = new SecretScrubber();
