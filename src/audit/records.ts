import * as z from 'zod';
import { AUDIT_RECORD_VERSION } from '../common/domain.js';
import { RECORD_FIELDS, type RecordEvent } from '../common/records.js';

/**
 * The audit log's lines as its readers accept them: each event's fields as its writer gives them
 * (common/records, the one source of their shapes) with the fields the journal adds to every line,
 * validated line by line, so that an edited or damaged log is reported (file, line, field) and never
 * becomes a TypeError, and a record whose shape is wrong is never trusted. Unknown keys are kept, at
 * every level (a newer writer may add fields, and a resume records its source again); unknown events
 * are skipped.
 */
const journalFields = { runId: z.string().min(1), time: z.string(), msg: z.string().optional(), level: z.string().optional() };
const line = <E extends RecordEvent, S extends z.ZodRawShape>(event: E, fields: z.ZodObject<S>) =>
  fields.extend({ ...journalFields, event: z.literal(event) });

const { 'run.end': runEnd } = RECORD_FIELDS;
const LINES = {
  'run.start': line('run.start', RECORD_FIELDS['run.start'].extend({
    /** The record format of this run's lines; absent in logs written before it was recorded (1). */
    recordVersion: z.number().int().positive().max(AUDIT_RECORD_VERSION, newerVersion()).optional(),
  })),
  order: line('order', RECORD_FIELDS.order),
  'order.retry': line('order.retry', RECORD_FIELDS['order.retry']),
  throttle: line('throttle', RECORD_FIELDS.throttle),
  pace: line('pace', RECORD_FIELDS.pace),
  service: line('service', RECORD_FIELDS.service),
  'run.stop': line('run.stop', RECORD_FIELDS['run.stop']),
  // Logs written before the summary's figures were recorded: of run.end's summary only the throttling figures and tokens are read.
  'run.end': line('run.end', runEnd.omit({ resources: true }).extend({
    summary: runEnd.shape.summary.pick({ throttledMs: true, throttling: true, tokens: true }).partial().optional(),
  })),
};
type LineOf<E extends RecordEvent> = z.infer<(typeof LINES)[E]>;

export type RunStartRecord = LineOf<'run.start'>;
export type OrderLine = LineOf<'order'>;
export type RunEndLine = LineOf<'run.end'>;
export type AuditRecord = { [E in RecordEvent]: LineOf<E> }[RecordEvent];

export type ParsedLine =
  | { kind: 'record'; record: AuditRecord }
  /** A known event whose fields are wrong: `problem` names the field. */
  | { kind: 'invalid'; event: string; problem: string }
  /** Not a JSON object with an event: a write torn by a kill, or an edit. */
  | { kind: 'unreadable' }
  /** An event this reader does not know (a newer writer's): skipped. */
  | { kind: 'other' }
  /** A run.start of a record version newer than this reader's: the log is a newer version's, not damaged. */
  | { kind: 'newer'; version: number };

/** What a log of a newer version is: said the same by `report`, a resume and --auto-resume. */
export function newerVersion(version?: number): string {
  return `written by a newer version of this tool (${version === undefined ? 'a newer record version' : `record version ${version}`}; this one reads up to ${AUDIT_RECORD_VERSION}): upgrade it to read or continue this log`;
}

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
  if (!Object.hasOwn(LINES, event)) return { kind: 'other' };
  const version = (data as { recordVersion?: unknown }).recordVersion;
  if (event === 'run.start' && typeof version === 'number' && version > AUDIT_RECORD_VERSION) return { kind: 'newer', version };
  const parsed = LINES[event as RecordEvent].safeParse(data);
  // The line itself, not zod's copy: the schemas check and never transform, and the copy would drop unknown keys.
  if (parsed.success) return { kind: 'record', record: data as AuditRecord };
  const issue = parsed.error.issues[0];
  const at = issue?.path.map(String).join('.') || event;
  return { kind: 'invalid', event, problem: `${at}: ${issue?.message ?? 'not valid'}` };
}
