import { describe, expect, test } from '@jest/globals';
import type { AuditRecord } from '../src/audit/records.js';
import { TimelineBuilder } from '../src/report/run-timeline.js';

const T0 = Date.parse('2026-11-28T10:00:00.000Z');
const time = (ms: number) => new Date(T0 + ms).toISOString();
const source = { kind: 'text' as const, path: 'ids.txt', sha256: 'a'.repeat(64), count: 10 };

function start(runId: string, ms: number, extra: Record<string, unknown> = {}): AuditRecord {
  return { event: 'run.start', runId, time: time(ms), version: '1', baseUrl: 'http://x', source, options: {}, ...extra } as AuditRecord;
}
function order(ms: number, outcome: string, extra: Record<string, unknown> = {}): AuditRecord {
  return { event: 'order', runId: 'r', time: time(ms), orderId: `O-${ms}`, outcome, httpStatus: 204, attempts: 1, durationMs: 10, ...extra } as AuditRecord;
}
const retry = (ms: number, extra: Record<string, unknown>): AuditRecord => ({ event: 'order.retry', runId: 'r', time: time(ms), orderId: 'O', attempt: 1, delayMs: 5, ...extra }) as AuditRecord;
const end = (ms: number, status = 'completed'): AuditRecord => ({ event: 'run.end', runId: 'r', time: time(ms), status, exitCode: 0, durationMs: ms }) as AuditRecord;

/** A log's last run chain, gathered into `builder`. */
function gather(builder: TimelineBuilder, auditLog: string, records: AuditRecord[]): void {
  const chain = builder.chain(auditLog);
  for (const record of records) chain.record(record);
  builder.add(chain);
}

function build(records: AuditRecord[], intervalMs?: number) {
  const builder = new TimelineBuilder();
  gather(builder, 'a.ndjson', records);
  return builder.finish(intervalMs);
}

