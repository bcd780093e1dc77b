import { SIGNIFICANT } from './throttle-stats.js';

/**
 * Whether the 429s are about this client's rate, from the windows judged lately (each: the rate it sent
 * at, on the clock that stops during pauses; its answers; those throttled). Were they about the rate, the
 * server would accept about the same number a second whatever the rate — some limit L — so a window sent
 * at rate r would be throttled at 1 − L/r (nothing, below L): cutting lowers the share. Were they noise,
 * the share would be the same at every rate. Once cuts have tried rates at least RATE_RANGE apart, a
 * constant share that both fits the windows (its deviance within three standard deviations of its
 * chi-square's mean) and explains them e^SIGNIFICANT times better than any limit says: noise.
 *
 * What looks like noise but is not, and what keeps it out:
 * - A client sharing a limit sees a share set by everyone's load, not its own rate: 10% or so in the
 *   steady state of clients sharing one limit fairly, so only a share of NOISE_SHARE or more counts; and
 *   a few seconds of 30–60% while newcomers squeeze in, so the first cut must be NOISE_SPAN_MS old.
 *   Noise stays.
 * - A window shorter than a second: a bucket's saved-up tokens go in milliseconds, and pass for rate.
 * - 100% throttled: a limit of zero and a refusal look alike, and the two never differ here (the floor,
 *   then the refusal rule, deal with that).
 */
const NOISE_SHARE = 0.2;
const NOISE_SPAN_MS = 10_000;
const RATE_RANGE = 2;
/** The latest windows kept (by count, not time: long waits for a Retry-After must not empty it), and the answers the test needs in them. */
const MEMORY_WINDOWS = 30;
const NOISE_ANSWERS = 60;
const MIN_WINDOW_MS = 1000;
/** Chances are kept this far from 0 and 1, so that one odd answer is not infinitely unlikely. */
const EPSILON = 0.01;

export interface WindowAnswers {
  /** Requests/s sent over the window. */
  rate: number;
  answers: number;
  throttled: number;
  /** How long the window lasted (active clock), ms. */
  ms: number;
}

interface Sample extends WindowAnswers {
  at: number;
}

export class NoiseTest {
  private samples: Sample[] = [];
  /** When the first cut since the ceiling was set was made. */
  private firstCutAt: number | undefined;

  /** A cut was made at `now`. */
  cut(now: number): void {
    this.firstCutAt ??= now;
  }

  /**
   * A window judged at `now`: if the 429s are noise, of at least `minShare`, an upper estimate of their
   * share (two standard errors above the share seen, so that the next large window is not "over" it);
   * undefined otherwise.
   */
  judged(window: WindowAnswers, now: number, minShare: number): number | undefined {
    if (window.ms < MIN_WINDOW_MS || !(window.rate > 0)) return undefined;
    this.samples.push({ ...window, at: now });
    if (this.samples.length > MEMORY_WINDOWS) this.samples.shift();
    if (this.firstCutAt === undefined || now - this.firstCutAt < NOISE_SPAN_MS) return undefined;
    const s = this.samples;
    const answers = sum(s, (w) => w.answers);
    const share = sum(s, (w) => w.throttled) / answers;
    const rates = s.map((w) => w.rate);
    if (answers < NOISE_ANSWERS || share < Math.max(NOISE_SHARE, minShare) || Math.max(...rates) < RATE_RANGE * Math.min(...rates)) return undefined;
    const noise = logLikelihood(s, () => share);
    // The likelihood of a limit peaks near one of the windows' accepted rates: each is a candidate.
    const limit = Math.max(...s.map((w) => {
      const accepted = (w.rate * (w.answers - w.throttled)) / w.answers;
      return logLikelihood(s, (rate) => 1 - accepted / rate);
    }));
    const deviance = 2 * (sum(s, (w) => binomial(w, w.throttled / w.answers)) - noise);
    const degrees = s.length - 1;
    if (noise - limit < SIGNIFICANT || deviance > degrees + 3 * Math.sqrt(2 * degrees)) return undefined;
    this.reset();
    return Math.min(1, share + 2 * Math.sqrt((share * (1 - share)) / answers));
  }

  /** The ceiling forgotten (lifted, or the noise found): a fresh start. */
  reset(): void {
    this.samples = [];
    this.firstCutAt = undefined;
  }
}

function sum(samples: Sample[], of: (w: Sample) => number): number {
  return samples.reduce((total, w) => total + of(w), 0);
}

/** The log-likelihood of the windows' throttled answers if each at rate r is throttled with chance share(r). */
function logLikelihood(samples: Sample[], share: (rate: number) => number): number {
  return sum(samples, (w) => binomial(w, Math.min(1 - EPSILON, Math.max(EPSILON, share(w.rate)))));
}

function binomial({ answers, throttled }: WindowAnswers, q: number): number {
  return (throttled > 0 ? throttled * Math.log(q) : 0) + (answers > throttled ? (answers - throttled) * Math.log(1 - q) : 0);
}
