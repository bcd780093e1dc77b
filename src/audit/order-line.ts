import { OUTCOMES, type Outcome } from '../common/domain.js';
import type { OrderRecord } from '../common/records.js';

/**
 * The layout of an `order` line, the lines that make up almost all of a log: the journal writes it, and
 * the log reader reads it back without JSON.parse when an order's ID and outcome are all it needs (a
 * resume of a million-order log). Both sides live here, so that the one depends on the other in plain
 * sight; test/records.test.ts writes every record type through the journal and checks the fast path
 * against JSON.parse and the schemas.
 */

/** An order's fields as the journal hands them to pino: event, orderId and outcome first, whatever the record's own key order. */
export function orderLineFields(record: OrderRecord): { event: 'order' } & OrderRecord {
  const { orderId, outcome, ...rest } = record;
  return { event: 'order', orderId, outcome, ...rest };
}

/**
 * An `order` line as the journal writes it — `{"level":"…","time":"…","runId":"…","event":"order",
 * "orderId":"…","outcome":"…",…}` — read without JSON.parse. The first `"event":"` of a line is its own
 * (level, time and runId come first, and no JSON string can hold that text unescaped), so a run.start
 * whose filter holds look-alike text is never mistaken for an order. Only a line of the run named by
 * `runIdField` (made by runIdField()) is read so; anything else — another run's line, other events, escaped
 * IDs, a torn line — returns undefined: parse it with parseLine.
 */
export function fastOrderLine(line: string, runIdField: string): { orderId: string; outcome: Outcome } | undefined {
  if (!line.startsWith('{"level":"') || !line.endsWith('}')) return undefined;
  const at = line.indexOf(EVENT_KEY);
  if (at < 0 || !line.startsWith(ORDER_EVENT, at) || !line.startsWith(runIdField, at - runIdField.length)) return undefined;
  const idStart = at + ORDER_EVENT.length;
  const idEnd = line.indexOf(OUTCOME_KEY, idStart);
  if (idEnd < 0) return undefined;
  const orderId = line.slice(idStart, idEnd);
  if (orderId === '' || orderId.includes('\\') || orderId.includes('"')) return undefined;
  const outcomeStart = idEnd + OUTCOME_KEY.length;
  const outcomeEnd = line.indexOf('"', outcomeStart);
  if (outcomeEnd < 0) return undefined;
  const written = line.slice(outcomeStart, outcomeEnd);
  const outcome = OUTCOMES.find((known) => known === written);
  return outcome ? { orderId, outcome } : undefined;
}

/** The runId as it stands right before an order line's event, for fastOrderLine. */
export function runIdField(runId: string): string {
  return `"runId":${JSON.stringify(runId)},`;
}

const EVENT_KEY = '"event":"';
const ORDER_EVENT = '"event":"order","orderId":"';
const OUTCOME_KEY = '","outcome":"';
