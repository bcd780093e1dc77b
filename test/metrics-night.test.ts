import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import { RunEvents } from '../src/engine/events.js';
import { Console } from '../src/report/console.js';
import { reportMetrics } from '../src/report/metrics.js';
import { buildRunReport } from '../src/report/run-report.js';
import { workDir, writeFile } from './helpers/cli.js';
import { SOURCE } from './helpers/records.js';

const line = (runId: string, fields: Record<string, unknown>) => JSON.stringify({ level: 'info', time: '2026-12-01T03:00:00.000Z', runId, ...fields });

/** The metrics file as a run writes it once its deletions start, in an --auto-resume night that continued a run of SOURCE's list (a dry run and its resume, killed). */
async function selectedWhenStarted(input: { kind: string; sha256: string }): Promise<number> {
  const dir = workDir();
  const log = writeFile(dir, 'a.ndjson', [
    line('d1', { event: 'run.start', version: '1', baseUrl: 'http://x', source: { ...SOURCE, count: 3 }, options: { dryRun: true } }),
    ...['A', 'B', 'C'].map((orderId) => line('d1', { event: 'order', orderId, outcome: 'would_delete', httpStatus: null, attempts: 0, durationMs: 0 })),
    line('d2', { event: 'run.start', version: '1', baseUrl: 'http://x', source: { ...SOURCE, count: 3 }, options: {}, resumeOf: 'd1' }),
  ].join('\n'));
  const carried = await buildRunReport([log]);
  const events = new RunEvents();
  const file = join(dir, 'm.prom');
  const sink = new PassThrough().resume();
  const metrics = reportMetrics(events, new Console('json', sink, sink), {
    file, job: 'j', shard: 'all', dryRun: false, intervalMs: 60_000, rate: () => Infinity,
    throttling: () => ({ requests: 0, answered429: 0, waitedMs: 0 }), carried, input,
  });
  events.emit({ type: 'deletion.started', total: 3, dryRun: false });
  await metrics.flush();
  return Number(/^exsited_cleanup_orders_selected (\S+)$/m.exec(readFileSync(file, 'utf8'))?.[1]);
}

describe('the metrics of an --auto-resume night while its new run deletes', () => {
  test('a new run of the list the continued run read counts its orders once; another list\'s are added (red team: 400 for 200)', async () => {
    expect(await selectedWhenStarted({ kind: SOURCE.kind, sha256: SOURCE.sha256 })).toBe(3);
    expect(await selectedWhenStarted({ kind: SOURCE.kind, sha256: 'b'.repeat(64) })).toBe(6);
  });
});
