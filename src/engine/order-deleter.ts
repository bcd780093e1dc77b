import type { AxiosInstance } from 'axios';
import type { OrderRecord, RetryRecord } from '../common/records.js';
import { deleteOrder } from '../exsited/orders.js';
import { sendWithRetry, type RequestDeps } from './retrying-request.js';

export interface OrderDeleterDeps extends RequestDeps {
  http: AxiosInstance;
  onRetry: (record: RetryRecord) => void;
}

/**
 * Deletes one order, with the retry policy of `sendWithRetry`. Returns the order's audit record
 * (`attempts` counts the requests sent), or undefined when the run stopped before the order finished.
 */
export async function deleteWithRetry(orderId: string, deps: OrderDeleterDeps): Promise<OrderRecord | undefined> {
  const startedAt = performance.now();
  const result = await sendWithRetry(
    (token, signal) => deleteOrder(deps.http, orderId, token, signal),
    deps,
    (retry) => deps.onRetry({ orderId, ...retry }),
  );
  if (!result) return undefined;
  const durationMs = Math.round(performance.now() - startedAt);
  if (result.ok) return { orderId, outcome: result.value, httpStatus: result.httpStatus, attempts: result.attempts, durationMs };
  const { httpStatus, code, message } = result.failure;
  return { orderId, outcome: 'failed', httpStatus, attempts: result.attempts, durationMs, error: { code, message } };
}
