import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { describe, expect, test } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import * as z from 'zod';
import { historyJsonSchema } from '../src/common/history-json.js';
import { lockPathOf } from '../src/audit/run-lock.js';
import { readHistory } from '../src/report/history.js';
import { formatHistory, historyJson } from '../src/report/history-outputs.js';
import { buildRunReport } from '../src/report/run-report.js';
import { runInProcess, workDir } from './helpers/cli.js';
import { writeLog } from './helpers/nights.js';

const DAY = 86_400_000;
const night = (day: number, minutes = 0) => new Date(Date.UTC(2026, 10, 1, 2, 30) + day * DAY + minutes * 60_000).toISOString();
const NOW = Date.parse(night(6)) + 3_600_000;

/** Five nights in six: night 3 missed, night 4 failed, night 2 killed and resumed the next night (its log holds both). */
function folder(): string {
  const dir = join(workDir(), 'runs');
  mkdirSync(dir);
  writeLog(dir, [{ runId: 'a00000000001', at: night(0), deleted: 40, alreadyAbsent: 2, durationMs: 60_000, throttledMs: 5000, tokens: { obtained: 2, shared: 1 } }]);
  writeLog(dir, [{ runId: 'a00000000002', at: night(1, 3), deleted: 50, durationMs: 70_000 }]);
  writeLog(dir, [
    { runId: 'a00000000003', at: night(2, -2), selected: 30, deleted: 10, status: 'killed', stepMs: 1000 },
    { runId: 'a00000000004', at: night(4, 1), selected: 30, deleted: 20, resumeOf: 'a00000000003', durationMs: 9000 },
  ]);
  writeLog(dir, [{ runId: 'a00000000005', at: night(4, 2), deleted: 5, failed: [[409, 'ORDER_LOCKED'], [409, 'ORDER_LOCKED'], [null, 'ECONNRESET']], reason: '3 orders failed' }]);
  writeLog(dir, [{ runId: 'a00000000006', at: night(5), deleted: 8, status: 'halted', reason: '--max-duration 45m reached' }]);
  return dir;
}