describe('TimelineBuilder', () => {
  test('counts outcomes, retries and failures by cause per interval; the interval picked gives about 240 across the run', () => {
    const records = [start('r', 0)];
    for (let ms = 10; ms < 60_000; ms += 10) records.push(order(ms, ms % 1000 === 0 ? 'already_absent' : 'deleted'));
    records.push(order(30_005, 'failed', { httpStatus: 409, attempts: 3, error: { code: 'ORDER_LOCKED', message: 'm' } }));
    records.push(retry(30_001, { httpStatus: 429 }), retry(30_002, { httpStatus: 503 }), retry(30_003, { errorCode: 'ECONNRESET' }), retry(30_004, { httpStatus: 429 }));
    records.push(end(60_000));
    const t = build(records);
    expect(t.intervalMs).toBe(1000); // 60 s / 240 = 250 ms, rounded up to a slot width
    const [run] = t.segments;
    expect(run!.intervals).toHaveLength(61);
    const sum = (key: string) => run!.intervals.reduce((s, i) => s + (i.counts[key as never] ?? 0), 0);
    expect(sum('deleted')).toBe(5999 - 59);
    expect(sum('alreadyAbsent')).toBe(59);
    expect(run!.intervals[30]!.counts).toEqual({ deleted: 99, alreadyAbsent: 1, failed: 1, 'failed HTTP 409 ORDER_LOCKED': 1, 'retry HTTP 429': 2, 'retry HTTP 503': 1, 'retry no response (ECONNRESET)': 1 });
    expect(t.series.outcomes).toEqual(['deleted', 'alreadyAbsent', 'failed']);
    expect(t.series.causes[0]).toBe('retry HTTP 429'); // the largest cause first
    expect(t.series.causes).toHaveLength(4);
  });

  test('a long run moves to wider slots as it goes: counts stay exact, memory flat', () => {
    const records = [start('r', 0)];
    const hours = 10;
    for (let ms = 0; ms < hours * 3_600_000; ms += 500) records.push(order(ms, 'deleted'));
    records.push(end(hours * 3_600_000));
    const t = build(records);
    expect(t.intervalMs).toBe(300_000); // 10 h / 240 = 150 s → 5 min
    const [run] = t.segments;
    expect(run!.intervals).toHaveLength(121);
    expect(run!.intervals.slice(0, 120).every((i) => i.counts.deleted === 600)).toBe(true);
    expect(run!.intervals.reduce((s, i) => s + (i.counts.deleted ?? 0), 0)).toBe(hours * 7200);
  });

  test('an interval asked for is kept when the slots allow it', () => {
    const records = [start('r', 0), order(150, 'deleted'), order(250, 'deleted'), order(1_950, 'deleted'), end(2_000)];
    const t = build(records, 200);
    expect(t.intervalMs).toBe(200);
    expect(t.segments[0]!.intervals.map((i) => i.counts.deleted ?? 0)).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
  });

  test('pauses (a Retry-After everyone waits out, the service failing) and the pace, per interval; overlapping pauses counted once', () => {
    const records: AuditRecord[] = [
      start('r', 0),
      { event: 'throttle', runId: 'r', time: time(2_500), kind: 'cut', windowMs: 900, answers: 20, share: 0.5, baseline: 0, acceptedRate: 40, rateBefore: null, rateAfter: 36, ceiling: 40, pauseMs: 1000 } as AuditRecord,
      { event: 'pace', runId: 'r', time: time(4_200), rps: 40 } as AuditRecord,
      { event: 'service', runId: 'r', time: time(3_000), state: 'failing', failures: 15, answers: 20 } as AuditRecord,
      { event: 'service', runId: 'r', time: time(5_500), state: 'answering', failures: 0, answers: 1, failingMs: 2500 } as AuditRecord,
      { event: 'throttle', runId: 'r', time: time(7_000), kind: 'lift', windowMs: 900, answers: 20, share: 0, baseline: 0, acceptedRate: 400, rateBefore: 90, rateAfter: null, ceiling: null, pauseMs: 0 } as AuditRecord,
      end(8_000),
    ];
    const t = build(records, 1000);
    const run = t.segments[0]!;
    expect(run.intervals.map((i) => i.pausedMs)).toEqual([0, 0, 500, 1000, 1000, 500, 0, 0, 0]);
    expect(run.intervals.map((i) => i.paceRps)).toEqual([null, null, 36, 36, 40, 40, 40, null, null]);
    expect(run.throttles.map((m) => m.kind)).toEqual(['cut', 'lift']);
    expect(run.pauses).toEqual([{ fromMs: T0 + 2500, toMs: T0 + 3500, why: 'throttled' }, { fromMs: T0 + 3000, toMs: T0 + 5500, why: 'service failing' }]);
  });

  test('a service still failing when the run ended is a pause to its end', () => {
    const t = build([start('r', 0), { event: 'service', runId: 'r', time: time(1_000), state: 'failing', failures: 15, answers: 20 } as AuditRecord, order(3_000, 'failed', { httpStatus: 503 })], 1000);
    expect(t.segments[0]!.pauses).toEqual([{ fromMs: T0 + 1000, toMs: T0 + 3000, why: 'service failing' }]);
    expect(t.segments[0]!.status).toBeNull(); // killed: no run.end
  });

  test('durations: exact percentiles, a 1-2-5 histogram, orders by attempts; dry-run lines have none', () => {
    const records = [start('r', 0)];
    for (let i = 1; i <= 1000; i++) records.push(order(i, 'deleted', { durationMs: i, attempts: i <= 900 ? 1 : 2 }));
    records.push(order(1001, 'would_delete', { durationMs: 0 }));
    const { latency } = build(records);
    expect(latency.orders).toBe(1000);
    expect(latency.percentiles).toEqual({ p50: 500, p90: 900, p99: 990, max: 1000 });
    expect(latency.histogram.map((h) => [h.fromMs, h.toMs, h.orders])).toEqual([
      [0, 1, 0], [1, 2, 1], [2, 5, 3], [5, 10, 5], [10, 20, 10], [20, 50, 30], [50, 100, 50], [100, 200, 100], [200, 500, 300], [500, 1000, 500], [1000, 2000, 1],
    ]);
    expect(latency.attempts).toEqual([{ attempts: 1, orders: 900 }, { attempts: 2, orders: 100 }]);
    expect(build([start('r', 0), order(1, 'would_delete')]).latency).toEqual({ orders: 0, percentiles: null, histogram: [], attempts: [] });
  });

  test('a resume is its own segment; of a log, only the chain added counts (its last: the reader drops the others)', () => {
    const builder = new TimelineBuilder();
    gather(builder, 'a.ndjson', [start('r1', 0), order(10, 'deleted', { durationMs: 99 }), end(100, 'interrupted'), start('r2', 60_000, { resumeOf: 'r1' }), order(60_010, 'deleted'), end(60_100)]);
    let t = builder.finish();
    expect(t.segments.map((s) => [s.runId, s.resumeOf, s.status])).toEqual([['r1', undefined, 'interrupted'], ['r2', 'r1', 'completed']]);
    expect(t.intervalMs).toBe(100); // the working time (200 ms), not the minute between the runs
    builder.chain('b.ndjson').record(start('s1', 0)); // an earlier chain of b.ndjson, never added
    gather(builder, 'b.ndjson', [start('s2', 200_000), order(200_001, 'deleted', { durationMs: 7 })]);
    t = builder.finish();
    expect(t.segments.map((s) => s.runId)).toEqual(['r1', 'r2', 's2']);
    expect(t.latency.orders).toBe(3);
    expect(t.latency.percentiles?.max).toBe(99);
  });

  test('a server that makes every failure\'s code unique gets 48 causes kept apart, the rest together: memory stays bounded, no order uncounted', () => {
    const records = [start('r', 0), retry(1, { httpStatus: 503 })];
    for (let i = 0; i < 5000; i++) records.push(order(i, 'failed', { httpStatus: 400, error: { code: `E${i}`, message: 'no' } }));
    records.push(retry(6000, { httpStatus: 502 })); // a new retry cause past the cap
    const t = build(records);
    expect(t.series.causes).toHaveLength(50); // the 503 retry and 47 failure codes, then the two "other causes"
    expect(t.series.causes[0]).toBe('failed (other causes)');
    expect(t.series.causes).toContain('retry (other causes)');
    const total = t.segments[0]!.intervals.reduce((sum, i) => sum + Object.entries(i.counts).filter(([k]) => k.startsWith('failed ')).reduce((s, [, n]) => s + (n ?? 0), 0), 0);
    expect(total).toBe(5000);
  });
});
