import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { AuditJournal } from '../src/audit/journal.js';
import type { OrderRecord, RunSummary } from '../src/common/records.js';
import { failureCause } from '../src/common/domain.js';
import { buildRunReport } from '../src/report/run-report.js';
import { formatRunReport } from '../src/report/report-text.js';
import { formatSummary } from '../src/report/summary.js';
import { workDir } from './helpers/cli.js';
import { runEndFields } from './helpers/records.js';

/** A run as the console saw it and as its log tells it: 3 deleted, 1 already absent, 7 failed by 6 causes, a retry. */
function run(dryRun: boolean) {
  const orders: OrderRecord[] = dryRun
    ? [1, 2, 3].map((i) => ({ orderId: `ORD-${i}`, outcome: 'would_delete', httpStatus: null, attempts: 0, durationMs: 0 }))
    : [
      ...[1, 2, 3].map((i): OrderRecord => ({ orderId: `ORD-${i}`, outcome: 'deleted', httpStatus: 204, attempts: 1, durationMs: 5 })),
      { orderId: 'ORD-4', outcome: 'already_absent', httpStatus: 404, attempts: 1, durationMs: 5 },
      ...[5, 6, 7, 8, 9, 10, 11].map((i): OrderRecord => ({ orderId: `ORD-${i}`, outcome: 'failed', httpStatus: 409, attempts: 1, durationMs: 5, error: { code: `E${Math.min(i, 10)}`, message: `refused ${i}` } })),
    ];
  const count = (outcome: OrderRecord['outcome']) => orders.filter((o) => o.outcome === outcome).length;
  const summary: RunSummary = {
    selected: 12, deleted: count('deleted'), alreadyAbsent: count('already_absent'), failed: count('failed'), wouldDelete: count('would_delete'), skipped: 0,
    pending: 12 - orders.length, retries: dryRun ? 0 : 1, throttledMs: dryRun ? 0 : 1500, ratePerSecond: 4,
  };
  const log = join(workDir(), 'a.ndjson');
  const journal = new AuditJournal(log, 'r1', () => undefined);
  journal.start({ version: '1', baseUrl: 'https://api-stage.exsited.com', options: { dryRun }, source: { kind: 'text', path: 'ids.txt', sha256: 'a'.repeat(64), count: 12 } });
  if (!dryRun) journal.retry({ orderId: 'ORD-5', attempt: 1, httpStatus: 503, delayMs: 5 });
  for (const order of orders) journal.order(order);
  journal.end(runEndFields({ status: 'interrupted', exitCode: 130, durationMs: 2500, summary }));
  const causes = new Map<string, { count: number; example: OrderRecord }>();
  for (const o of orders.filter((x) => x.outcome === 'failed')) {
    const cause = failureCause(o);
    causes.set(cause, { count: (causes.get(cause)?.count ?? 0) + 1, example: causes.get(cause)?.example ?? o });
  }
  const console = formatSummary(summary, { runId: 'r1', status: 'interrupted', durationMs: 2500, auditLog: log, duplicates: 0, dryRun, checksOrders: dryRun, causes });
  return { log, console };
}

/** The counts and the failures by cause of a summary; what is one run's own (skipped, duration, rate, its log) left out. */
const counts = (text: string) => text.split('\n')
  .filter((l) => /^ {2}(selected|would delete|deleted|already absent|failed|pending|not checked|retries|throttled) |^Failures by cause:$|^ {3,}\d+ {2}|^ {2}… /.test(l));

describe('one human summary: the console\'s at a run\'s end and the report\'s of its log', () => {
  test.each([[false], [true]])('say the same counts, in the same words and units, and the same failures by cause (dry run: %s)', async (dryRun) => {
    const { log, console } = run(dryRun);
    const report = formatRunReport(await buildRunReport([log]), 'x');
    const shown = counts(console);
    expect(shown.length).toBeGreaterThan(2);
    expect(counts(report)).toEqual(shown);
    if (!dryRun) {
      expect(console).toContain('  throttling     no request answered 429; everyone waited 1.5 s');
      expect(console).toContain('  … and 1 more causes (report --html lists them all)');
    } else {
      expect(console).not.toMatch(/^ {2}(deleted|retries|throttled|rate) /m);
      // The dry run of a list stopped before 9 of its 12: not checked, never a resume's work.
      expect(shown).toContain('  pending        0');
      expect(shown).toContain('  not checked    9 (the dry run stopped before them: its resumes leave them out, a new dry run checks them)');
    }
  });
});
