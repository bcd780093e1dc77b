/**
 * The limits a real API puts on DELETE, for the fake: a token bucket (rate R, burst B), a fixed window (N
 * per calendar second, or per S seconds: a quota), and an outage (every DELETE answered 503 for a while). Server-wide, so several
 * clients (shards, processes) share them as they would share a real one. Time is injected.
 */
export interface LimitPlan {
  /** `bucket`: R tokens a second, at most `burst` (R by default) saved up; `window`: N per calendar second (or per `windowS`). */
  kind: 'bucket' | 'window';
  rate: number;
  burst?: number;
  /** A window's length in seconds (1 by default): N per 10 s, N per minute, as quotas go. */
  windowS?: number;
  /** The Retry-After sent with a 429, in seconds (as the server computes it: until a token or the next window). */
  retryAfterS?: number;
}

export interface OutagePlan {
  /** When the outage starts, in ms after the first DELETE, and how long it lasts. */
  afterMs: number;
  durationMs: number;
  /** What every DELETE is answered meanwhile: 503 (by default), or 429 with Retry-After 1 s (a gateway refusing everyone). */
  status?: 503 | 429;
}

export type LimitAnswer = { allowed: true } | { allowed: false; retryAfterS: number };

export class RequestLimit {
  private tokens: number;
  private refilledAt: number | undefined;
  private windowStart = -1;
  private windowCount = 0;

  constructor(private readonly plan: LimitPlan, private readonly now: () => number = Date.now) {
    this.tokens = plan.burst ?? plan.rate;
  }

  take(): LimitAnswer {
    const now = this.now();
    if (this.plan.kind === 'window') {
      const windowMs = (this.plan.windowS ?? 1) * 1000;
      const window = Math.floor(now / windowMs);
      if (window !== this.windowStart) {
        this.windowStart = window;
        this.windowCount = 0;
      }
      if (this.windowCount < this.plan.rate) {
        this.windowCount++;
        return { allowed: true };
      }
      return { allowed: false, retryAfterS: this.plan.retryAfterS ?? Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000)) };
    }
    const burst = this.plan.burst ?? this.plan.rate;
    this.tokens = Math.min(burst, this.tokens + (((now - (this.refilledAt ?? now)) / 1000) * this.plan.rate));
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterS: this.plan.retryAfterS ?? Math.max(1, Math.ceil((1 - this.tokens) / this.plan.rate)) };
  }
}

/** `bucket:100`, `bucket:100:200` (rate, burst), `window:100`, `window:30:10` (30 per 10 s). */
export function parseLimit(text: string): LimitPlan {
  const [kind, rate, third] = text.split(':');
  const plan: LimitPlan = { kind: kind as LimitPlan['kind'], rate: Number(rate), ...(third ? (kind === 'window' ? { windowS: Number(third) } : { burst: Number(third) }) : {}) };
  if ((plan.kind !== 'bucket' && plan.kind !== 'window') || !(plan.rate > 0) || (third !== undefined && !(Number(third) >= 1))) {
    throw new Error(`--limit: ${JSON.stringify(text)} is not bucket:RATE[:BURST] or window:N[:SECONDS]`);
  }
  return plan;
}

/** `10s@2s`: an outage of 10 s, starting 2 s after the first DELETE, every DELETE answered 503; `10s@2s:429`, answered 429. */
export function parseOutage(text: string): OutagePlan {
  const match = /^(\d+(?:\.\d+)?)s@(\d+(?:\.\d+)?)s(?::(503|429))?$/.exec(text);
  if (!match) throw new Error(`--outage: ${JSON.stringify(text)} is not DURATIONs@STARTs[:503|429], such as 10s@2s or 30s@10s:429`);
  return { durationMs: Number(match[1]) * 1000, afterMs: Number(match[2]) * 1000, ...(match[3] === '429' ? { status: 429 as const } : {}) };
}
