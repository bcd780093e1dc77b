import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import type { AxiosInstance } from 'axios';
import { stringify } from 'csv-stringify/sync';
import { CleanupError, ExitCode, refusal } from '../common/errors.js';
import { describeFileError } from '../common/files.js';
import { failureCause } from '../common/domain.js';
import { IdSet } from '../common/id-set.js';
import { quoted, spreadsheetSafe } from '../common/text.js';
import type { RunEvents } from '../engine/events.js';
import { sendWithRetry, type RequestDeps } from '../engine/retrying-request.js';
import { TokenError, tokenLost } from '../exsited/auth.js';
import { firstRead, readUntilReached, unreachableError } from '../guards/credentials.js';
import { firstToken, nothingReached } from '../guards/reach.js';
import { listOrdersPage, type ListedOrder, type OrdersPage } from '../exsited/orders.js';
import { criterionChecks, manifestColumns, matcherOf, type OrderFilter } from '../sources/filter-spec.js';
import { widenable, type OrderIdValidator } from '../sources/order-id.js';
import { PageCursor } from './page-cursor.js';
import { SelectionStats, type Breakdown, type FilterHelp } from './selection-stats.js';

export interface SelectionDeps extends RequestDeps {
  http: AxiosInstance;
  /** Told about every page (selection.page), for progress. */
  events: RunEvents;
  /** --reach-wait: how long the first token, and each page of the listing, wait for an API that cannot be reached (guards/reach). */
  reachWaitMs: number;
}

export interface Selection {
  manifestPath: string;
  selected: number;
  listed: number;
  pages: number;
  sample: string[];
  /** `all`: the whole order listing was read; `accounts`: only the orders of the accounts named. */
  scope: 'all' | 'accounts';
  breakdown: Breakdown;
  /** Criterion values no listed order has (a typo?). */
  /** When nothing or everything matched: each criterion's exclusions, and the likely fix. */
  help: FilterHelp | undefined;
}

const SHOWN_ODD_IDS = 20;


/**
 * Pages through the orders (all of them, or those of each `accountId`), evaluates the filter on each,
 * and writes the selected ones to a manifest CSV (order_id plus the fields the criteria read), fsync'ed
 * and renamed into place, before anything is deleted. When the total shrinks between pages (orders
 * deleted by someone else shift later pages down), the next offset steps back by as much, so no
 * remaining order is skipped; IDs already seen are ignored. A server that keeps repeating pages, or
 * pages past twice the total it announced, is refused rather than followed forever.
 * Authenticates first: a refusal is exit 3, an API never reached (tried for 30 s) exit 5, one answering only errors exit 4, with nothing listed.
 * Returns undefined when the run is stopped while listing.
 */
export async function selectOrders(filter: OrderFilter, manifestPath: string, deps: SelectionDeps, isInvalid: OrderIdValidator): Promise<Selection | undefined> {
  const firstContact = Date.now(); // the first token and the first page share one --reach-wait
  try {
    const say = (text: string) => deps.events.emit({ type: 'notice', level: 'warn', text });
    await firstToken({ ...deps, say, since: firstContact });
    // With a pre-issued token the listing is the first contact: an API not reached is waited for, then exit 5 said plainly
    // (red team: exit 4, "listing orders failed at offset 0: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9").
    if (deps.tokens.preIssued && !(await firstRead({ ...deps, since: firstContact }, say))) return undefined;
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    // The reach guard's words end with what was sent (nothing), said once (red team: "nothing was deleted; nothing was selected or deleted").
    if (error.kind === 'unreachable') throw unreachableError(deps.http.defaults.baseURL ?? 'the API', error.message, error.code);
    if (error.kind === 'unavailable' && deps.control.stopping.aborted) return undefined; // stopped while waiting
    throw tokenLostWhileListing(error);
  }
  let manifest: Manifest | undefined;
  try {
    manifest = new Manifest(manifestPath);
    const picked = new Picked(filter, isInvalid, manifest);
    for (const accountId of filter.criteria.accountId ?? [undefined]) {
      if (!(await listPages(filter, accountId, { ...deps, since: firstContact }, picked))) return undefined;
    }
    picked.refuseOddIds();
    manifest.commit();
    const { selected, listed, pages, sample, stats } = picked;
    return { manifestPath, selected, listed, pages, sample, scope: filter.criteria.accountId ? 'accounts' : 'all', breakdown: stats.breakdown, help: stats.help(selected, listed) };
  } catch (error) {
    // The token lost between two pages (renewal refused, the endpoint failing): said as before the first (red team: exit 70, "a bug").
    if (error instanceof TokenError) {
      if (deps.control.stopping.aborted) return undefined;
      throw tokenLostWhileListing(error);
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) throw error;
    throw new CleanupError(ExitCode.halted, `the manifest ${manifestPath} could not be written (${describeFileError(error)}); nothing was deleted: ` +
      'free the space, then run it again');
  } finally {
    manifest?.close();
  }
}

