import type { AxiosInstance } from 'axios';
import type { OrderRecord, RetryRecord } from '../common/records.js';
import { checkOrder, deleteOrder, type AttemptResult } from '../exsited/orders.js';
import { sendWithRetry, type RequestDeps } from './retrying-request.js';
import type { RequestSignal } from './run-control.js';

export interface OrderDeleterDeps extends RequestDeps {
  http: AxiosInstance;
  onRetry: (record: RetryRecord) => void;
}

/**
 * Deletes one order, with the retry policy of `sendWithRetry`. Returns the order's audit record
 * (`attempts` counts the requests sent), or undefined when the run stopped before the order finished.
 */
export const deleteWithRetry = (orderId: string, deps: OrderDeleterDeps) =>
  finishWithRetry(orderId, deps, (token, signal) => deleteOrder(deps.http, orderId, token, signal));

/** A dry run's check that a listed order exists (GET), paced and retried as a deletion is: would_delete, or already_absent (not found). */
export const checkWithRetry = (orderId: string, deps: OrderDeleterDeps) =>
  finishWithRetry(orderId, deps, (token, signal) => checkOrder(deps.http, orderId, token, signal));

async function finishWithRetry(
  orderId: string, deps: OrderDeleterDeps, send: (token: string, signal: RequestSignal) => Promise<AttemptResult<OrderRecord['outcome']>>,
): Promise<OrderRecord | undefined> {
  const startedAt = performance.now();
  const result = await sendWithRetry(send, deps, (retry) => deps.onRetry({ orderId, ...retry }));
  if (!result) return undefined;
  const durationMs = Math.round(performance.now() - startedAt);
  if (result.ok) return { orderId, outcome: result.value, httpStatus: result.httpStatus, attempts: result.attempts, durationMs };
  const { httpStatus, code, message } = result.failure;
  return { orderId, outcome: 'failed', httpStatus, attempts: result.attempts, durationMs, error: { code, message } };
}
