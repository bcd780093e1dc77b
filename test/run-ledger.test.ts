import { describe, expect, test } from '@jest/globals';
import { buildRunReport } from '../src/report/run-report.js';
import { workDir } from './helpers/cli.js';
import { writeLog } from './helpers/nights.js';

describe('a run as its log tells it (report/run-ledger)', () => {
  test('a killed run lasted until its own last line, not until its resume began (a night later): its time, the working time and the rate', async () => {
    const log = writeLog(workDir(), [
      { runId: 'k00000000001', at: '2026-11-03T02:28:00.000Z', selected: 30, deleted: 10, status: 'killed', stepMs: 1000 },
      { runId: 'k00000000002', at: '2026-11-05T02:31:00.000Z', selected: 30, deleted: 20, resumeOf: 'k00000000001', durationMs: 9000 },
    ]);
    const report = await buildRunReport([log]);
    expect(report.runs.map((run) => [run.runId, run.status, run.durationMs])).toEqual([['k00000000001', null, 10_000], ['k00000000002', 'completed', 9000]]);
    expect([report.activeMs, report.ratePerSecond]).toEqual([19_000, 1.6]); // 30 orders in 19 s, to a tenth
  });
});
