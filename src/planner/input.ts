import { statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { ResumeState } from '../audit/resume-state.js';
import type { SourceRecord } from '../common/records.js';
import { usageError } from '../common/errors.js';
import { secrets } from '../common/secrets.js';
import { holdsControl, quoted, shellQuote } from '../common/text.js';
import type { RunEvents } from '../engine/events.js';
import type { RunControl } from '../engine/run-control.js';
import { idFileFormat, type IdFileSpec } from '../sources/id-file.js';
import { orderIdValidator, type OrderIdValidator } from '../sources/order-id.js';
import { scanSource, type ScannedSource } from '../sources/scan.js';
import { parseShard, shardFilter, shardText, type Shard } from '../sources/shard.js';
import { spoolStdin } from '../sources/stdin-spool.js';
import type { SelectionDeps } from './selection.js';
import { describeBreakdown, type Breakdown } from './selection-stats.js';

/** The options that say which orders a run takes (a subset of the run's options). */
export interface InputOptions {
  ids?: string;
  filter?: string;
  format?: 'csv' | 'text';
  column?: string;
  idPattern?: string;
  shard?: Shard;
  force: boolean;
}

export interface PlanContext {
  runId: string;
  auditLog: string;
  control: RunControl;
  events: RunEvents;
  /** The API client, created on first use: a run refused for its input never loads the HTTP machinery. */
  api(): Promise<SelectionDeps>;
  /** Where `--ids -` reads from: a terminal (a person typing IDs) or a pipe. */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

/** The orders of this run, validated, with what run.start records about where they came from. */
export interface PreparedInput {
  spec: IdFileSpec;
  scanned: ScannedSource;
  source: SourceRecord;
  /** What a person reads before confirming: a filter selection's breakdown. */
  details: string[];
}

const FILTER_COLUMN = 'order_id';

/** Where a filter run writes its selection: beside its audit log. */
export const manifestPathOf = (auditLog: string) => `${auditLog.replace(/\.ndjson$/, '')}.manifest.csv`;

/**
 * The orders to process, validated (pass one): from --ids (a file, or stdin spooled beside the audit
 * log), from a filter's selection (listed into a manifest), or — for a resume — as the run recorded
 * them. Undefined when the run was stopped before the input was whole; nothing was deleted then.
 */
export async function prepareInput(options: InputOptions, resume: ResumeState | undefined, ctx: PlanContext): Promise<PreparedInput | undefined> {
  const recorded = resume?.source;
  const idPattern = options.idPattern ?? recorded?.idPattern;
  const shard = options.shard ?? (recorded?.shard ? parseShard(recorded.shard) : undefined);
  if (recorded) checkSameSet(recorded, options, ctx.auditLog);
  // A path with a control character, recorded before the options refused one: never printed or opened as it is
  // (it would forge lines of what is said about it); the person names the file again (red team).
  if (recorded && recorded.kind !== 'filter' && !options.ids && holdsControl(recorded.path)) {
    throw usageError(`${ctx.auditLog}: the run recorded its input as ${quoted(recorded.path, 200)}, a path with a control character; ` +
      'give the same file again with --ids (its sha256 is checked); nothing was sent');
  }
  const isInvalid = recordable(orderIdValidator(idPattern));
  const say = (text: string) => ctx.events.emit({ type: 'notice', level: 'info', text });
  let spec: IdFileSpec;
  let extra: Partial<SourceRecord> = {};
  let spared = 'nothing was sent';
  if (options.filter && !resume) {
    const selected = await selectByFilter(options.filter, isInvalid, ctx, say);
    if (!selected) return undefined;
    ({ spec, extra } = selected);
    spared = 'nothing was deleted';
  } else if (options.filter) {
    throw usageError('--filter cannot be combined with --resume of a started run: it deletes from its manifest and never lists again');
  } else if (options.ids === '-') {
    say(ctx.stdin.isTTY ? 'Reading order IDs from stdin: type or paste them, one per line, then Ctrl-D.' : 'Reading order IDs from stdin …');
    const path = await spoolStdin(`${ctx.auditLog}.${ctx.runId}.stdin`, ctx.control.stopping, ctx.stdin);
    if (!path) return undefined;
    spec = { path, format: idFileFormat(path, options.format ?? 'text'), column: options.column };
    extra = { stdin: true };
  } else if (options.ids) {
    spec = { path: options.ids, format: idFileFormat(options.ids, options.format ?? recorded?.format), column: options.column ?? recorded?.column };
  } else if (recorded) {
    const { kind, path, column, sha256: _sha256, count: _count, rows: _rows, duplicates: _duplicates, otherShards: _other, ...kept } = recorded;
    // As recorded, unless --force let a changed definition through (checkSameSet).
    const format = options.format ?? (kind === 'filter' ? 'csv' : (recorded.format ?? kind));
    spec = { path, format, column: options.column ?? (kind === 'filter' ? FILTER_COLUMN : column), exact: kind === 'filter' };
    extra = kept; // where the input came from (stdin, a filter's selection) stays on record
  } else {
    throw usageError('--ids or --filter is required');
  }

  // A fresh run's copy of stdin is its input only once the run starts: refused or stopped before, it goes.
  const spooled = extra.stdin === true && !recorded;
  // A pipe waits for its writer (`--ids <(generate-ids)`, a FIFO): said, since the run may wait there.
  if (!spooled && isPipe(spec.path)) say(`Reading order IDs from ${spec.path}, a pipe …`);
  let scanned: ScannedSource | undefined;
  try {
    scanned = await scanSource(spec, isInvalid, {
      finished: resume?.finished, reviewed: resume?.reviewed, inShard: shard ? shardFilter(shard) : undefined, spared, signal: ctx.control.stopping,
    });
  } catch (error) {
    if (!ctx.control.stopping.aborted) { // stopped while a pipe's writer was awaited: nothing was sent
      if (spooled) await rm(spec.path, { force: true });
      throw error;
    }
  }
  if (!scanned || ctx.control.stopping.aborted) {
    if (spooled) await rm(spec.path, { force: true });
    return undefined;
  }
  if (recorded && scanned.sha256 !== recorded.sha256 && !options.force) {
    throw usageError(`--resume: ${spec.path} is not the input the run started with (sha256 ${scanned.sha256.slice(0, 12)}… ` +
      `differs from the recorded ${recorded.sha256.slice(0, 12)}…); pass --force to resume with it anyway`);
  }
  if (scanned.layout.headerLine) say(`${spec.path}: line 1 (${quoted(scanned.layout.headerLine)}) is a header, not an order ID: skipped.`);
  if (scanned.unreviewed > 0) {
    say(`${scanned.unreviewed} listed order${scanned.unreviewed === 1 ? ' is' : 's are'} left out: the dry run this continues did not confirm ` +
      `${scanned.unreviewed === 1 ? 'it' : 'them'} (its check failed, or it stopped first). A resume deletes only what its dry run found; a new dry run checks the rest.`);
  }
  resume?.finished.clear();
  const kind: SourceRecord['kind'] = options.filter || (!options.ids && recorded?.kind === 'filter') ? 'filter' : spec.format;
  const column = scanned.layout.column ?? spec.column;
  const source: SourceRecord = {
    ...extra, kind, path: spec.path, format: spec.format, sha256: scanned.sha256, count: scanned.unique, rows: scanned.rows, duplicates: scanned.duplicates,
    ...(column ? { column } : {}), ...(idPattern ? { idPattern } : {}),
    ...(shard ? { shard: shardText(shard), otherShards: scanned.otherShards } : {}),
  };
  const breakdown = source.breakdown as Breakdown | undefined;
  return { spec, scanned, source, details: breakdown ? describeBreakdown(breakdown) : [] };
}

/** A filter's selection, listed into a manifest that becomes the run's input; undefined when the run was stopped meanwhile. */
async function selectByFilter(path: string, isInvalid: OrderIdValidator, ctx: PlanContext, say: (text: string) => void): Promise<{ spec: IdFileSpec; extra: Partial<SourceRecord> } | undefined> {
  // Loaded only for filter runs: the schema library costs ~90 ms of start-up that ID-file runs need not pay.
  const [{ readFilter }, { selectOrders }] = await Promise.all([import('../sources/filter-spec.js'), import('./selection.js')]);
  const filter = await readFilter(path, ctx.control.stopping).catch((error: unknown) => {
    if (ctx.control.stopping.aborted) return undefined; // stopped while a FIFO's writer was awaited
    throw error;
  });
  if (!filter || ctx.control.stopping.aborted) return undefined;
  say(`Selecting orders with ${path} …`);
  const selection = await selectOrders(filter, manifestPathOf(ctx.auditLog), await ctx.api(), isInvalid);
  if (!selection) return undefined;
  say(`Selected ${selection.selected} of ${selection.listed} orders listed (${selection.pages} pages); manifest: ${selection.manifestPath}`);
  if (selection.help) ctx.events.emit({ type: 'notice', level: selection.help.level, text: selection.help.lines.join('\n  ') });
  return {
    spec: { path: selection.manifestPath, format: 'csv', column: FILTER_COLUMN, exact: true },
    extra: {
      filter: { path, sha256: filter.sha256, match: filter.match, matchAll: filter.matchAll, scope: selection.scope },
      listed: selection.listed, selected: selection.selected, pages: selection.pages, breakdown: selection.breakdown,
    },
  };
}

/**
 * A resume deletes the set the run started with. What defines the set — the file (its sha256, checked
 * after reading), how it is read (format, column), which IDs are accepted, the shard — can only be
 * changed with --force: the same file read through another column is another set of orders.
 */
function checkSameSet(recorded: SourceRecord, options: InputOptions, auditLog: string): void {
  if (options.force) return;
  const filterRun = recorded.kind === 'filter';
  const recordedFormat = filterRun ? 'csv' : (recorded.format ?? recorded.kind);
  const recordedColumn = filterRun ? FILTER_COLUMN : recorded.column;
  const changes: string[] = [];
  if (options.format !== undefined && options.format !== recordedFormat) changes.push(`--format ${options.format} (the run read it as ${recordedFormat})`);
  if (options.column !== undefined && options.column.trim().toLowerCase() !== (recordedColumn ?? '').trim().toLowerCase()) {
    changes.push(`--column ${shellQuote(options.column)} (the run read the column ${recordedColumn ? quoted(recordedColumn) : 'of a text file, which has none'})`);
  }
  if (options.idPattern !== undefined && options.idPattern !== recorded.idPattern) {
    changes.push(`--id-pattern ${shellQuote(options.idPattern)} (the run used ${recorded.idPattern ? quoted(recorded.idPattern) : 'the default'})`);
  }
  if (options.shard && shardText(options.shard) !== recorded.shard) {
    changes.push(`--shard ${shardText(options.shard)} (the run was ${recorded.shard ? `shard ${recorded.shard}` : 'not sharded'})`);
  }
  if (changes.length === 0) return;
  throw usageError(`--resume: ${auditLog} records a different set of orders than ${changes.join(', ')} would select; ` +
    'omit the option to continue the recorded run, or pass --force to change it; nothing was sent');
}

function isPipe(path: string): boolean {
  try {
    return statSync(path).isFIFO();
  } catch {
    return false; // reading it says what is wrong
  }
}

/**
 * The validator, with one more reason: an ID that holds a credential this process holds (the client ID, whole,
 * is one: `ORD-<client id>-1`) would be written to the audit log redacted, and its line could name no order
 * (red team: a deletion recorded as `ORD-[REDACTED]-1`). Refused as any invalid ID is, before a request.
 */
function recordable(isInvalid: OrderIdValidator): OrderIdValidator {
  return (id) => isInvalid(id) ?? (!secrets.holds(id) ? undefined : 'holds a credential of this run (the client ID or a secret), which the audit log never writes: its line could not name the order');
}
