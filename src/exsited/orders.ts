import type { AxiosInstance, AxiosResponse, GenericAbortSignal } from 'axios';
import { NOT_THE_API } from '../common/domain.js';
import { describeTransportError, exsitedError, isCancel, isRetryableStatus, notTheApis, retryAfterMs, saysJson, statusLineOf } from './responses.js';

/** An attempt that did not succeed. */
export type Unfinished =
  /** Worth another try: a transport error, 408, 429 or 5xx. */
  | { kind: 'retry'; httpStatus: number | null; code: string; message: string; retryAfterMs?: number }
  /** The token was refused: renew it, then try again. */
  | { kind: 'unauthorized'; httpStatus: 401; code: string; message: string }
  /** Final: any other 4xx (or 3xx, which is never followed, or an answer not understood). */
  | { kind: 'failed'; httpStatus: number; code: string; message: string };

export type AttemptResult<T> =
  | { kind: 'done'; value: T; httpStatus: number }
  | Unfinished
  /** The run aborted the request (grace period over). */
  | { kind: 'canceled' };

export type DeleteOutcome = 'deleted' | 'already_absent';
/** What a dry run finds of a listed order: there (a real run would delete it), or not found. */
export type CheckOutcome = 'would_delete' | 'already_absent';

/** An order as the list endpoint returns it (snake_case on the wire): the fields this tool reads. */
export interface ListedOrder {
  id: string;
  status?: string;
  account_id?: string;
  name?: string;
  origin?: string;
  created_by?: string;
  created_on?: string;
  last_updated_by?: string;
  last_updated_on?: string;
  currency?: { name?: string };
  total?: string;
  custom_attributes?: Array<{ name: string; value: string }>;
}

export interface OrdersPage {
  orders: ListedOrder[];
  /** `pagination.records`: the total the server reports, when it does. */
  total?: number;
}

/**
 * A value as one path segment: percent-encoded, and never empty, `.` or `..` — which URL resolution
 * would turn into a different path (`/accounts/../orders` is `/orders`). Inputs are validated long
 * before this; this is the last line, so a path can only ever name what it was given.
 */
function pathSegment(value: string): string {
  if (value === '' || value === '.' || value === '..') throw new Error(`refusing ${JSON.stringify(value)} as a URL path segment`);
  return encodeURIComponent(value);
}

export const orderPath = (orderId: string) => `/api/v3/orders/${pathSegment(orderId)}`;
const accountOrdersPath = (accountId: string) => `/api/v3/accounts/${pathSegment(accountId)}/orders`;

/**
 * One DELETE attempt: 2xx is deleted, 404 (or 410 Gone) already absent: the goal state holds; either from something
 * other than the API (a proxy's page), or a 2xx carrying errors, is a failure (classifyDelete). Never throws.
 * Through `request` with the whole config (as the GET of an order): axios's method shorthands merge the
 * config once more per request, a measurable share of its cost at full speed.
 */
export function deleteOrder(http: AxiosInstance, orderId: string, accessToken: string, signal?: GenericAbortSignal): Promise<AttemptResult<DeleteOutcome>> {
  return attempt(() => http.request({ method: 'delete', url: orderPath(orderId), headers: bearer(accessToken), signal }), classifyDelete);
}

/**
 * One `GET /api/v3/orders/{id}`, for a dry run of a list of IDs: 200 with the order in its body
 * (`{"order": {…}}`) is there; 404 (or 410 Gone) with a JSON body is not found. Any other 200 or 404 (a
 * proxy's page, an empty body) is an answer not understood, never taken for the order or its absence. Never throws.
 */
export function checkOrder(http: AxiosInstance, orderId: string, accessToken: string, signal?: GenericAbortSignal): Promise<AttemptResult<CheckOutcome>> {
  return attempt(() => http.request({ method: 'get', url: orderPath(orderId), headers: bearer(accessToken), signal, maxContentLength: ORDER_BYTES }), classifyCheck);
}

export function classifyCheck(response: Pick<AxiosResponse, 'status' | 'data'>): CheckOutcome | undefined {
  const body = response.data;
  if (response.status === 200 && isObject(body) && isObject(body.order)) return 'would_delete';
  // Not found, said by the API (its JSON errors): a proxy's or a gateway's 404 says nothing of the order, and the dry run's resume would leave it out.
  return (response.status === 404 || response.status === 410) && saysNotFound(body) ? 'already_absent' : undefined;
}