describe('the history of an audit folder', () => {
  test('a row per run, each by its own lines: a killed run lasted until its last line, not until its resume a night later', async () => {
    const dir = folder();
    const h = await readHistory(dir, { now: NOW });
    const rows = h.runs.map((run) => [run.runId, run.status, run.exitCode, run.resume, run.counts.deleted, run.counts.failed, run.durationMs]);
    expect(rows).toEqual([
      ['a00000000001', 'completed', 0, false, 40, 0, 60_000],
      ['a00000000002', 'completed', 0, false, 50, 0, 70_000],
      ['a00000000003', null, null, false, 10, 0, 10_000],
      ['a00000000004', 'completed', 0, true, 20, 0, 9000],
      ['a00000000005', 'failed', 1, false, 5, 3, expect.any(Number)],
      ['a00000000006', 'halted', 4, false, 8, 0, expect.any(Number)],
    ]);
    const killed = h.runs[2];
    expect(killed?.endedAt).toBe(new Date(Date.parse(night(2, -2)) + 10_000).toISOString());
    expect(h.runs[0]).toMatchObject({ selected: 42, throttledMs: 5000, tokens: { obtained: 2, shared: 1 }, input: 'ids.txt' });
    expect(h.runs[4]?.failedByCause).toEqual({ 'HTTP 409 ORDER_LOCKED': 2, 'no response (ECONNRESET)': 1 });
    // The report of the killed run's log tells it the same way (one reading of a run: report/run-ledger).
    const report = await buildRunReport([killed?.auditLog as string]);
    expect(report.runs.map((run) => [run.runId, run.durationMs, run.counts.deleted])).toEqual(h.runs.slice(2, 4).map((run) => [run.runId, run.durationMs, run.counts.deleted]));
  });

  test('--expect-every 24h: a night is the period around its expected time (minutes of drift stay in it); a passed period without a run is missed', async () => {
    const h = await readHistory(folder(), { expectEveryMs: DAY, now: NOW });
    expect(h.nights.map((n) => [n.label, n.tone, n.runs])).toEqual([
      ['2026-11-01', 'ok', 1], ['2026-11-02', 'ok', 1], ['2026-11-03', 'warn', 1], ['2026-11-04', 'missed', 0],
      ['2026-11-05', 'bad', 2], ['2026-11-06', 'warn', 1],
      // The seventh night's period has not ended at NOW (an hour after its expected time): not missed yet.
    ]);
    const later = await readHistory(folder(), { expectEveryMs: DAY, now: NOW + 3 * DAY });
    expect(later.nights.slice(-3).map((n) => [n.label, n.tone])).toEqual([['2026-11-07', 'missed'], ['2026-11-08', 'missed'], ['2026-11-09', 'missed']]);
    // Night 5 adds up its runs: the resume of night 3's run and the failed run.
    expect(h.nights[4]).toMatchObject({ deleted: 25, failed: 3 });
  });

  test('without --expect-every, UTC days that hold a run: nothing is missed, nothing was expected', async () => {
    const h = await readHistory(folder(), { now: NOW });
    expect(h.nights.map((n) => n.label)).toEqual(['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-05', '2026-11-06']);
    expect(h.nights.some((n) => n.tone === 'missed')).toBe(false);
  });

  test('a run with no run.end whose process holds its log\'s lock is going, not killed: neither marked nor resumable; a lock a SIGKILL left behind is not held', async () => {
    const dir = folder();
    const log = writeLog(dir, [{ runId: 'a00000000007', at: night(6), deleted: 3, status: 'killed' }]);
    const killed = await readHistory(dir, { now: NOW });
    expect([killed.runs.at(-1)?.running, killed.nights.at(-1)?.tone]).toEqual([false, 'warn']);
    const holder = (pid: number, runId = 'a00000000007', startedAt = new Date().toISOString()) => JSON.stringify({ pid, host: hostname(), startedAt, runId });
    writeFileSync(lockPathOf(log), holder(process.pid));
    const going = await readHistory(dir, { now: NOW });
    expect([going.runs.at(-1)?.running, going.nights.at(-1)?.tone, historyJson(going).runs.at(-1)?.tone]).toEqual([true, 'ok', 'ok']);
    expect(formatHistory(going)).toContain('running (its log is locked), 3 selected, 3 deleted, 0 failed; ids.txt\n');
    // Its process gone (SIGKILL: no one removed the lock file), or the lock another run's: killed.
    // Its pid given since to a newer process (this one, started long after the lock was taken): killed too.
    for (const stale of [holder(2 ** 22 + 12_345), holder(process.pid, 'another0run1'), holder(process.pid, 'a00000000007', '2001-01-01T00:00:00.000Z'), '{}']) {
      writeFileSync(lockPathOf(log), stale);
      const h = await readHistory(dir, { now: NOW });
      expect([h.runs.at(-1)?.running, h.nights.at(-1)?.tone]).toEqual([false, 'warn']);
    }
  });

  test('missed periods are marked for the latest 10,000 at most: a run from a clock set to 1970, or --expect-every 1m, breaks nothing', async () => {
    const minutes = await readHistory(folder(), { expectEveryMs: 60_000, now: NOW + 2 * DAY });
    // The latest 10,000 periods are each a night with runs or a missed one; none before them is marked.
    const firstMissed = minutes.nights.find((n) => n.tone === 'missed') as { startMs: number };
    expect(minutes.nights.filter((n) => n.startMs >= firstMissed.startMs)).toHaveLength(10_000);
    expect(minutes.nights.filter((n) => n.tone !== 'missed').map((n) => n.runs)).toEqual([1, 1, 1, 1, 1, 1]); // night 5's two runs a minute apart: two periods
    const dir = folder();
    writeLog(dir, [{ runId: 'a00000000000', at: '1970-01-01T00:00:05.000Z', deleted: 1 }]);
    const h = await readHistory(dir, { expectEveryMs: DAY, now: NOW });
    expect(h.nights[0]).toMatchObject({ label: '1970-01-01', runs: 1 });
    expect(h.nights.filter((n) => n.tone === 'missed').length).toBe(10_000 - 5);
  });

  test('--expect-every: the nights are centred on the time most runs start at (a cron job\'s), not on the oldest run (a person\'s, at 14:01)', async () => {
    const dir = join(workDir(), 'runs');
    mkdirSync(dir);
    const at = (day: number, hour: number, minute: number) => new Date(Date.UTC(2026, 10, day, hour, minute)).toISOString();
    const starts = [at(1, 14, 1), at(2, 2, 3), at(3, 1, 57), at(4, 2, 4), at(5, 1, 58)];
    starts.forEach((start, i) => writeLog(dir, [{ runId: `c0000000000${i}`, at: start, deleted: 1 }]));
    const h = await readHistory(dir, { expectEveryMs: DAY, now: Date.parse(at(5, 12, 0)) });
    // Anchored on the person's run, the nights ran from 02:01 to 02:01: 02:03 and 01:57 one night, the next one "missed".
    expect(h.nights.map((n) => [n.label, n.runs, n.tone])).toEqual([['2026-11-02', 2, 'ok'], ['2026-11-03', 1, 'ok'], ['2026-11-04', 1, 'ok'], ['2026-11-05', 1, 'ok']]);
  });

  test('a run whose times cannot be read (an edit) has its row but no night, and breaks nothing else', async () => {
    const dir = folder();
    const log = writeLog(dir, [{ runId: 'a00000000008', at: night(6), deleted: 2 }]);
    writeFileSync(log, readFileSync(log, 'utf8').replace(/"time":"[^"]*"/g, '"time":"not a time"'));
    for (const expectEveryMs of [undefined, DAY]) {
      const h = await readHistory(dir, { now: NOW, expectEveryMs });
      expect(h.runs[0]).toMatchObject({ runId: 'a00000000008', startedAt: 'not a time', endedAt: 'not a time', counts: { deleted: 2 } });
      expect(h.nights.reduce((sum, n) => sum + n.runs, 0)).toBe(6);
      expect(historyJson(h).runs).toHaveLength(7);
    }
    // A year past 9999 or before 1970 (a clock gone wrong) is a time, but no night can be made of it.
    for (const at of ['+200000-01-01T00:00:00.000Z', '-271821-04-20T00:00:00.000Z']) {
      writeLog(dir, [{ runId: 'a00000000009', at, deleted: 1 }]);
      for (const expectEveryMs of [undefined, DAY]) expect(historyJson(await readHistory(dir, { now: NOW, expectEveryMs })).nights.reduce((sum, n) => sum + n.runs, 0)).toBe(6);
    }
  });

  test('a log holding two fresh runs is listed by its last (a 3-order run after a 50-order dry run is not "a dry run, then its resume")', async () => {
    const dir = join(workDir(), 'runs');
    mkdirSync(dir);
    writeLog(dir, [{ runId: 'd00000000001', at: night(0), wouldDelete: 50, dryRun: true }, { runId: 'd00000000002', at: night(0, 5), deleted: 3 }]);
    expect(formatHistory(await readHistory(dir, { now: NOW }))).toContain('completed, exit 0, 3 selected, 3 deleted, 0 failed; ids.txt; 1 earlier, unrelated run(s) in it\n');
  });

  test('a run that stopped deleting, then a dry resume: listed by its deletions and as resumable, as report <log> tells it, never "dry run, 2 would delete" (red team)', async () => {
    const dir = join(workDir(), 'runs');
    mkdirSync(dir);
    writeLog(dir, [
      { runId: 'f00000000001', at: night(0), deleted: 2, status: 'halted', reason: 'the --max-duration deadline (200 ms) was reached' },
      { runId: 'f00000000002', at: night(0, 5), wouldDelete: 28, dryRun: true, resumeOf: 'f00000000001' },
    ]);
    expect(formatHistory(await readHistory(dir, { now: NOW }))).toContain('halted, exit 4, then a dry resume, 2 selected, 2 deleted, 0 failed (2 runs); ids.txt  (resumable)\n');
    // A dry resume going on: it is the one running (red team: "running, then a dry resume").
    const going = writeLog(dir, [
      { runId: 'f00000000003', at: night(1), deleted: 2, status: 'halted' },
      { runId: 'f00000000004', at: night(1, 5), wouldDelete: 3, dryRun: true, resumeOf: 'f00000000003', status: 'killed' },
    ]);
    writeFileSync(lockPathOf(going), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), runId: 'f00000000004' }));
    // A resume refused by --max-deletes after a run that deleted: a refusal still (red team: "failed, exit 3").
    writeLog(dir, [
      { runId: 'f00000000005', at: night(2), deleted: 9, status: 'killed' },
      { runId: 'f00000000006', at: night(2, 5), status: 'failed', exitCode: 3, reason: '21 orders are selected, more than --max-deletes 5: nothing was deleted', resumeOf: 'f00000000005' },
    ]);
    const text = formatHistory(await readHistory(dir, { now: NOW }));
    expect(text).toContain('a dry resume of it running (its log is locked), 2 selected, 2 deleted, 0 failed (2 runs); ids.txt\n');
    expect(text).toContain('refused: 21 orders are selected, more than --max-deletes 5: nothing was deleted, 9 selected, 9 deleted, 0 failed (2 runs); ids.txt\n');
  });

  test('a chain is listed by its orders, each once by its latest outcome, as report <log> counts them (red team: "40 deleted, 14 failed" for 40 deleted, "60 would delete" for 30)', async () => {
    const dir = join(workDir(), 'runs');
    mkdirSync(dir);
    const retried = writeLog(dir, [
      { runId: 'e00000000001', at: night(0), deleted: 2, failed: [[503, 'HTTP_503'], [503, 'HTTP_503'], [409, 'LOCKED']], orderIds: ['A1', 'A2', 'A3', 'A4', 'A5'] },
      { runId: 'e00000000002', at: night(0, 5), deleted: 2, failed: [[409, 'LOCKED']], resumeOf: 'e00000000001', orderIds: ['A3', 'A4', 'A5'] },
    ]);
    const checked = writeLog(dir, [
      { runId: 'e00000000003', at: night(1), wouldDelete: 3, dryRun: true, orderIds: ['B1', 'B2', 'B3'] },
      { runId: 'e00000000004', at: night(1, 5), wouldDelete: 2, alreadyAbsent: 1, dryRun: true, resumeOf: 'e00000000003', orderIds: ['B3', 'B1', 'B2'] },
    ]);
    // a dry resume of a run that failed: its finds are not yet done, as report <log> says (red team: "2 deleted, 0 failed")
    const dryResumed = writeLog(dir, [
      { runId: 'e00000000005', at: night(2), deleted: 2, failed: [[503, 'HTTP_503'], [503, 'HTTP_503']], orderIds: ['C1', 'C2', 'C3', 'C4'] },
      { runId: 'e00000000006', at: night(2, 5), wouldDelete: 2, dryRun: true, resumeOf: 'e00000000005', orderIds: ['C3', 'C4'] },
    ]);
    // a dry run of a list that checked 5 of 10, then its resume: the 5 it never checked are no resume's (report <log>'s
    // "not checked"), not "not yet done" (red team)
    const checkedHalf = writeLog(dir, [
      { runId: 'e00000000007', at: night(3), selected: 10, wouldDelete: 5, dryRun: true, status: 'halted', orderIds: ['D1', 'D2', 'D3', 'D4', 'D5'] },
      { runId: 'e00000000008', at: night(3, 5), selected: 10, deleted: 5, resumeOf: 'e00000000007', orderIds: ['D1', 'D2', 'D3', 'D4', 'D5'] },
    ]);
    const text = formatHistory(await readHistory(dir, { now: NOW }));
    expect(text).toContain('completed, exit 0, a dry run, then its resume, 10 selected, 5 deleted, 0 failed, 5 not checked (2 runs); ids.txt');
    expect(await buildRunReport([checkedHalf])).toMatchObject({ deleted: 5, pending: 0, notChecked: 5 });
    expect(text).toContain('failed, exit 1, then a dry resume, 4 selected, 2 deleted, 0 failed, 2 not yet done (2 runs); ids.txt');
    expect(await buildRunReport([dryResumed])).toMatchObject({ deleted: 2, failed: 0, pending: 2 });
    expect(text).toContain('failed, exit 1, 5 selected, 4 deleted, 1 failed (2 runs); ids.txt');
    expect(text).toContain('completed, exit 0, dry run, 3 selected, 2 would delete (2 runs); ids.txt');
    expect(await buildRunReport([retried])).toMatchObject({ deleted: 4, failed: 1 });
    expect(await buildRunReport([checked])).toMatchObject({ wouldDelete: 2, alreadyAbsent: 1 });
  });

  test('a failed line whose fields cannot be read is unreadable, as report <log> counts it; a clock stepped back never makes a time negative', async () => {
    const dir = join(workDir(), 'runs');
    mkdirSync(dir);
    const log = writeLog(dir, [{ runId: 'e00000000001', at: night(0), deleted: 2, failed: [[409, 'LOCKED'], [409, 'LOCKED']], status: 'killed' }]);
    const lines = readFileSync(log, 'utf8').split('\n');
    lines[3] = lines[3]?.replace('"httpStatus":409', '"httpStatus":"x"') as string;
    lines[4] = lines[4]?.replace(/"time":"[^"]*"/, `"time":"${new Date(Date.parse(night(0)) - 60_000).toISOString()}"`) as string;
    writeFileSync(log, lines.join('\n'));
    const h = await readHistory(dir, { now: NOW });
    const report = await buildRunReport([log]);
    expect([h.runs[0]?.counts.failed, h.unreadableLines, h.runs[0]?.durationMs]).toEqual([report.runs[0]?.counts.failed, report.unreadableLines, report.runs[0]?.durationMs]);
    expect([h.runs[0]?.counts.failed, h.unreadableLines, h.runs[0]?.durationMs]).toEqual([1, 1, 0]);
  });

  test('a folder that cannot be read is said (never shown as one without logs); a signal ends the reading', async () => {
    const file = join(workDir(), 'file');
    writeFileSync(file, '');
    await expect(readHistory(file)).rejects.toThrow(`${file}: `);
    const stop = new AbortController();
    stop.abort(new Error('a signal'));
    await expect(readHistory(folder(), { signal: stop.signal })).rejects.toThrow('a signal');
  });

  test('the page is never named like a log in the folder: every later history would try to read it', async () => {
    const dir = folder();
    const made = await runInProcess(['report', dir, '--html', join(dir, 'page.ndjson')]);
    expect([made.code, made.log]).toEqual([2, expect.stringContaining('a page named like an audit log (*.ndjson) would be read as one; nothing was written')]);
    expect(existsSync(join(dir, 'page.ndjson'))).toBe(false);
    // A run is refused before anything is sent (it was refused only after its deletions), whatever folder the path names.
    const run = await runInProcess(['run', '--ids', join(dir, 'ids.txt'), '--yes', '--audit-dir', dir, '--history-html', join(dir, '..', 'link', 'page.NDJSON')],
      { env: { EXSITED_ACCESS_TOKEN: 'tok-123456789', EXSITED_BASE_URL: 'http://127.0.0.1:9' } });
    expect([run.code, run.log]).toEqual([2, expect.stringContaining('--history-html')]);
  });

  test('a file that is not a log is named and skipped; the others are read', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'notes.ndjson'), 'hello\n');
    mkdirSync(join(dir, 'folder.ndjson'));
    writeFileSync(join(dir, 'edited.ndjson'), '{"level":"info","time":"x","runId":"r","event":"run.start"}\n');
    const h = await readHistory(dir, { now: NOW });
    expect(h.runs).toHaveLength(6);
    expect(h.skipped.map((s) => [s.path.split('/').at(-1), s.problem])).toEqual(expect.arrayContaining([
      ['notes.ndjson', expect.stringContaining('no run.start')],
      ['folder.ndjson', expect.stringMatching(/folder/)],
      ['edited.ndjson', expect.stringContaining('line 1: the run.start record is not valid')],
    ]));
    expect(formatHistory(h)).toContain('not read: it holds no run.start line');
  });

  test('a run links to the page that names it (the newest, if two do); a page that names other runs links nothing', async () => {
    const dir = folder();
    const meta = (runs: string) => `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="exsited-order-cleanup-runs" content="${runs}">\n`;
    writeFileSync(join(dir, 'old.html'), meta('a00000000001 a00000000002'));
    writeFileSync(join(dir, 'last-run.html'), meta('a00000000006'));
    writeFileSync(join(dir, 'newer.html'), meta('a00000000002'));
    writeFileSync(join(dir, 'plain.html'), '<html>a00000000005</html>');
    utimesSync(join(dir, 'old.html'), 1000, 1000);
    const h = await readHistory(dir, { now: NOW });
    expect(h.runs.map((run) => run.page?.split('/').at(-1) ?? null)).toEqual(['old.html', 'newer.html', null, null, null, 'last-run.html']);
  });

  test('--json: the documented shape, equal to schemas/history-json.schema.json, and what the text listing tells', async () => {
    const dir = folder();
    const made = await runInProcess(['report', dir, '--json', '--expect-every', '24h']);
    expect(made.code).toBe(0);
    const json = JSON.parse(made.stdout);
    const file = JSON.parse(readFileSync(new URL('../schemas/history-json.schema.json', import.meta.url), 'utf8'));
    expect(file).toEqual({ ...z.toJSONSchema(historyJsonSchema), title: 'exsited-order-cleanup report <folder> --json' });
    const validate = new Ajv2020({ allErrors: true }).compile(file);
    expect([validate(json), validate.errors]).toEqual([true, null]);
    expect(json.runs.map((r: { runId: string; tone: string }) => r.tone)).toEqual(['ok', 'ok', 'warn', 'ok', 'bad', 'warn']);
    expect(json.nights.filter((n: { state: string }) => n.state === 'missed').map((n: { label: string }) => n.label)).toContain('2026-11-04');
    expect(json.runs[4].failedByCause).toEqual([{ cause: 'HTTP 409 ORDER_LOCKED', orders: 2 }, { cause: 'no response (ECONNRESET)', orders: 1 }]);

    const text = await runInProcess(['report', dir, '--expect-every', '24h']);
    expect(text.stdout).toMatch(/5 audit logs in .*runs, newest first:\n {2}.*a00000000006\.ndjson\n {4}2026-11-06T02:30:00\.000Z {2}halted, exit 4, 8 selected, 8 deleted, 0 failed; ids\.txt {2}\(resumable\)/);
    expect(text.stdout).toMatch(/a00000000003\.ndjson\n {4}\S+ {2}completed, exit 0, 30 selected, 30 deleted, 0 failed \(2 runs\); ids\.txt\n/);
    // Through the CLI, every night up to today that passed without a run is missed: the job stopped running.
    expect(text.stdout).toMatch(/\nNights: \d+, 2026-11-01 to 2026-1\d-\d\d \(a run expected every 1 d\): 1 failed, 2 stopped early, \d+ missed\n/);
    expect(formatHistory(await readHistory(dir, { expectEveryMs: DAY, now: NOW }))).toContain('\nNights: 6, 2026-11-01 to 2026-11-06 (a run expected every 1 d): 1 failed, 2 stopped early, 1 missed');
    expect(historyJson(await readHistory(dir, { now: NOW })).expectEveryMs).toBeNull();
  });

  test('report <folder> refuses the flags that tell one run, and --expect-every refuses a log', async () => {
    const dir = folder();
    const csv = await runInProcess(['report', dir, '--failed-csv', join(dir, '..', 'f.csv')]);
    expect([csv.code, csv.log]).toEqual([2, expect.stringContaining('--failed-csv tells one run: give its log')]);
    const log = await runInProcess(['report', join(dir, `${night(0).replace(/[-:.]/g, '')}-a00000000001.ndjson`), '--expect-every', '24h']);
    expect([log.code, log.log]).toEqual([2, expect.stringContaining('--expect-every is for a folder of logs')]);
  });
});
