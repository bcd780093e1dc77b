/**
 * The last line of defence for "no secret reaches a log, the terminal or an error message": every
 * credential the process holds (from the environment, used or not, every token it is issued, a proxy's
 * and a metrics gateway's) is registered here, and every line written to the audit log or the console
 * passes through `scrub`, whatever code produced it. A secret is matched as it is, as it appears inside a
 * JSON string, percent-encoded, and base64-encoded (standard and URL-safe) wherever it sits in the encoded
 * text — so the password inside an echoed `Authorization: Basic …` header is found too. Callers scrub
 * before they cut or escape a text (see common/text).
 */
export const MIN_SECRET_LENGTH = 8; // shorter values could not be told from ordinary text: they are refused

export class SecretScrubber {
  private forms: string[] = [];

  register(value: string | undefined): void {
    if (!value || value.length < MIN_SECRET_LENGTH) return;
    const forms = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), ...base64Forms(value)];
    // Longest first, so that a secret containing another is replaced whole.
    this.forms = [...new Set([...this.forms, ...forms])].sort((a, b) => b.length - a.length);
  }

  /**
   * A user and password sent as HTTP basic auth (a proxy's, a gateway's): the password in all its forms,
   * and `user:password` as the header carries it (base64), so that an echoed header is caught whole.
   */
  registerBasic(user: string, password: string): void {
    if (!password) return;
    this.register(password);
    if (user) this.register(`${user}:${password}`);
  }

  /** The credentials of a URL (`https://user:password@host`), decoded as they are sent. */
  registerUrl(url: URL): void {
    if (!url.password) return;
    this.registerBasic(safeDecode(url.username), safeDecode(url.password));
    this.register(url.password); // as written in the URL, percent-encoding included
  }

  scrub(text: string): string {
    let out = text;
    for (const form of this.forms) {
      if (out.includes(form)) out = out.split(form).join('[REDACTED]');
    }
    return /bearer/i.test(out) ? out.replace(/(bearer\s+)[A-Za-z0-9._~+/=-]{6,}/gi, '$1[REDACTED]') : out;
  }
}

/**
 * `value` base64-encoded, whole; and the base64 text that its bytes always produce, at each of the three alignments it can have inside
 * a longer encoded text (`user:password` puts the password anywhere): the characters that depend on its
 * bytes alone, standard and URL-safe. For an 8-character secret these are 8 to 10 characters long.
 */
function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value);
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
