/**
 * The run's domain: what happens to an order and how a run ends, and what these mean. Shared by the
 * engine that produces them, the audit journal that keeps them, and the reports that read them; what a
 * record holds is common/records.
 */

/**
 * The version of the audit log's record format, carried by run.start for every line of its run
 * (audit/records). 1: logs written before it was recorded; 2: this format.
 */
export const AUDIT_RECORD_VERSION = 2;

/** An order's outcome: what its one `order` line per run records. */
export const OUTCOMES = ['deleted', 'already_absent', 'failed', 'would_delete'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Outcomes in which the goal holds (the order is gone): a resume never sends such an order again. */
export const GOAL_REACHED: ReadonlySet<Outcome> = new Set<Outcome>(['deleted', 'already_absent']);

/** How a run ended: its `run.end` status. */
export const RUN_STATUSES = ['completed', 'failed', 'interrupted', 'halted', 'crashed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * Why a run ended as it did, in a fixed set of words (the metrics' `cause` label, run.end's `stopCause`,
 * the summary JSON): an alert can tell a deadline that resumes itself tomorrow from revoked credentials.
 * `none`: it went to its end; `failed_orders`, `absent_orders` (--fail-on-absent): it ended, with those;
 * halts: `deadline`, `failures` (--halt-after), `credentials` (the token refused, or ended by another client), `token_cache`,
 * `throttled` (a minute of nothing but 429s), `audit_log` (it could not be written), `service` (the server kept
 * failing: a listing before any deletion, or the token endpoint); `signal`; `refused`
 * (a guard or a person said no), `usage` (exit 2), `unreachable` (exit 5); `bug` (exit 70).
 */
export const STOP_CAUSES = ['none', 'failed_orders', 'absent_orders', 'deadline', 'failures', 'credentials', 'token_cache', 'throttled', 'audit_log',
  'service', 'signal', 'refused', 'usage', 'unreachable', 'bug'] as const;
export type StopCause = (typeof STOP_CAUSES)[number];

/**
 * Statuses after which a run waits for a person, rather than for an automatic resume (--auto-resume):
 * it finished on its own (`completed`, `failed`: failed orders or a refused guard), or a bug stopped it
 * (`crashed`: resuming would meet the bug again).
 */
export const WAITS_FOR_A_PERSON: ReadonlySet<RunStatus> = new Set<RunStatus>(['completed', 'failed', 'crashed']);

/** The code of an answer that is not the API's (exsited/responses' notTheApis): a proxy's or a gateway's page where the API's answer was due. */
export const NOT_THE_API = 'NOT_THE_API';

/**
 * Transport failures after which the server did answer, in a way that cannot be used: a body too big or cut off
 * (axios's ERR_BAD_RESPONSE), a switch to another protocol (EUPGRADE), a body that is not the gzip or deflate it
 * said (zlib's Z_*, Brotli's ERR__ERROR_*: axios asks for both), an answer that is not HTTP (llhttp's HPE_*), and a page
 * where the API's answer was due (NOT_THE_API: the token endpoint's 200 page).
 * Never said as "no response", "cannot connect" or "nothing reached it".
 */
export function isUnusableAnswer(code: string | undefined): boolean {
  return code === 'ERR_BAD_RESPONSE' || code === 'EUPGRADE' || code === NOT_THE_API || /^(Z_|HPE_|ERR__ERROR_)[A-Z0-9_]+$/.test(code ?? '');
}

/**
 * What made an order fail, in a few words: `HTTP 409 ORDER_LOCKED`, `HTTP 503` (the code left out when
 * it only repeats the status), `no response (ECONNRESET)`. The halt policy, the summary and the reports
 * group failures by it.
 */
export function failureCause(record: { httpStatus: number | null; error?: { code: string } }): string {
  const code = record.error?.code ?? '';
  if (record.httpStatus === null) return `${isUnusableAnswer(code) ? 'no usable answer' : 'no response'}${code ? ` (${code})` : ''}`;
  return code && code !== `HTTP_${record.httpStatus}` ? `HTTP ${record.httpStatus} ${code}` : `HTTP ${record.httpStatus}`;
}

/** Why a request was retried, in the same words as failureCause: `HTTP 429`, `no response (ETIMEDOUT)`. */
export function retryCause(record: { httpStatus?: number; errorCode?: string }): string {
  if (record.httpStatus !== undefined) return `HTTP ${record.httpStatus}`;
  return `${isUnusableAnswer(record.errorCode) ? 'no usable answer' : 'no response'}${record.errorCode ? ` (${record.errorCode})` : ''}`;
}

/** A retry's cause for the metrics' label, from a fixed set: a label never takes a server's words. */
export function retryLabel(httpStatus: number | undefined, errorCode: string | undefined): string {
  if (httpStatus === 429) return 'throttled';
  if (httpStatus === 401) return 'unauthorized';
  if (httpStatus !== undefined && httpStatus >= 500) return 'server_error';
  if (httpStatus === 408 || errorCode === 'ETIMEDOUT' || errorCode === 'ECONNABORTED') return 'timeout';
  if (errorCode) return 'connection';
  return 'other';
}

/** Whether two runs read the same input: the same kind of source, the same content (its sha256), wherever the file lay. */
export const sameInput = (a: { kind: string; sha256: string }, b: { kind: string; sha256: string }): boolean => a.kind === b.kind && a.sha256 === b.sha256;
