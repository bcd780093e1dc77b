import type { AxiosInstance, AxiosResponse } from 'axios';
import { orderPath } from '../sources/order-id.js';
import { describeTransportError, exsitedError, isCancel, isRetryableStatus, retryAfterMs } from './http.js';

export type AttemptResult =
  | { kind: 'done'; outcome: 'deleted' | 'already_absent'; httpStatus: number }
  /** Worth another try: a transport error, 408, 429 or 5xx. */
  | { kind: 'retry'; httpStatus: number | null; code: string; message: string; retryAfterMs?: number }
  /** The token was refused: renew it, then try again. */
  | { kind: 'unauthorized'; httpStatus: 401; code: string; message: string }
  /** Final: any other 4xx (or 3xx, which is never followed). */
  | { kind: 'failed'; httpStatus: number; code: string; message: string }
  /** The run aborted the request (grace period over); the order stays pending. */
  | { kind: 'canceled' };

/** One DELETE attempt. Never throws: every result, transport failures included, is classified. */
export async function deleteOrder(http: AxiosInstance, orderId: string, accessToken: string, signal?: AbortSignal): Promise<AttemptResult> {
  try {
    const response = await http.delete(orderPath(orderId), { headers: { Authorization: `Bearer ${accessToken}` }, signal });
    return classifyResponse(response);
  } catch (error) {
    if (isCancel(error)) return { kind: 'canceled' };
    return { kind: 'retry', httpStatus: null, ...describeTransportError(error) };
  }
}

/** 2xx: deleted; 404: already absent (the goal state holds); 401: renew; 408/429/5xx: retry; else failed. */
export function classifyResponse(response: Pick<AxiosResponse, 'status' | 'statusText' | 'headers' | 'data'>): AttemptResult {
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: 'done', outcome: 'deleted', httpStatus: status };
  if (status === 404) return { kind: 'done', outcome: 'already_absent', httpStatus: status };
  const error = exsitedError(response as AxiosResponse);
  if (status === 401) return { kind: 'unauthorized', httpStatus: 401, ...error };
  if (isRetryableStatus(status)) {
    return { kind: 'retry', httpStatus: status, ...error, retryAfterMs: retryAfterMs(response.headers?.['retry-after']) };
  }
  return { kind: 'failed', httpStatus: status, ...error };
}
