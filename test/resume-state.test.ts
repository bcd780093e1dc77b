import { describe, expect, test } from '@jest/globals';
import { AuditJournal } from '../src/audit/journal.js';
import { readResumeState } from '../src/audit/resume-state.js';
import { CleanupError } from '../src/common/errors.js';
import { readAudit, workDir, writeFile } from './helpers/cli.js';
import { runEndFields, runStartFields } from './helpers/records.js';

const SHA = 'a'.repeat(64);
const start = (runId: string, resumeOf?: string) => JSON.stringify({
  level: 'info', time: '2026-11-28T00:00:00.000Z', runId, event: 'run.start', version: '0.1.0', baseUrl: 'http://localhost:1',
  source: { kind: 'text', path: 'x', sha256: SHA, count: 3 }, options: {}, ...(resumeOf ? { resumeOf } : {}),
});
const order = (runId: string, orderId: string, outcome: string) => JSON.stringify({
  level: 'info', time: '2026-11-28T00:00:01.000Z', runId, event: 'order', orderId, outcome, httpStatus: 204, attempts: 1, durationMs: 5,
});

describe('readResumeState', () => {
  test('an order counts as finished by its latest outcome; torn lines are skipped and reported', async () => {
    const path = writeFile(workDir(), 'a.ndjson', [
      start('r1'), order('r1', 'A', 'deleted'), order('r1', 'B', 'failed'), order('r1', 'C', 'already_absent'), '{"event":"order","orde',
      start('r2', 'r1'), order('r2', 'B', 'deleted'), order('r2', 'D', 'would_delete'), JSON.stringify({ event: 'order.retry', orderId: 'E' }), '{"torn',
    ].join('\n'));
    const state = (await readResumeState(path))!;
    expect([...state.finished].sort()).toEqual(['A', 'B', 'C']);
    expect(state.resumeOf).toBe('r2');
    expect(state.unreadableLines).toEqual([5, 9, 10]); // the retry line lacks its fields: not a record
    expect(state.source.sha256).toBe(SHA);
  });

  test('order lines are read exactly, escaped IDs included; a torn order line does not count', async () => {
    const line = (orderId: string, outcome: string) => order('r1', orderId, outcome);
    const path = writeFile(workDir(), 'a.ndjson', [
      start('r1'), line('A"B', 'deleted'), line('C\\D', 'already_absent'), line('E', 'deleted').slice(0, -12), line('F', 'deleted'),
      JSON.stringify({ event: 'order', runId: 'r1', time: 't', orderId: 'G', outcome: 'deleted', httpStatus: 204, attempts: 1, durationMs: 1 }),
    ].join('\n'));
    const state = (await readResumeState(path))!;
    expect([...state.finished].sort()).toEqual(['A"B', 'C\\D', 'F', 'G']);
    expect(state.unreadableLines).toEqual([4]);
  });

  test('a missing, empty or torn-only file records no run yet; other lines without run.start are a usage error', async () => {
    expect(await readResumeState('/nonexistent.ndjson')).toBeUndefined();
    expect(await readResumeState(writeFile(workDir(), 'e.ndjson', ''))).toBeUndefined();
    expect(await readResumeState(writeFile(workDir(), 't.ndjson', '{"level":"info","time":"2026'))).toBeUndefined();
    await expect(readResumeState(writeFile(workDir(), 'b.ndjson', `${order('r', 'A', 'deleted')}\n`))).rejects.toThrow(CleanupError);
    await expect(readResumeState(writeFile(workDir(), 'c.ndjson', `${order('r', 'A', 'deleted')}\n`))).rejects.toThrow(/no run.start/);
  });
});

describe('AuditJournal', () => {
  test('appends after a torn last line without gluing onto it', () => {
    const path = writeFile(workDir(), 'a.ndjson', `${start('r1')}\n{"event":"order","orderId":"A`);
    const journal = new AuditJournal(path, 'r2', () => undefined);
    journal.start(runStartFields({ resumeOf: 'r1' }));
    journal.end(runEndFields());
    const torn: string[] = [];
    const lines = readAudit(path, torn);
    expect(torn).toEqual(['{"event":"order","orderId":"A']);
    expect(lines.map((l) => [l.event, l.runId])).toEqual([['run.start', 'r1'], ['run.start', 'r2'], ['run.end', 'r2']]);
    expect(lines[1]).toMatchObject({ level: 'info', msg: 'run resumed (resuming r1)' });
    expect(typeof lines[1]?.time).toBe('string');
  });
});
