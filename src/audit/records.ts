import { z } from 'zod';
import { AUDIT_RECORD_VERSION, OUTCOMES, RUN_STATUSES } from '../common/domain.js';

/**
 * The audit log's records as its readers accept them: what the journal writes, validated line by line,
 * so that an edited or damaged log is reported (file, line, field) and never becomes a TypeError, and a
 * record whose shape is wrong is never trusted. Unknown keys are kept (a newer writer may add fields);
 * unknown events are skipped.
 */
const outcome = z.enum(OUTCOMES);
const count = z.number().int().nonnegative();
const base = { runId: z.string().min(1), time: z.string(), msg: z.string().optional(), level: z.string().optional() };

export const sourceSchema = z.looseObject({
  /** Where the IDs came from: a CSV or text file (or stdin, spooled), or a filter's selection (its manifest). */
  kind: z.enum(['csv', 'text', 'filter']),
  path: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 in hex'),
  count,
  /** How the file is read; logs written before it was recorded have the kind only. */
  format: z.enum(['csv', 'text']).optional(),
  /** The CSV header the IDs were read from. */
  column: z.string().optional(),
  idPattern: z.string().optional(),
  shard: z.string().optional(),
  stdin: z.boolean().optional(),
  rows: count.optional(),
  duplicates: count.optional(),
  otherShards: count.optional(),
  filter: z.looseObject({
    path: z.string(),
    sha256: z.string(),
    match: z.unknown(),
    matchAll: z.boolean().optional(),
    /** `all`: the whole order listing; `accounts`: the orders of the accounts named. */
    scope: z.enum(['all', 'accounts']).optional(),
  }).optional(),
  listed: count.optional(),
  /** Orders the filter matched, before --shard took its part. */
  selected: count.optional(),
  /** The selection by status, account and age, as shown before confirming. */
  breakdown: z.record(z.string(), z.record(z.string(), count)).optional(),
  pages: count.optional(),
});
export type SourceRecord = z.infer<typeof sourceSchema>;

const runStart = z.looseObject({
  ...base,
  event: z.literal('run.start'),
  /** The record format of this run's lines; absent in logs written before it was recorded (1). */
  recordVersion: z.number().int().positive().max(AUDIT_RECORD_VERSION, `written by a newer version of this tool; this one reads record versions up to ${AUDIT_RECORD_VERSION}: upgrade to read it`).optional(),
  version: z.string(),
  baseUrl: z.string().min(1),
  source: sourceSchema,
  options: z.record(z.string(), z.unknown()),
  resumeOf: z.string().min(1).optional(),
  skipped: count.optional(),
});
export type RunStartRecord = z.infer<typeof runStart>;

const order = z.looseObject({
  ...base,
  event: z.literal('order'),
  orderId: z.string().min(1),
  outcome,
  httpStatus: z.number().int().nullable(),
  attempts: count,
  durationMs: z.number().nonnegative(),
  error: z.looseObject({ code: z.string(), message: z.string() }).optional(),
});
export type OrderLine = z.infer<typeof order>;

const retry = z.looseObject({
  ...base,
  event: z.literal('order.retry'),
  orderId: z.string().min(1),
  attempt: count,
  httpStatus: z.number().int().optional(),
  errorCode: z.string().optional(),
  delayMs: z.number().nonnegative(),
});
export type RetryLine = z.infer<typeof retry>;

/** A decision of the rate controller (rates in requests/s; null: unpaced). */
const throttle = z.looseObject({
  ...base,
  event: z.literal('throttle'),
  kind: z.enum(['cut', 'ceiling', 'lift', 'noise']),
  windowMs: z.number().nonnegative(),
  answers: count,
  share: z.number().min(0).max(1),
  baseline: z.number().min(0).max(1),
  acceptedRate: z.number().nonnegative(),
  rateBefore: z.number().nullable(),
  rateAfter: z.number().nullable(),
  ceiling: z.number().nullable(),
  pauseMs: z.number().nonnegative(),
});
export type ThrottleLine = z.infer<typeof throttle>;

