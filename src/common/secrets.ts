/**
 * The last line of defence for "no secret reaches a log, the terminal or an error message": every
 * credential the process holds (from the environment, used or not, and every token it is issued) is
 * registered here, and every line written to the audit log or the console passes through `scrub`,
 * whatever code produced it. A secret is matched as it is, as it appears inside a JSON string, and
 * percent-encoded; callers scrub before they cut or escape a text (see common/text).
 */
export const MIN_SECRET_LENGTH = 8; // shorter values could not be told from ordinary text: they are refused

export class SecretScrubber {
  private forms: string[] = [];

  register(value: string | undefined): void {
    if (!value || value.length < MIN_SECRET_LENGTH) return;
    const forms = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)];
    // Longest first, so that a secret containing another is replaced whole.
    this.forms = [...new Set([...this.forms, ...forms])].sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let out = text;
    for (const form of this.forms) {
      if (out.includes(form)) out = out.split(form).join('[REDACTED]');
    }
    return /bearer/i.test(out) ? out.replace(/(bearer\s+)[A-Za-z0-9._~+/=-]{6,}/gi, '$1[REDACTED]') : out;
  }
}

/** One scrubber per process: the console, the audit journal and error reporting share what it knows. */
export const secrets = new SecretScrubber();
