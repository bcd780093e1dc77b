import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { AuditJournal } from '../src/audit/journal.js';
import { fastOrderLine, runIdField } from '../src/audit/order-line.js';
import { parseLine } from '../src/audit/records.js';
import { OUTCOMES } from '../src/common/domain.js';
import type { OrderRecord, RetryRecord, ServiceChange } from '../src/common/records.js';
import { terminalSafe } from '../src/common/text.js';
import type { ThrottleDecision } from '../src/engine/throttle-decision.js';
import { seededRandom } from '../src/fake-exsited/seeded-random.js';
import { workDir } from './helpers/cli.js';
import { runEndFields, runStartFields, SOURCE } from './helpers/records.js';

/** Lines as the journal writes them: the fast path is tested against the writer, not against a copy of its format. */
const R1 = runIdField('r1');

function written(write: (journal: AuditJournal) => void): string[] {
  const path = `${workDir()}/a.ndjson`;
  const journal = new AuditJournal(path, 'r1', () => undefined);
  write(journal);
  journal.end(runEndFields());
  return readFileSync(path, 'utf8').trim().split('\n');
}

describe('the fast path for order lines', () => {
  const ids = ['ORD-KZ558V-0006', 'CSV-ORD-000123', 'A"B', 'C\\D', 'ÄÖ-1', 'x'.repeat(100), 'ORD","outcome":"deleted'];
  const outcomes = ['deleted', 'already_absent', 'failed', 'would_delete'] as const;

  test('reads every order line the journal writes exactly as JSON.parse does, or leaves it to JSON.parse', () => {
    const lines = written((journal) => {
      for (const orderId of ids) {
        for (const outcome of outcomes) {
          journal.order({ orderId, outcome, httpStatus: outcome === 'failed' ? 409 : 204, attempts: 1, durationMs: 3, ...(outcome === 'failed' ? { error: { code: 'X', message: 'm' } } : {}) });
        }
      }
    });
    let fast = 0;
    for (const line of lines) {
      const parsed = parseLine(line);
      const viaFast = fastOrderLine(line, R1);
      if (parsed.kind === 'record' && parsed.record.event === 'order') {
        if (viaFast) {
          fast++;
          expect(viaFast).toEqual({ orderId: parsed.record.orderId, outcome: parsed.record.outcome });
        }
      } else {
        expect(viaFast).toBeUndefined();
      }
    }
    expect(fast).toBe((ids.length - 3) * outcomes.length); // all but the three IDs that JSON escapes
  });

  test('never reads a run.start or retry line as an order, whatever text it carries', () => {
    const lookalike = '"event":"order","orderId":"ORD-1","outcome":"deleted"';
    const lines = written((journal) => {
      const filter = { path: 'f.json', sha256: 'b'.repeat(64), match: { customAttributes: { event: 'order', orderId: 'ORD-1', outcome: 'deleted' } } };
      journal.start(runStartFields({ source: { ...SOURCE, kind: 'filter', filter }, options: { note: lookalike } }));
      journal.retry({ orderId: 'ORD-1', attempt: 1, delayMs: 5 });
    });
    expect(lines.some((line) => line.includes('"event":"order","orderId":"ORD-1","outcome":"deleted"'))).toBe(true);
    for (const line of lines) expect(fastOrderLine(line, R1)).toBeUndefined();
  });

  test('a torn line, another outcome, another run\'s line or a line not starting as the journal writes is left to JSON.parse', () => {
    const [line] = written((journal) => journal.order({ orderId: 'ORD-1', outcome: 'deleted', httpStatus: 204, attempts: 1, durationMs: 1 }));
    expect(fastOrderLine(line as string, R1)).toEqual({ orderId: 'ORD-1', outcome: 'deleted' });
    expect(fastOrderLine((line as string).slice(0, -5), R1)).toBeUndefined();
    expect(fastOrderLine((line as string).replace('"deleted"', '"vanished"'), R1)).toBeUndefined();
    expect(fastOrderLine(` ${line as string}`, R1)).toBeUndefined();
    // Another run's line: the reader parses it, to tell whose it is.
    expect(fastOrderLine(line as string, runIdField('r2'))).toBeUndefined();
    expect(fastOrderLine(line as string, runIdField('1'))).toBeUndefined();
  });

  test('the journal lays an order line out as the fast path reads it, whatever the key order of the record it is given', () => {
    const record = { error: { code: 'HTTP_409', message: 'locked' }, durationMs: 2, attempts: 1, httpStatus: 409, outcome: 'failed', orderId: 'ORD-7' } as const;
    const [line] = written((journal) => journal.order(record));
    expect(fastOrderLine(line as string, R1)).toEqual({ orderId: 'ORD-7', outcome: 'failed' });
    expect(parseLine(line as string)).toMatchObject({ kind: 'record', record });
  });

  test('every record type, with hostile values, through the journal: the fast path gives what JSON.parse and the schemas give, or declines', () => {
    const random = seededRandom(22);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const fragments = ['ORD-', '7', 'x', '"', '\\', '\\"', 'Ä', '😀', '\ud800', '\u001b[31m', '\u202e', '\u2028', '\u0085', '\t', '\n', '}', '{"level":"info"}',
      '","outcome":"deleted', '"event":"order","orderId":"X', '","outcome":"', '"orderId":"', ',"event":"order"', '[REDACTED]'];
    const hostile = () => Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick(fragments)).join('');
    const id = () => (random() < 0.5 ? `ORD-${Math.floor(random() * 1e9).toString(36)}` : hostile());
    // pino writes a lone surrogate as it is, which UTF-8 cannot hold: the file has U+FFFD in its place.
    const lossless = (value: unknown) => !JSON.stringify(value).includes('\\ud800');
    /** What each line should hold, in the order written (null: nothing to compare beyond its event). */
    const expected: Array<{ event: string; fields: object | null }> = [{ event: 'run.start', fields: null }];
    const lines = written((journal) => {
      journal.start(runStartFields({ source: { ...SOURCE, column: hostile(), idPattern: hostile() }, options: { [hostile()]: hostile() }, resumeOf: hostile() }));
      for (let i = 0; i < 2000; i++) {
        const kind = random();
        if (kind < 0.7) {
          const outcome = pick(OUTCOMES);
          const record: OrderRecord = { orderId: id(), outcome, httpStatus: outcome === 'failed' ? pick([null, 409, 503]) : 204, attempts: Math.floor(random() * 6), durationMs: Math.floor(random() * 1e4) };
          if (outcome === 'failed') record.error = { code: hostile(), message: hostile() };
          journal.order(record);
          expected.push({ event: 'order', fields: record });
        } else if (kind < 0.85) {
          const record: RetryRecord = { orderId: id(), attempt: 1, ...(random() < 0.5 ? { httpStatus: 503 } : { errorCode: hostile() }), delayMs: 5 };
          journal.retry(record);
          expected.push({ event: 'order.retry', fields: record });
        } else if (kind < 0.9) {
          const change: ServiceChange = { state: 'failing', failures: 15, answers: 20 };
          journal.service(change);
          expected.push({ event: 'service', fields: change });
        } else if (kind < 0.95) {
          const decision: ThrottleDecision = { kind: 'cut', windowMs: 1000, answers: 20, share: 0.5, baseline: 0, acceptedRate: 10, rateBefore: Infinity, rateAfter: 9, ceiling: 10, pauseMs: 0 };
          journal.throttle(decision);
          expected.push({ event: 'throttle', fields: { ...decision, rateBefore: null } });
        } else {
          journal.pace(random() < 0.5 ? Infinity : random() * 100);
          expected.push({ event: 'pace', fields: null });
        }
      }
    });
    expected.push({ event: 'run.end', fields: null });
    expect(lines).toHaveLength(expected.length);
    // Checked line by line, with one assertion at the end: thousands of expect() calls would cost seconds.
    const wrong: Array<{ line: string; why: string }> = [];
    let read = 0;
    lines.forEach((line, i) => {
      const { event, fields } = expected[i] as (typeof expected)[number];
      const parsed = parseLine(line);
      const fast = fastOrderLine(line, R1);
      const why = (text: string) => wrong.push({ line, why: text });
      if (parsed.kind !== 'record' || parsed.record.event !== event) return void why(`not a valid ${event} record`);
      const record = parsed.record as unknown as Record<string, unknown>;
      if (fields && lossless(fields) && !Object.entries(fields).every(([key, value]) => isDeepStrictEqual(record[key], value))) why('not what was written');
      if (event !== 'order') return void (fast && why('read as an order'));
      if (fast && (fast.orderId !== record.orderId || fast.outcome !== record.outcome)) why('the fast path read another ID or outcome');
      if (fast) read++;
      // Only IDs that JSON or the terminal escaping must escape are left to JSON.parse.
      const { orderId } = fields as OrderRecord;
      if (lossless(orderId) && !!fast !== (JSON.stringify(orderId) === `"${orderId}"` && terminalSafe(orderId) === orderId)) why(fast ? 'an escaped ID read fast' : 'a plain ID declined');
    });
    expect(wrong).toEqual([]);
    const orderLines = expected.filter((line) => line.event === 'order').length;
    expect(read).toBeGreaterThan(orderLines * 0.4); // the plain IDs, and hostile ones that need no escaping
    expect(orderLines - read).toBeGreaterThan(orderLines * 0.2);
  });
});

