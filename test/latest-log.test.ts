import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { autoResumeFinding, logsIn } from '../src/audit/latest-log.js';
import { workDir, writeFile } from './helpers/cli.js';

const SHA = 'a'.repeat(64);
const start = (time: string, job: object | null = { id: 'nightly', startedBy: 'unattended' }) => JSON.stringify({
  level: 'info', time, runId: 'r', event: 'run.start', version: '1', baseUrl: 'x', options: {}, source: { kind: 'text', path: 'p', sha256: SHA, count: 1 }, ...(job ? { job } : {}),
});
const end = (status: string, exitCode = status === 'completed' ? 0 : 143) => JSON.stringify({ level: 'info', time: 't', runId: 'r', event: 'run.end', status, exitCode, durationMs: 1 });
const resumed = async (dir: string, jobId = 'nightly') => (await autoResumeFinding(dir, jobId)).resume?.path;

describe('the logs in an audit folder', () => {
  test('are ordered by the start their run.start records, not by the random part of names from the same second', async () => {
    const dir = workDir();
    writeFile(dir, '20261128T024830Z-ffffff.ndjson', `${start('2026-11-28T02:48:30.100Z')}\n${end('completed')}\n`);
    writeFile(dir, '20261128T024830Z-000000.ndjson', `${start('2026-11-28T02:48:30.900Z')}\n${end('interrupted')}\n`);
    expect((await logsIn(dir)).map((log) => log.path)).toEqual([join(dir, '20261128T024830Z-000000.ndjson'), join(dir, '20261128T024830Z-ffffff.ndjson')]);
    expect(await resumed(dir)).toBe(join(dir, '20261128T024830Z-000000.ndjson'));
  });

  test('a run that ended on its own, or that a bug stopped, waits for a person; a killed or interrupted one is resumable', async () => {
    for (const [last, resumable] of [[end('completed'), false], [end('failed'), false], [end('crashed'), false], [end('halted'), true], ['{"level":"info","time":"2026-11-28T0', true]] as const) {
      const dir = workDir();
      writeFile(dir, 'a.ndjson', `${start('2026-11-28T00:00:00.000Z')}\n${last}\n`);
      expect(await resumed(dir)).toBe(resumable ? join(dir, 'a.ndjson') : undefined);
    }
    expect(await resumed(join(workDir(), 'nothing-here'))).toBeUndefined();
  });

  test('--auto-resume continues only its own job\'s run, never one a person interrupted; it names the others', async () => {
    const dir = workDir();
    writeFile(dir, '1-own.ndjson', `${start('2026-11-27T02:00:00.000Z')}\n${end('interrupted')}\n`);
    writeFile(dir, '2-person.ndjson', `${start('2026-11-28T10:00:00.000Z', { id: 'wrong-csv', startedBy: 'person' })}\n${end('interrupted', 130)}\n`);
    writeFile(dir, '3-legacy.ndjson', `${start('2026-11-28T11:00:00.000Z', null)}\n`);
    const finding = await autoResumeFinding(dir, 'nightly');
    expect(finding.resume?.path).toBe(join(dir, '1-own.ndjson'));
    expect(finding.leftAlone.map(({ entry, why }) => [entry.path, why])).toEqual([
      [join(dir, '3-legacy.ndjson'), expect.stringContaining('records no job')],
      [join(dir, '2-person.ndjson'), expect.stringContaining('another job')],
    ]);

    writeFile(dir, '4-own-ctrl-c.ndjson', `${start('2026-11-29T02:00:00.000Z')}\n${end('interrupted', 130)}\n`);
    const after = await autoResumeFinding(dir, 'nightly');
    expect(after.resume).toBeUndefined(); // the newest run of this job was interrupted by a person: only a person continues it
    expect(after.leftAlone[0]).toMatchObject({ entry: { path: join(dir, '4-own-ctrl-c.ndjson') }, why: expect.stringContaining('a person interrupted it') });
  });
});
