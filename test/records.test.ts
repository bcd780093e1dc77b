import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { AuditJournal } from '../src/audit/journal.js';
import { fastOrderLine, parseLine } from '../src/audit/records.js';
import { workDir } from './helpers/cli.js';

/** Lines as the journal writes them: the fast path is tested against the writer, not against a copy of its format. */
function written(write: (journal: AuditJournal) => void): string[] {
  const path = `${workDir()}/a.ndjson`;
  const journal = new AuditJournal(path, 'r1', () => undefined);
  write(journal);
  journal.end({ status: 'completed', exitCode: 0, durationMs: 1 });
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
      const viaFast = fastOrderLine(line);
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
      journal.start({ version: '1', baseUrl: 'http://x', options: {}, source: { filter: { match: { customAttributes: { event: 'order', orderId: 'ORD-1', outcome: 'deleted' } } }, note: lookalike } });
      journal.retry({ orderId: 'ORD-1', attempt: 1, delayMs: 5 });
    });
    expect(lines.some((line) => line.includes('"event":"order","orderId":"ORD-1","outcome":"deleted"'))).toBe(true);
    for (const line of lines) expect(fastOrderLine(line)).toBeUndefined();
  });

  test('a torn line, another outcome or a line not starting as the journal writes is left to JSON.parse', () => {
    const [line] = written((journal) => journal.order({ orderId: 'ORD-1', outcome: 'deleted', httpStatus: 204, attempts: 1, durationMs: 1 }));
    expect(fastOrderLine(line as string)).toEqual({ orderId: 'ORD-1', outcome: 'deleted' });
    expect(fastOrderLine((line as string).slice(0, -5))).toBeUndefined();
    expect(fastOrderLine((line as string).replace('"deleted"', '"vanished"'))).toBeUndefined();
    expect(fastOrderLine(` ${line as string}`)).toBeUndefined();
  });
});

describe('parseLine', () => {
  test.each([
    ['null', { kind: 'unreadable' }],
    ['[1,2]', { kind: 'unreadable' }],
    ['{"event":7}', { kind: 'unreadable' }],
    ['{"event":"metrics.sample","runId":"r"}', { kind: 'other' }],
  ])('%s', (text, expected) => {
    expect(parseLine(text)).toEqual(expected);
  });

  test('a run.start from a newer record format is refused, saying so', () => {
    const start = { event: 'run.start', runId: 'r', time: 't', version: '9.0.0', baseUrl: 'x', options: {}, source: { kind: 'text', path: 'p', sha256: 'a'.repeat(64), count: 1 } };
    expect(parseLine(JSON.stringify({ ...start, recordVersion: 2 }))).toMatchObject({ kind: 'record' });
    expect(parseLine(JSON.stringify(start))).toMatchObject({ kind: 'record' }); // written before the version was recorded
    expect(parseLine(JSON.stringify({ ...start, recordVersion: 3 }))).toMatchObject({ kind: 'invalid', problem: expect.stringMatching(/^recordVersion: written by a newer version/) });
  });

  test('a known event with a wrong field names the field', () => {
    expect(parseLine(JSON.stringify({ event: 'run.start', runId: 'r', time: 't', version: '1', baseUrl: 'x', options: {}, source: 'ids.txt' })))
      .toMatchObject({ kind: 'invalid', event: 'run.start', problem: expect.stringMatching(/^source: /) });
  });

  test('every record the journal writes reads back as a valid record of its event', () => {
    const lines = written((journal) => {
      journal.start({ version: '1', baseUrl: 'http://x', options: {}, source: { kind: 'text', path: 'p', sha256: 'a'.repeat(64), count: 1 } });
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
    expect(events[4]).toMatchObject({ rps: 41.23, msg: 'paced at 41.2/s' });
    expect(events[5]).toMatchObject({ rps: null, msg: 'unpaced' });
    expect(events[7]).toMatchObject({ state: 'answering', failingMs: 10_500, msg: 'the service answers again after 10.5 s' });
  });
});
