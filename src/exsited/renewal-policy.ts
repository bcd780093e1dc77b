import { humanDuration } from '../common/durations.js';

/** What to do about a 401 to a token that had not expired. */
export type RenewalVerdict =
  | { kind: 'renew'; waitMs: number; contested: boolean }
  | { kind: 'halt'; message: string };

/** A token refused before this share of its lifetime was refused young: someone else took the credentials. */
const YOUNG_SHARE = 0.1;
/** Young refusals in a row that halt the run, and the waits before the renewals between them. */
const MAX_CONTESTED = 3;
const FIRST_WAIT_MS = 1000;

/**
 * When a 401 is answered with a new token. A token refused late in its life was revoked or expired early:
 * it is renewed at once, as Exsited's SDKs do. A token refused young — moments after this run obtained
 * it — was most likely ended by another client obtaining a new token for the same credentials (Exsited
 * keeps one live token per client, reportedly). Renewing at once would end that client's token in turn,
 * and the two would sign each other out for as long as both run: a token war. So a young refusal waits
 * before renewing (1 s, then 2 s), and the third in a row halts the run, saying why. A token that lives
 * out its life ends the streak. Time is injected.
 */
export class RenewalPolicy {
  private streak = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether a token issued at `issuedAt`, valid for `lifetimeMs`, is young: early in its life. */
  young(issuedAt: number, lifetimeMs: number): boolean {
    return this.now() - issuedAt < YOUNG_SHARE * lifetimeMs;
  }

  /** The token was renewed because it was due: it lived its life, nobody contested it. */
  aged(): void {
    this.streak = 0;
  }

  /** The token issued at `issuedAt`, valid for `lifetimeMs`, was refused (401). */
  refused(issuedAt: number, lifetimeMs: number): RenewalVerdict {
    const ageMs = this.now() - issuedAt;
    if (!this.young(issuedAt, lifetimeMs)) {
      this.streak = 0;
      return { kind: 'renew', waitMs: 0, contested: false };
    }
    this.streak++;
    if (this.streak >= MAX_CONTESTED) {
      return {
        kind: 'halt',
        message: `the server refused this run's new access token ${MAX_CONTESTED} times in a row, each within moments of issuing it ` +
          `(the last after ${humanDuration(ageMs)}): another client is using these credentials, and each new token ends the ` +
          'one before, so renewing again would sign it out in turn. Give each concurrent run its own API client (its own ' +
          'EXSITED_CLIENT_ID and EXSITED_CLIENT_SECRET), or let runs on one machine share a token (--token-cache), or run one at ' +
          'a time',
      };
    }
    return { kind: 'renew', waitMs: FIRST_WAIT_MS * 2 ** (this.streak - 1), contested: true };
  }
}