describe('parseLine', () => {
  test.each([
    ['null', { kind: 'unreadable' }],
    ['[1,2]', { kind: 'unreadable' }],
    ['{"event":7}', { kind: 'unreadable' }],
    ['{"event":"metrics.sample","runId":"r"}', { kind: 'other' }],
    // Names every object has are no events of this format: they were taken for its schemas, and threw.
    ['{"event":"constructor","runId":"r"}', { kind: 'other' }],
    ['{"event":"__proto__","runId":"r"}', { kind: 'other' }],
    ['{"event":"toString","runId":"r"}', { kind: 'other' }],
  ])('%s', (text, expected) => {
    expect(parseLine(text)).toEqual(expected);
  });

  test('a run.start from a newer record format is refused, saying so', () => {
    const start = { event: 'run.start', runId: 'r', time: 't', version: '9.0.0', baseUrl: 'x', options: {}, source: { kind: 'text', path: 'p', sha256: 'a'.repeat(64), count: 1 } };
    expect(parseLine(JSON.stringify({ ...start, recordVersion: 2 }))).toMatchObject({ kind: 'record' });
    expect(parseLine(JSON.stringify(start))).toMatchObject({ kind: 'record' }); // written before the version was recorded
    expect(parseLine(JSON.stringify({ ...start, recordVersion: 3 }))).toEqual({ kind: 'newer', version: 3 });
  });

  test('a known event with a wrong field names the field', () => {
    expect(parseLine(JSON.stringify({ event: 'run.start', runId: 'r', time: 't', version: '1', baseUrl: 'x', options: {}, source: 'ids.txt' })))
      .toMatchObject({ kind: 'invalid', event: 'run.start', problem: expect.stringMatching(/^source: /) });
  });

  test('unknown keys are kept at every level: a newer writer\'s fields survive a resume that records the source again', () => {
    const start = { event: 'run.start', runId: 'r', time: 't', version: '9.0.0', baseUrl: 'x', options: {}, future: 1, source: { ...SOURCE, future: 2, filter: { path: 'f', sha256: 's', match: {}, future: 3 } } };
    expect(parseLine(JSON.stringify(start))).toEqual({ kind: 'record', record: start });
  });

  test('a run.end from before the summary\'s figures were recorded reads; its throttled time is checked', () => {
    const end = { event: 'run.end', runId: 'r', time: 't', status: 'completed', exitCode: 0, durationMs: 5 };
    expect(parseLine(JSON.stringify(end))).toMatchObject({ kind: 'record' });
    expect(parseLine(JSON.stringify({ ...end, summary: { deleted: 3 } }))).toMatchObject({ kind: 'record' });
    expect(parseLine(JSON.stringify({ ...end, summary: { throttledMs: 'x' } }))).toMatchObject({ kind: 'invalid', problem: expect.stringMatching(/^summary\.throttledMs: /) });
  });

  test('every record the journal writes reads back as a valid record of its event', () => {
    const lines = written((journal) => {
      journal.start(runStartFields({ source: { kind: 'text', path: 'p', sha256: 'a'.repeat(64), count: 1 } }));
      journal.order({ orderId: 'ORD-1', outcome: 'failed', httpStatus: null, attempts: 6, durationMs: 4000.5, error: { code: 'ETIMEDOUT', message: 'no answer' } });
      journal.retry({ orderId: 'ORD-1', attempt: 1, errorCode: 'ETIMEDOUT', delayMs: 5 });
      journal.throttle({ kind: 'cut', windowMs: 900, answers: 20, share: 0.5, baseline: 0, acceptedRate: 40.123, rateBefore: Number.POSITIVE_INFINITY, rateAfter: 36.1, ceiling: 40.1, pauseMs: 1000 });
      journal.pace(41.234);
      journal.pace(Number.POSITIVE_INFINITY);
      journal.service({ state: 'failing', failures: 15, answers: 20 });
      journal.service({ state: 'answering', failures: 0, answers: 1, failingMs: 10_500 });
    });
    const events = lines.map((line) => {
      const parsed = parseLine(line);
      expect(parsed).toMatchObject({ kind: 'record' });
      return (parsed as { record: { event: string } }).record;
    });
    expect(events.map((r) => r.event)).toEqual(['run.start', 'order', 'order.retry', 'throttle', 'pace', 'pace', 'service', 'service', 'run.end']);
    expect(events[3]).toMatchObject({ acceptedRate: 40.12, rateBefore: null, rateAfter: 36.1, ceiling: 40.1, msg: 'rate cut from unpaced to 36.1/s, everyone waits 1 s' });
    expect(events[4]).toMatchObject({ rps: 41.23, msg: 'paced at 41.2/s' });
    expect(events[5]).toMatchObject({ rps: null, msg: 'unpaced' });
    expect(events[7]).toMatchObject({ state: 'answering', failingMs: 10_500, msg: 'the service answers again after 10.5 s' });
  });
});

describe('start-up', () => {
  test('nothing the CLI imports statically reaches the log schemas or zod: a run that reads no log builds none of them (report\'s import took ~20 ms of every start)', () => {
    const reached = new Set<string>();
    const packages = new Set<string>();
    const walk = (file: string): void => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const [statement, from] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s+(?!type\b)(?:[^;'"]*?\sfrom\s+)?'([^']+)'/gms)) {
        if (/^import\s*\{\s*type\s/.test(statement) && !/,\s*(?!type\b)\w/.test(statement)) continue; // types only
        if (from?.startsWith('.')) walk(join(dirname(file), from.replace(/\.js$/, '.ts')));
        else packages.add(from as string);
      }
    };
    walk(fileURLToPath(new URL('../src/cli.ts', import.meta.url)));
    expect(reached.size).toBeGreaterThan(20); // the walk follows the imports
    expect([...reached].filter((file) => /\/records\.ts$/.test(file))).toEqual([]);
    expect([...packages].filter((name) => name === 'zod' || name.startsWith('zod/'))).toEqual([]);
  });
});