/** The same words and cause as a run that loses its token while deleting (exsited/auth's tokenLost), before anything was selected. */
function tokenLostWhileListing(error: TokenError): CleanupError {
  const { message, cause } = tokenLost(error);
  return new CleanupError(error.kind === 'rejected' ? ExitCode.refused : ExitCode.halted, `${message}; nothing was selected or deleted`, cause);
}

/**
 * Pages through one listing (all orders, or one account's) into `picked`, where planner/page-cursor says:
 * orders deleted by someone else meanwhile (a shrinking total) move later ones down, and the stretch they
 * moved into is read again before the listing goes on (red team: an order skipped, "Selected 6 of 8", exit 0).
 * A server that keeps answering nothing new, or pages past twice the total it announced, is refused. False
 * when the run was stopped.
 */
async function listPages(filter: OrderFilter, accountId: string | undefined, deps: SelectionDeps & { since: number }, picked: Picked): Promise<boolean> {
  const cursor = new PageCursor(filter.pageSize);
  for (;;) {
    const { offset, limit } = cursor.next();
    const page = await readPage(deps, picked, { accountId, offset, limit });
    if (!page) return false;
    const step = cursor.answered(page.orders.length, page.total, page.fresh);
    if (step === 'done') return true;
    if (step === 'stalled') {
      throw new CleanupError(ExitCode.halted, `listing orders: the server keeps answering pages with nothing new (offset ${offset}, ` +
        `${picked.pages} pages); it may be ignoring offset. Stopped rather than page forever; nothing was deleted`);
    }
  }
}

/** One page read into `picked` (and told: selection.page): its orders, total and how many were new; undefined when the run was stopped. */
async function readPage(deps: SelectionDeps & { since: number }, picked: Picked, page: { accountId: string | undefined; offset: number; limit: number }) {
  const { accountId, offset, limit } = page;
  const send: Parameters<typeof sendWithRetry<OrdersPage>>[0] = (token, signal) => listOrdersPage(deps.http, { accountId, limit, offset }, token, signal);
  const answer = await pageRead(send, deps, { accountId, offset, first: picked.pages === 0 });
  if (!answer) return undefined;
  if (!answer.ok) {
    const { httpStatus, code, message } = answer.failure;
    // Said as a failure's cause is (`HTTP 503`, `HTTP 409 LOCKED`, `no response (ECONNRESET)`): never `HTTP 503 HTTP_503`, nor Node's own message
    // (`connect ECONNREFUSED 127.0.0.1:9`); a message that names its status itself (a proxy's page) once.
    throw new CleanupError(ExitCode.halted, `listing orders failed at offset ${offset}${accountId ? ` of account ${accountId}` : ''}: ` +
      `${httpStatus && message.startsWith(`HTTP ${httpStatus} `) ? message : `${failureCause({ httpStatus, error: { code } })}${httpStatus ? `: ${message}` : ''}`}; ` +
      'nothing was deleted. Run it again once the API answers' +
      // A page bounded by --timeout-ms, answer and all, or by its size: what a person can change (red team).
      (code === 'ETIMEDOUT' ? ` (a page must come whole within --timeout-ms; a slow API may need a larger one, or a smaller pageSize)` : '') +
      (code === 'ERR_BAD_RESPONSE' ? ` (a page's answer was cut short, or over the 16 MB a page may be: if its orders are large, a smaller pageSize)` : ''));
  }
  const fresh = picked.page(answer.value.orders);
  deps.events.emit({ type: 'selection.page', pages: picked.pages, listed: picked.listed, selected: picked.selected });
  return { ...answer.value, fresh };
}

/**
 * A page of the listing, read until the API answers it. The selection's first page is the run's first contact
 * with the orders (they may be served apart from the token endpoint): a gateway's 502, 503 or 504, or a
 * connection that reached nothing, is waited for as the first token is (guards/reach), within the same
 * --reach-wait, so that a service restarting as a nightly run starts does not fail it. A later page is
 * waited for the same way, --reach-wait from its first failure: the listing is reads only, and a restart
 * halfway through a long one should not fail the night either. Then exit 4, "listing orders failed" (the API
 * answered before: a service gone, not a wrong address). A page that timed out or came cut short is not
 * waited for: what to change is said with it (readPage). The token endpoint's own failures meanwhile are said
 * as at any page.
 */
