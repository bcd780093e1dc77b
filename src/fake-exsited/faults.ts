import { seededRandom } from './seeded-random.js';

/**
 * What can go wrong with one request, each with its chance (0..1). Drawn in this order from one seeded
 * generator, so a seed and a plan give the same faults for the same sequence of requests.
 */
export interface FaultPlan {
  seed?: number;
  /** Added before every answer. */
  latencyMs?: number;
  /** HTTP status → chance, e.g. {500: 0.05, 503: 0.05}. */
  statuses?: Record<number, number>;
  /** A 429 with `Retry-After: retryAfterS`. */
  throttle?: number;
  retryAfterS?: number;
  /** The connection is destroyed without an answer. */
  reset?: number;
  /** No answer at all: the client's timeout has to fire. */
  hang?: number;
  /** The order is deleted, then the answer is a 503: the client's retry must see 404. */
  deleteThen503?: number;
  /** A 401 although the token is valid. */
  unauthorized?: number;
}

export type Fault =
  | { kind: 'none' }
  | { kind: 'status'; status: number }
  | { kind: 'throttle'; retryAfterS: number }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'deleteThen503' }
  | { kind: 'unauthorized' };

export class FaultInjector {
  private readonly random: () => number;

  constructor(readonly plan: FaultPlan = {}) {
    this.random = seededRandom(plan.seed ?? 42);
  }

  next(): Fault {
    const p = this.plan;
    const r = this.random();
    let edge = 0;
    const hit = (chance = 0) => r < (edge += chance);
    if (hit(p.reset)) return { kind: 'reset' };
    if (hit(p.hang)) return { kind: 'hang' };
    if (hit(p.throttle)) return { kind: 'throttle', retryAfterS: p.retryAfterS ?? 1 };
    if (hit(p.deleteThen503)) return { kind: 'deleteThen503' };
    if (hit(p.unauthorized)) return { kind: 'unauthorized' };
    for (const [status, chance] of Object.entries(p.statuses ?? {})) if (hit(chance)) return { kind: 'status', status: Number(status) };
    return { kind: 'none' };
  }
}

/**
 * The fake-api command's `--faults` text: `500:0.05,503:0.05,429:0.02,reset:0.01,hang:0.01,
 * delete-then-503:0.02,401:0.01`; a status number means that status (429 carries Retry-After).
 */
export function parseFaultSpec(spec: string, base: FaultPlan = {}): FaultPlan {
  const plan: FaultPlan = { ...base, statuses: { ...base.statuses } };
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, chanceText] = part.split(':');
    const chance = Number(chanceText);
    if (!name || !(chance >= 0 && chance <= 1)) throw new Error(`--faults: ${JSON.stringify(part)} is not NAME:CHANCE with a chance from 0 to 1`);
    if (name === 'reset') plan.reset = chance;
    else if (name === 'hang') plan.hang = chance;
    else if (name === 'delete-then-503') plan.deleteThen503 = chance;
    else if (name === '429') plan.throttle = chance;
    else if (name === '401') plan.unauthorized = chance;
    else if (/^[45]\d\d$/.test(name)) (plan.statuses as Record<number, number>)[Number(name)] = chance;
    else throw new Error(`--faults: unknown fault ${JSON.stringify(name)}`);
  }
  return plan;
}