/**
 * The largest answers kept, in bytes (any other: 1 MB, src/exsited/http.ts): one order with its lines, and a page of
 * a listing, up to 1,000 orders (a filter's largest pageSize) of up to 16 KB each. A page's JSON takes many times
 * its size once parsed (16 MB of tiny orders: ~290 MB), so the bound is the process's too.
 */
const ORDER_BYTES = 8 * 1024 * 1024;
const PAGE_BYTES = 16 * 1024 * 1024;

/** One page of `GET /api/v3/orders`, or of one account's orders. Never throws. */
export function listOrdersPage(
  http: AxiosInstance, page: { accountId?: string; limit: number; offset: number }, accessToken: string, signal?: GenericAbortSignal,
): Promise<AttemptResult<OrdersPage>> {
  const path = page.accountId === undefined ? '/api/v3/orders' : accountOrdersPath(page.accountId);
  const params = { limit: page.limit, offset: page.offset, order_by: 'created_on', direction: 'asc' };
  return attempt(() => http.get(path, { params, headers: bearer(accessToken), signal, maxContentLength: PAGE_BYTES }), parsePage);
}

/**
 * A DELETE's outcome, when its answer is the API's: a 2xx with no body or a JSON one without `errors` is deleted; a 404
 * or 410 is already absent when it says so in JSON, as the API says "not found" (an empty 404 is a gateway's "no
 * route" as often: a dry run's check asks the same). Anything not the API's (responses.ts notTheApis) is none.
 */
export function classifyDelete(response: Pick<AxiosResponse, 'status' | 'headers' | 'data'>): DeleteOutcome | undefined {
  const { status, data } = response;
  if (notTheApis(response) !== undefined) return undefined;
  if (status >= 200 && status < 300) return hasErrors(data) || unseenBody(response) ? undefined : 'deleted';
  return (status === 404 || status === 410) && saysNotFound(data) ? 'already_absent' : undefined;
}

const isObject = (data: unknown): data is Record<string, unknown> => !!data && typeof data === 'object' && !Array.isArray(data);
/** A body carrying Exsited's errors (`errors[]`, or any `errors`/`error` a server words its own way): a refusal, whatever the status says. */
const hasErrors = (data: unknown): boolean => isObject(data) &&
  ((Array.isArray(data.errors) ? data.errors.length > 0 : !!data.errors && typeof data.errors === 'object') || (!!data.error && data.error !== ''));
/**
 * "Not found" as the API says it: its JSON, with `errors` (a gateway's JSON 404, Kong's `{"message":"no Route matched"}`,
 * is none: second red team, recorded already_absent, and a resume skipped the orders).
 */
const saysNotFound = (data: unknown): boolean => isObject(data) && Array.isArray(data.errors);
/** A 2xx with a body that never came whole and was not said to be JSON: a page as likely as the API's (a DELETE again is safe). */
const unseenBody = ({ status, headers, data }: Pick<AxiosResponse, 'status' | 'headers' | 'data'>): boolean =>
  data === undefined && status !== 204 && status !== 205 && String(headers?.['content-length'] ?? '') !== '0' && !saysJson(headers?.['content-type']);

/** `{orders, pagination}`, or `{account: {orders, pagination}}` for one account's orders. */
function parsePage(response: Pick<AxiosResponse, 'status' | 'data'>): OrdersPage | undefined {
  if (response.status !== 200 || !response.data || typeof response.data !== 'object') return undefined;
  const data = response.data as { orders?: unknown; pagination?: { records?: unknown }; account?: { orders?: unknown; pagination?: { records?: unknown } } };
  const body = Array.isArray(data.orders) ? data : data.account;
  if (!body || !Array.isArray(body.orders)) return undefined;
  const orders = body.orders.filter((order): order is ListedOrder => !!order && typeof (order as ListedOrder).id === 'string');
  const total = Number(body.pagination?.records);
  return { orders, total: Number.isFinite(total) ? total : undefined };
}

const bearer = (accessToken: string) => ({ Authorization: `Bearer ${accessToken}` });