/** The paced rate as it moved between decisions, requests/s (null: unpaced). */
const pace = z.looseObject({ ...base, event: z.literal('pace'), rps: z.number().nonnegative().nullable() });
export type PaceLine = z.infer<typeof pace>;

/** The retry budget's judgement: the service failing (every request waits, a probe a second), or answering again. */
const service = z.looseObject({
  ...base,
  event: z.literal('service'),
  state: z.enum(['failing', 'answering']),
  failures: count,
  answers: count,
  failingMs: z.number().nonnegative().optional(),
});
export type ServiceLine = z.infer<typeof service>;

export const runStatus = z.enum(RUN_STATUSES);
const runEnd = z.looseObject({
  ...base,
  event: z.literal('run.end'),
  status: runStatus,
  exitCode: z.number().int(),
  durationMs: z.number().nonnegative(),
  summary: z.looseObject({ throttledMs: z.number().optional() }).optional(),
  reason: z.string().optional(),
});
export type RunEndLine = z.infer<typeof runEnd>;

export type AuditRecord = RunStartRecord | OrderLine | RetryLine | ThrottleLine | PaceLine | ServiceLine | RunEndLine;
const schemas = { 'run.start': runStart, order, 'order.retry': retry, throttle, pace, service, 'run.end': runEnd } as const;

export type ParsedLine =
  | { kind: 'record'; record: AuditRecord }
  /** A known event whose fields are wrong: `problem` names the field. */
  | { kind: 'invalid'; event: string; problem: string }
  /** Not a JSON object with an event: a write torn by a kill, or an edit. */
  | { kind: 'unreadable' }
  /** An event this reader does not know (a newer writer's): skipped. */
  | { kind: 'other' };

export function parseLine(text: string): ParsedLine {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { kind: 'unreadable' };
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) return { kind: 'unreadable' };
  const event = (data as { event?: unknown }).event;
  if (typeof event !== 'string') return { kind: 'unreadable' };
  const schema = schemas[event as keyof typeof schemas];
  if (!schema) return { kind: 'other' };
  const parsed = schema.safeParse(data);
  if (parsed.success) return { kind: 'record', record: parsed.data as AuditRecord };
  const issue = parsed.error.issues[0];
  const at = issue?.path.map(String).join('.') || event;
  return { kind: 'invalid', event, problem: `${at}: ${issue?.message ?? 'not valid'}` };
}

/**
 * The fast path for the lines that make up almost all of a log: an `order` line as the journal writes
 * it — `{"level":"…","time":"…","runId":"…","event":"order","orderId":"…","outcome":"…",…}` — read
 * without JSON.parse. The first `"event":"` of a line is its own (level, time and runId come first and
 * cannot contain it), so a run.start whose filter holds look-alike text is never mistaken for an order.
 * Anything else — other events, escaped IDs, a torn line — returns undefined: parse it with parseLine.
 * A test writes lines with the journal and checks this against JSON.parse.
 */
export function fastOrderLine(line: string): { orderId: string; outcome: string } | undefined {
  if (!line.startsWith('{"level":"') || !line.endsWith('}')) return undefined;
  const at = line.indexOf(EVENT_KEY);
  if (at < 0 || !line.startsWith(ORDER_EVENT, at)) return undefined;
  const idStart = at + ORDER_EVENT.length;
  const idEnd = line.indexOf(OUTCOME_KEY, idStart);
  if (idEnd < 0) return undefined;
  const orderId = line.slice(idStart, idEnd);
  if (orderId.includes('\\') || orderId.includes('"')) return undefined;
  const outcomeStart = idEnd + OUTCOME_KEY.length;
  const outcomeEnd = line.indexOf('"', outcomeStart);
  const value = line.slice(outcomeStart, outcomeEnd);
  return outcome.options.includes(value as never) ? { orderId, outcome: value } : undefined;
}

const EVENT_KEY = '"event":"';
const ORDER_EVENT = '"event":"order","orderId":"';
const OUTCOME_KEY = '","outcome":"';
