import { describe, expect, test } from '@jest/globals';
import { AuditJournal } from '../src/audit/journal.js';
import { readResumeState } from '../src/audit/resume-state.js';
import { CleanupError } from '../src/common/errors.js';
import { readAudit, workDir, writeFile } from './helpers/cli.js';

const start = (runId: string) => JSON.stringify({ event: 'run.start', runId, baseUrl: 'http://localhost:1', source: { kind: 'text', path: 'x', sha256: 'abc', count: 3 } });
const order = (runId: string, orderId: string, outcome: string) => JSON.stringify({ event: 'order', runId, orderId, outcome });

describe('readResumeState', () => {
  test('an order counts as finished by its latest outcome; torn lines are skipped and reported', async () => {
    const path = writeFile(workDir(), 'a.ndjson', [
      start('r1'), order('r1', 'A', 'deleted'), order('r1', 'B', 'failed'), order('r1', 'C', 'already_absent'), '{"event":"order","orde',
      start('r2'), order('r2', 'B', 'deleted'), order('r2', 'D', 'would_delete'), JSON.stringify({ event: 'order.retry', orderId: 'E' }), '{"torn',
    ].join('\n'));
    const state = (await readResumeState(path))!;
    expect([...state.finished.keys()].sort()).toEqual(['A', 'B', 'C']);
    expect(state.resumeOf).toBe('r2');
    expect(state.unreadableLines).toEqual([5, 10]);
    expect(state.source.sha256).toBe('abc');
  });

  test('order lines are read exactly, escaped IDs included; a torn order line does not count', async () => {
    const line = (orderId: string, outcome: string) => JSON.stringify({ level: 'info', time: 't', runId: 'r1', event: 'order', orderId, outcome, httpStatus: 204 });
    const path = writeFile(workDir(), 'a.ndjson', [
      start('r1'), line('A"B', 'deleted'), line('C\\D', 'already_absent'), line('E', 'deleted').slice(0, -12), line('F', 'deleted'),
      '{"event":"order","orderId":"G","outcome":"deleted"}',
    ].join('\n'));
    const state = (await readResumeState(path))!;
    expect([...state.finished.keys()].sort()).toEqual(['A"B', 'C\\D', 'F', 'G']);
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
    const journal = new AuditJournal(path, 'r2');
    journal.start({ resumeOf: 'r1' });
    journal.end({ status: 'completed' });
    const torn: string[] = [];
    const lines = readAudit(path, torn);
    expect(torn).toEqual(['{"event":"order","orderId":"A']);
    expect(lines.map((l) => [l.event, l.runId])).toEqual([['run.start', 'r1'], ['run.start', 'r2'], ['run.end', 'r2']]);
    expect(lines[1]).toMatchObject({ level: 'info', msg: 'run resumed (resuming r1)' });
    expect(typeof lines[1]?.time).toBe('string');
  });
});