async function pageRead(send: Parameters<typeof sendWithRetry<OrdersPage>>[0], deps: SelectionDeps & { since: number },
  page: { accountId: string | undefined; offset: number; first: boolean }) {
  try {
    const say = (text: string) => deps.events.emit({ type: 'notice', level: 'warn', text });
    const reach = page.first ? { answeredBefore: true } : { answeredBefore: true, stopped: true, since: undefined };
    return await readUntilReached({ ...deps, ...reach }, say, send, nothingReached);
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    if (error.kind === 'unavailable' && deps.control.stopping.aborted) return undefined; // stopped while waiting
    if (!error.about.read || (error.kind !== 'server' && error.kind !== 'unreachable')) throw error;
    const where = `listing orders failed at offset ${page.offset}${page.accountId ? ` of account ${page.accountId}` : ''}`;
    throw new CleanupError(ExitCode.halted, `${where}: ${error.message}${error.kind === 'server' ? '; nothing was deleted' : ''}. Run it again once the API answers`, 'service');
  }
}

/** What the filter picked from the listing so far: every listed order counted once, the selected ones written to the manifest. */
class Picked {
  readonly stats: SelectionStats;
  readonly sample: string[] = [];
  listed = 0;
  selected = 0;
  pages = 0;
  private readonly seen = new IdSet();
  private readonly matches: (order: ListedOrder) => boolean;
  private readonly columns: ReturnType<typeof manifestColumns>;
  private readonly oddIds: string[] = [];
  private odd = 0;
  /** Of the odd IDs, those no --id-pattern lets through (a credential in it, a `/`, a space: sources/order-id's `widenable`). */
  private fixed = 0;

  constructor(filter: OrderFilter, private readonly isInvalid: OrderIdValidator, private readonly manifest: Manifest) {
    const checks = criterionChecks(filter);
    this.matches = matcherOf(checks);
    this.columns = manifestColumns(filter);
    this.stats = new SelectionStats(filter.criteria, checks);
    manifest.write(stringify([this.columns.map(([name]) => name)]));
  }

  /** One page of the listing; returns how many of its orders were new. */
  page(orders: ListedOrder[]): number {
    this.pages++;
    let fresh = 0;
    for (const order of orders) {
      if (!this.seen.add(order.id)) continue;
      fresh++;
      this.listed++;
      this.stats.listed(order);
      if (this.matches(order)) this.select(order);
    }
    return fresh;
  }

  /** A listed ID that cannot be sent safely refuses the whole selection: it would name another order, or change the path. */
  refuseOddIds(): void {
    const { odd } = this;
    if (odd === 0) return;
    throw refusal(`the listing holds ${odd} order${odd === 1 ? '' : 's'} that the filter selects whose ID cannot be sent safely ` +
      `(it would name another order, or change the request path); nothing was deleted:\n${this.oddIds.join('\n')}` +
      `${odd > SHOWN_ODD_IDS ? `\n  … and ${odd - SHOWN_ODD_IDS} more` : ''}\n` +
      (this.fixed === odd
        // No pattern lets them through (red team: --id-pattern was suggested for IDs holding a credential, a space or a "?", and could not help).
        ? 'Exclude them in the filter (e.g. "idPattern"): IDs refused for these reasons are refused whatever --id-pattern says'
        : `Exclude them in the filter (e.g. "idPattern"), or widen the accepted IDs with --id-pattern if they are right${this.fixed > 0 ? ' (those refused for another reason than the pattern stay refused whatever it says)' : ''}`));
  }

  private select(order: ListedOrder): void {
    this.selected++;
    this.stats.selected(order);
    // The ID exactly as listed, validated as any input is: "PROD-2 " is refused, never trimmed into "PROD-2".
    const reason = this.isInvalid(order.id);
    if (reason) {
      if (!widenable(reason)) this.fixed++;
      if (++this.odd <= SHOWN_ODD_IDS) this.oddIds.push(`  ${quoted(order.id)}: ${reason}`);
      return;
    }
    if (this.sample.length < 5) this.sample.push(order.id);
    this.manifest.write(stringify([this.columns.map(([, read], i) => (i === 0 ? read(order) : spreadsheetSafe(read(order))))]));
  }
}

/**
 * The manifest, written to a new name created exclusively (a file or symlink planted at a predictable name
 * is never written through), fsync'ed and renamed into place only when the selection is whole; removed otherwise.
 */
class Manifest {
  private readonly temp: string;
  private fd: number | undefined;
  private committed = false;

  constructor(private readonly path: string) {
    this.temp = `${path}.${randomBytes(6).toString('hex')}.partial`;
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(this.temp, 'wx', 0o644);
  }

  write(text: string): void {
    writeSync(this.fd as number, text);
  }

  commit(): void {
    fsyncSync(this.fd as number);
    renameSync(this.temp, this.path);
    this.committed = true;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (!this.committed) rmSync(this.temp, { force: true });
  }
}
