import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import type { AxiosInstance } from 'axios';
import { stringify } from 'csv-stringify/sync';
import { CleanupError, ExitCode, refusal } from '../common/errors.js';
import { describeFileError } from '../common/files.js';
import { quoted, spreadsheetSafe } from '../common/text.js';
import type { RunEvents } from '../engine/events.js';
import { sendWithRetry, type RequestDeps } from '../engine/retrying-request.js';
import { TokenError } from '../exsited/auth.js';
import { listOrdersPage } from '../exsited/orders.js';
import { manifestColumns, orderMatcher, type OrderFilter } from '../sources/filter-spec.js';
import type { OrderIdValidator } from '../sources/order-id.js';
import { SelectionStats, type Breakdown } from './selection-stats.js';

export interface SelectionDeps extends RequestDeps {
  http: AxiosInstance;
  /** Told about every page (selection.page), for progress. */
  events: RunEvents;
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
  hints: string[];
}

const SHOWN_ODD_IDS = 20;

/** Pages that add nothing new, in a row, before the server is taken to ignore `offset`. */
const STALLED_PAGES = 3;

/**
 * Pages through the orders (all of them, or those of each `accountId`), evaluates the filter on each,
 * and writes the selected ones to a manifest CSV (order_id plus the fields the criteria read), fsync'ed
 * and renamed into place, before anything is deleted. When the total shrinks between pages (orders
 * deleted by someone else shift later pages down), the next offset steps back by as much, so no
 * remaining order is skipped; IDs already seen are ignored. A server that keeps repeating pages, or
 * pages past twice the total it announced, is refused rather than followed forever.
 * Authenticates first: a refusal is exit 3, an unreachable endpoint exit 4, with nothing listed.
 * Returns undefined when the run is stopped while listing.
 */
export async function selectOrders(filter: OrderFilter, manifestPath: string, deps: SelectionDeps, isInvalid: OrderIdValidator): Promise<Selection | undefined> {
  try {
    await deps.tokens.get(deps.control.aborting);
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    const what = error.kind === 'cache' ? error.message : `authentication failed: ${error.message}`;
    throw new CleanupError(error.kind === 'rejected' ? ExitCode.refused : ExitCode.halted, `${what}; nothing was selected or deleted`);
  }
  const matches = orderMatcher(filter);
  const columns = manifestColumns(filter);
  const stats = new SelectionStats(filter.criteria);
  const seen = new Set<string>();
  const sample: string[] = [];
  const oddIds: string[] = [];
  let odd = 0;
  let listed = 0;
  let selected = 0;
  let pages = 0;
  // A new name, created exclusively: a file or symlink planted at a predictable name is never written through.
  const temp = `${manifestPath}.${randomBytes(6).toString('hex')}.partial`;
  let fd: number | undefined;
  let written = false;
  try {
    mkdirSync(dirname(manifestPath), { recursive: true });
    fd = openSync(temp, 'wx', 0o644);
    return await listInto(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) throw error;
    throw new CleanupError(ExitCode.halted, `the manifest ${manifestPath} could not be written (${describeFileError(error)}); nothing was deleted: ` +
      'free the space, then run it again');
  } finally {
    if (fd !== undefined) closeSync(fd);
    if (!written) rmSync(temp, { force: true });
  }

  async function listInto(fd: number): Promise<Selection | undefined> {
    writeSync(fd, stringify([columns.map(([name]) => name)]));
    for (const accountId of filter.criteria.accountId ?? [undefined]) {
      let offset = 0;
      let lastTotal: number | undefined;
      let maxPages = Number.POSITIVE_INFINITY;
      let stalled = 0;
      for (;;) {
        const answer = await sendWithRetry(
          (token, signal) => listOrdersPage(deps.http, { accountId, limit: filter.pageSize, offset }, token, signal), deps, () => undefined);
        if (!answer) return undefined;
        if (!answer.ok) {
          const { httpStatus, code, message } = answer.failure;
          throw new CleanupError(ExitCode.halted, `listing orders failed at offset ${offset}${accountId ? ` of account ${accountId}` : ''}: ` +
            `${httpStatus ? `HTTP ${httpStatus} ` : ''}${code}: ${message}; nothing was deleted`);
        }
        const { orders, total } = answer.value;
        pages++;
        if (lastTotal === undefined && total !== undefined) maxPages = 2 * Math.ceil(total / filter.pageSize) + 10;
        let fresh = 0;
        for (const order of orders) {
          if (seen.has(order.id)) continue;
          seen.add(order.id);
          fresh++;
          listed++;
          stats.listed(order);
          if (!matches(order)) continue;
          selected++;
          stats.selected(order);
          // The ID exactly as listed, validated as any input is: "PROD-2 " is refused, never trimmed into "PROD-2".
          const reason = isInvalid(order.id);
          if (reason) {
            if (++odd <= SHOWN_ODD_IDS) oddIds.push(`  ${quoted(order.id)}: ${reason}`);
            continue;
          }
          if (sample.length < 5) sample.push(order.id);
          writeSync(fd, stringify([columns.map(([, read], i) => (i === 0 ? read(order) : spreadsheetSafe(read(order))))]));
        }
        deps.events.emit({ type: 'selection.page', pages, listed, selected });
        if (orders.length === 0) break;
        stalled = fresh === 0 ? stalled + 1 : 0;
        if (stalled >= STALLED_PAGES || pages > maxPages) {
          throw new CleanupError(ExitCode.halted, `listing orders: the server keeps answering pages with nothing new (offset ${offset}, ` +
            `${pages} pages); it may be ignoring offset. Stopped rather than page forever; nothing was deleted`);
        }
        const shrunk = lastTotal !== undefined && total !== undefined ? Math.max(0, lastTotal - total) : 0;
        offset = Math.max(0, offset + orders.length - shrunk);
        lastTotal = total ?? lastTotal;
        // Without a total, only an empty page ends the listing: a server may cap `limit` below pageSize.
        if (total !== undefined && offset >= total) break;
      }
    }
    if (odd > 0) {
      throw refusal(`the listing holds ${odd} order${odd === 1 ? '' : 's'} that the filter selects whose ID cannot be sent safely ` +
        `(it would name another order, or change the request path); nothing was deleted:\n${oddIds.join('\n')}` +
        `${odd > SHOWN_ODD_IDS ? `\n  … and ${odd - SHOWN_ODD_IDS} more` : ''}\n` +
        'Exclude them in the filter (e.g. "idPattern"), or widen the accepted IDs with --id-pattern if they are right');
    }
    fsyncSync(fd);
    renameSync(temp, manifestPath);
    written = true;
    return {
      manifestPath, selected, listed, pages, sample, scope: filter.criteria.accountId ? 'accounts' : 'all', breakdown: stats.breakdown, hints: stats.hints(),
    };
  }
}