/** Sends one request and classifies what came back; `success` reads a successful answer. */
async function attempt<T>(request: () => Promise<AxiosResponse>, success: (response: AxiosResponse) => T | undefined): Promise<AttemptResult<T>> {
  try {
    const response = await request();
    const value = success(response);
    if (value !== undefined) return { kind: 'done', value, httpStatus: response.status };
    const failure = classifyFailure(response);
    // Its connection is never used again, whatever its first bytes let the socket's keeper think (exsited/http.ts): a page
    // that started as JSON (`{<html>`), or in an encoding the client does not read, kept it, and a gateway's stray 204
    // after it was taken for the next order's (third red team).
    if (failure.code === NOT_THE_API) (response.request as { socket?: { destroy?: () => void } } | undefined)?.socket?.destroy?.();
    return failure;
  } catch (error) {
    // The status line came and the body did not (statusLineOf): an outcome the status alone decides stands. A DELETE's
    // 2xx is deleted whatever its body (red team: retried, or left to the resume, it was recorded already_absent); a 5xx
    // is that 5xx, a 403 that 403 (red team: "no response" when the page was too big, or cut by a reset).
    const answer = statusLineOf(error);
    const value = answer ? success(answer as AxiosResponse) : undefined;
    if (answer && value !== undefined) return { kind: 'done', value, httpStatus: answer.status };
    if (isCancel(error)) return { kind: 'canceled' };
    // (A page's headers are enough to know it is no outcome: red team, a 2 MB proxy page was retried as "no usable answer".)
    if (answer && (!needsItsBody(answer.status) || notTheApis(answer) !== undefined)) return classifyFailure(answer);
    return { kind: 'retry', httpStatus: null, ...describeTransportError(error) };
  }
}

/**
 * Statuses whose answer is read from its body, when the status alone did not decide: a 2xx (an order, a page, or a
 * DELETE's answer not said to be JSON), and a 404 or 410 (the API's JSON errors, or a gateway's). Any other is
 * classified by its status; its body only gives the words (Exsited's error code, kept when it comes whole).
 */
const needsItsBody = (status: number): boolean => (status >= 200 && status < 300) || status === 404 || status === 410;

/** 401: renew; 408/429/5xx: retry; anything else: failed, with Exsited's error. */
export function classifyFailure(response: Pick<AxiosResponse, 'status' | 'statusText' | 'headers' | 'data'>): Unfinished {
  const { status } = response;
  const error = exsitedError(response as AxiosResponse);
  const data: unknown = response.data;
  const blank = typeof data === 'string' && data.trim() === '';
  const empty = (status === 404 || status === 410) && data !== undefined && !saysNotFound(data)
    ? (blank ? 'no body' : isObject(data) ? 'a JSON body without the API\'s errors' : 'a body that is not the API\'s JSON') : undefined;
  const page = notTheApis(response) ?? empty;
  // Where the status would be an outcome (a 2xx, a 404, a 410), a page is none, nor is a 404 without the API's JSON (a
  // gateway's "no route"): said as what it is, one cause however its status varies.
  if (page && ((status >= 200 && status < 300) || status === 404 || status === 410)) {
    return { kind: 'failed', httpStatus: status, code: NOT_THE_API,
      message: `HTTP ${status} with ${page}, not the API's answer: a proxy or a gateway answered (check --base-url and HTTPS_PROXY)` };
  }
  if (status === 401) return { kind: 'unauthorized', httpStatus: 401, ...error };
  // A firewall's 403 page, a proxy's 400 page: final as their status says, and one cause with the other pages (a proxy alternating
  // 403 and 404 pages was never halted: second red team).
  if (page && status >= 400 && status < 500 && !isRetryableStatus(status)) return { kind: 'failed', httpStatus: status, code: NOT_THE_API, message: error.message };
  if (isRetryableStatus(status)) return { kind: 'retry', httpStatus: status, ...error, retryAfterMs: retryAfterMs(response.headers?.['retry-after']) };
  if (status >= 200 && status < 300 && !hasErrors(response.data)) return { kind: 'failed', httpStatus: status, code: 'UNEXPECTED_RESPONSE', message: 'the answer was not understood' };
  return { kind: 'failed', httpStatus: status, ...error };
}
