/**
 * The last line of defence for "no secret reaches a log, the terminal or an error message": every
 * credential the process learns (client secret, access and refresh tokens) is registered here, and every
 * line written to the audit log or the console passes through `scrub`, whatever code produced it.
 */
const MIN_SECRET_LENGTH = 6; // shorter values would redact ordinary words; real secrets are far longer

export class SecretScrubber {
  private readonly secrets = new Set<string>();

  register(value: string | undefined): void {
    if (value && value.length >= MIN_SECRET_LENGTH) this.secrets.add(value);
  }

  scrub(text: string): string {
    let out = text;
    for (const secret of this.secrets) {
      if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
    }
    return /bearer/i.test(out) ? out.replace(/(bearer\s+)[A-Za-z0-9._~+/=-]{6,}/gi, '$1[REDACTED]') : out;
  }
}

/** One scrubber per process: the console, the audit journal and error reporting share what it knows. */
export const secrets = new SecretScrubber();
