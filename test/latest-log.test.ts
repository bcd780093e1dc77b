import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { latestUnfinishedLog, logsIn } from '../src/audit/latest-log.js';
import { workDir, writeFile } from './helpers/cli.js';

const SHA = 'a'.repeat(64);
const start = (time: string) => JSON.stringify({ level: 'info', time, runId: 'r', event: 'run.start', version: '1', baseUrl: 'x', options: {}, source: { kind: 'text', path: 'p', sha256: SHA, count: 1 } });
const end = (status: string) => JSON.stringify({ level: 'info', time: 't', runId: 'r', event: 'run.end', status, exitCode: status === 'completed' ? 0 : 143, durationMs: 1 });

describe('the logs in an audit folder', () => {
  test('are ordered by the start their run.start records, not by the random part of names from the same second', async () => {
    const dir = workDir();
    writeFile(dir, '20261128T024830Z-ffffff.ndjson', `${start('2026-11-28T02:48:30.100Z')}\n${end('completed')}\n`);
    writeFile(dir, '20261128T024830Z-000000.ndjson', `${start('2026-11-28T02:48:30.900Z')}\n${end('interrupted')}\n`);
    expect((await logsIn(dir)).map((log) => log.path)).toEqual([join(dir, '20261128T024830Z-000000.ndjson'), join(dir, '20261128T024830Z-ffffff.ndjson')]);
    expect(await latestUnfinishedLog(dir)).toBe(join(dir, '20261128T024830Z-000000.ndjson'));
  });

  test('a run that ended on its own, or that a bug stopped, waits for a person; a killed or interrupted one is resumable', async () => {
    for (const [last, resumable] of [[end('completed'), false], [end('failed'), false], [end('crashed'), false], [end('halted'), true], ['{"level":"info","time":"2026-11-28T0', true]] as const) {
      const dir = workDir();
      writeFile(dir, 'a.ndjson', `${start('2026-11-28T00:00:00.000Z')}\n${last}\n`);
      expect(await latestUnfinishedLog(dir)).toBe(resumable ? join(dir, 'a.ndjson') : undefined);
    }
    expect(await latestUnfinishedLog(join(workDir(), 'nothing-here'))).toBeUndefined();
  });
});
