import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import { humanDuration } from '../../src/common/durations.js';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, readAudit, runInProcess, workDir, writeFile } from '../helpers/cli.js';

/**
 * A run's start as every report tells it: run.start's openedAt (its log opened, before a filter's listing
 * and the consent), the time at the question left out of its working time (consentWaitMs). The red team's
 * findings on the first version: edited or stepped-back openedAt, a killed run's working time, and a run
 * killed right after its run.start (a run that never started told with two durations: test/e2e/filter.test.ts).
 */

let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

interface Told { startedAt: string; endedAt: string; durationMs: number; spanMs: number; runs: Array<{ startedAt: string; durationMs: number; endedAt?: string }> }

/** A real run's log of 12 orders, then its lines as `edit` leaves them, in a folder of its own. */
async function editedLog(edit: (lines: Array<Record<string, unknown>>) => void): Promise<{ log: string; dir: string; lines: Array<Record<string, unknown>> }> {
  const api = await fakeApi(12);
  fake = api.fake;
  const dir = workDir();
  const log = join(dir, 'a.ndjson');
  const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
  expect((await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log], { env: credentialsEnv(fake) })).code).toBe(0);
  const lines = readAudit(log) as Array<Record<string, unknown>>;
  edit(lines);
  const folder = join(dir, 'logs');
  mkdirSync(folder);
  const edited = join(folder, 'a.ndjson');
  writeFileSync(edited, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
  return { log: edited, dir: folder, lines };
}

const reportOf = async (...args: string[]) => {
  const result = await runInProcess(['report', ...args, '--json']);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Told;
};
const historyOf = async (dir: string) => (await reportOf(dir)) as unknown as { runs: Told['runs'] };
const at = (time: unknown) => Date.parse(time as string);

describe('openedAt, as a report reads it', () => {
  test.each([
    ['not a date', () => 'not-a-date'],
    ['a date the journal never writes', () => 'Dec 4 2026 14:16:40'],
    ['later than its run.start line (a clock stepped back during the listing)', (time: string) => new Date(at(time) + 3_600_000).toISOString()],
    ['more than a day before its line', () => '1970-01-01T00:00:00.000Z'],
  ])('%s is read as absent: the line\'s time, every output alike (red team: a 57-year span, exit 70 for --html, an end in the future)', async (_, openedAt) => {
    const { log, dir, lines } = await editedLog((all) => {
      const start = all[0] as { time: string; openedAt?: string };
      start.openedAt = openedAt(start.time);
    });
    const start = lines[0]?.time as string;
    const last = lines.at(-1)?.time as string;
    const report = await reportOf(log);
    expect(report.startedAt).toBe(start);
    expect(report.spanMs).toBeLessThan(60_000);
    expect(at(report.endedAt)).toBeLessThanOrEqual(at(last) + report.durationMs);
    expect((await historyOf(dir)).runs[0]?.startedAt).toBe(start);
    expect((await runInProcess(['report', log, '--html', join(dir, '..', 'r.html')])).code).toBe(0);
  });

  test('a killed run\'s working time leaves out the time at the consent question, as its run.end would (red team: "7.4 s working" where the whole run worked 6.2)', async () => {
    const { log, dir, lines } = await editedLog((all) => {
      const start = all[0] as { time: string; openedAt?: string; consentWaitMs?: number };
      start.openedAt = new Date(at(start.time) - 10_000).toISOString(); // 2 s of listing, then 8 s at the question
      start.consentWaitMs = 8000;
      all.splice(all.findIndex((line) => line.event === 'run.end')); // killed: no run.end
    });
    const working = at(lines.at(-1)?.time) - at(lines[0]?.time) + 2000;
    expect((await reportOf(log)).runs[0]?.durationMs).toBe(working);
    expect((await historyOf(dir)).runs[0]?.durationMs).toBe(working);
    // The page's timeline says the same of it as its table (red team: 8.3 s there, 6.2 s in the table).
    const page = join(dir, '..', 'r.html');
    expect((await runInProcess(['report', log, '--html', page])).code).toBe(0);
    expect(readFileSync(page, 'utf8')).toMatch(new RegExp(`<title>run [0-9a-f]+, started [^<]* UTC, killed, ${humanDuration(working).replace('.', '\\.')} working</title>`));
  });

  test('the time at the question is never more than the time between openedAt and the line (red team: a killed run that deleted told as 0 s working)', async () => {
    const { log, lines } = await editedLog((all) => {
      const start = all[0] as { time: string; openedAt?: string; consentWaitMs?: number };
      start.openedAt = start.time;
      start.consentWaitMs = 8000;
      all.splice(all.findIndex((line) => line.event === 'run.end'));
    });
    expect((await reportOf(log)).runs[0]?.durationMs).toBe(at(lines.at(-1)?.time) - at(lines[0]?.time));
  });

  test('a run killed right after its run.start worked its listing, and ended at that line in the report and the history alike (red team: 0 ms, and an end before its only line)', async () => {
    const { log, dir, lines } = await editedLog((all) => {
      const start = all[0] as { time: string; openedAt?: string };
      start.openedAt = new Date(at(start.time) - 3000).toISOString();
      all.splice(1);
    });
    const line = lines[0]?.time as string;
    const report = await reportOf(log);
    expect(report.runs[0]?.durationMs).toBe(3000);
    expect(report.endedAt).toBe(line);
    const history = await historyOf(dir);
    expect(history.runs[0]?.durationMs).toBe(3000);
    expect(history.runs[0]?.endedAt).toBe(line);
  });
});
