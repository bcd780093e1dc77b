import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Browser } from 'playwright-core';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { ARTIFACTS, launchBrowser, openPage } from '../helpers/browser.js';
import { credentialsEnv, fakeApi, runCli, workDir } from '../helpers/cli.js';
import { writeLog, type NightRun } from '../helpers/nights.js';

/**
 * The history page in a real browser (Debian's chromium, as for the run page): a month of nights in an
 * audit folder — written as the journal writes its lines, since a night long past cannot be run today —
 * then tonight's run of the nightly job spec itself against the fake API, which writes the page (and its
 * own run page) as it ends. The page is checked against the logs, read here independently of the tool.
 * Screenshots go to test-artifacts/ (light, dark, print).
 */
const JOB = fileURLToPath(new URL('../../jobs/nightly-cleanup.json', import.meta.url));
const HOSTILE = '<script>document.title="pwned"</script><img src="http://127.0.0.1:9/x.png">stopped';
const DAY = 86_400_000;
const MISSED = 12;
const SECRET = 'demo-secret-7f3a9c1e5b';

let browser: Browser;
let fake: FakeExsited;
let dir: string;
let runs: string;
/** The nights written here; tonight's run is the other one (its ID is random hex: one in 16 begins with "b"). */
const pastNights = new Set<string>();

beforeAll(async () => {
  browser = await launchBrowser();
  dir = workDir();
  runs = join(dir, 'runs');
  mkdirSync(runs);
  // 29 nights before tonight, at tonight's time of day: one missed, one failed, one halted (by a reason with markup).
  const now = Date.now();
  for (let k = 29; k >= 1; k--) {
    if (k === MISSED) continue;
    const night: NightRun = { runId: `b${String(k).padStart(11, '0')}`, at: new Date(now - k * DAY + 60_000 * (k % 5)).toISOString(), deleted: 100 + k, alreadyAbsent: k % 3, durationMs: 60_000 + k * 1000, throttledMs: k * 500 };
    pastNights.add(night.runId);
    if (k === 20) night.failed = [[409, 'ORDER_LOCKED'], [409, 'ORDER_LOCKED'], [503, 'HTTP_503']];
    if (k === 8) Object.assign(night, { status: 'halted', reason: HOSTILE });
    // A log holding the client's secret (an edit, a server that echoed it): scrubbed on the page like everywhere.
    if (k === 25) night.reason = `the server said: bad client secret ${SECRET}`;
    writeLog(runs, [night]);
  }
  fake = (await fakeApi(200)).fake;
  const tonight = await runCli(['run', '--job', JOB, '--rps', '1000'], { env: credentialsEnv(fake), cwd: dir });
  expect([tonight.code, tonight.log]).toEqual([0, expect.stringContaining('The history of runs: runs/history.html')]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await fake?.close();
});

/** The logs, read independently of the tool: each run's own counts and how it ended. */
function fromLogs() {
  const found: Array<{ runId: string; deleted: number; alreadyAbsent: number; failed: number; status: string | null }> = [];
  for (const name of readdirSync(runs).filter((n) => n.endsWith('.ndjson'))) {
    for (const line of readFileSync(join(runs, name), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)) {
      if (line.event === 'run.start') found.push({ runId: line.runId as string, deleted: 0, alreadyAbsent: 0, failed: 0, status: null });
      const run = found.at(-1);
      if (!run) continue;
      if (line.event === 'order' && line.outcome === 'deleted') run.deleted++;
      if (line.event === 'order' && line.outcome === 'failed') run.failed++;
      if (line.event === 'order' && line.outcome === 'already_absent') run.alreadyAbsent++;
      if (line.event === 'run.end') run.status = line.status as string;
    }
  }
  return found;
}

const open = (path: string, colorScheme?: 'light' | 'dark') => openPage(browser, path, colorScheme);

describe('the history page, in a real browser', () => {
  test('the nightly job wrote it: a row per run as the logs tell it, the failed and halted nights marked, the missed one a gap, tonight linked to its page', async () => {
    const path = join(runs, 'history.html');
    const logs = fromLogs();
    expect(logs).toHaveLength(29);
    const tonight = logs.find((run) => !pastNights.has(run.runId)) as (typeof logs)[number];
    expect(tonight.deleted).toBeGreaterThan(0); // the job deleted something, or the page shows nothing of tonight
    const { page, problems, requests, close } = await open(path);
    try {
      expect(problems).toEqual([]);
      expect(requests).toEqual([pathToFileURL(path).href]);
      expect(await page.locator('script').count()).toBe(0);
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.title()).toBe('Order cleanup history: runs');
      expect(await page.locator('#verdict').innerText()).toBe('1 failed, 1 stopped early, 1 missed');
      // A row per run, newest first (tonight's first), each with the logs' counts; a row for the missed night.
      const rows = await page.locator('table.history tbody tr[data-run]').evaluateAll((trs) => trs.map((tr) => ({
        runId: tr.getAttribute('data-run'), tone: tr.className, cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''),
      })));
      expect(rows.map((r) => r.runId)).toEqual([tonight.runId, ...logs.filter((r) => r.runId !== tonight.runId).map((r) => r.runId).sort()]);
      for (const row of rows) {
        const log = logs.find((r) => r.runId === row.runId) as (typeof logs)[number];
        expect([row.runId, Number(row.cells[5]?.replace(/,/g, '')), Number(row.cells[7]?.match(/^\d+/)?.[0])]).toEqual([row.runId, log.deleted, log.failed]);
      }
      expect(rows.find((r) => r.runId === 'b00000000020')?.tone).toBe('tone-bad');
      expect(rows.find((r) => r.runId === 'b00000000020')?.cells[7]).toMatch(/^3HTTP 409 ORDER_LOCKED: 2HTTP 503: 1$/);
      expect(rows.find((r) => r.runId === 'b00000000008')).toMatchObject({ tone: 'tone-warn', cells: expect.arrayContaining([HOSTILE]) });
      expect(await page.locator('table.history tr.tone-missed').count()).toBe(1);
      expect(readFileSync(path, 'utf8')).not.toContain(SECRET);
      expect(rows.find((r) => r.runId === 'b00000000025')?.cells[11]).toMatch(/^the server said: bad client secret \S+$/);
      // Tonight's row links to tonight's page (the job's runs/last-run.html), which exists; no other run has a page.
      const links = await page.locator('table.history a').evaluateAll((as) => as.map((a) => [a.closest('tr')?.getAttribute('data-run'), a.getAttribute('href')]));
      expect(links).toEqual([[tonight.runId, 'last-run.html']]);
      expect(existsSync(join(runs, 'last-run.html'))).toBe(true);
      // The charts: a bar per night with runs (its total the logs'), the missed night a dashed slot, the marks.
      const chart = page.locator('#chart-outcomes');
      expect(await chart.locator('g.night').count()).toBe(29);
      expect(await chart.locator('g.night-missed').count()).toBe(1);
      expect(await chart.locator('g.night.tone-bad path.tone-bad').count()).toBe(1);
      expect(await chart.locator('g.night.tone-warn path.tone-warn').count()).toBe(1);
      const totals = await chart.locator('g.night').evaluateAll((gs) => gs.map((g) => Number(g.getAttribute('data-total'))));
      expect(totals.reduce((a, b) => a + b, 0)).toBe(logs.reduce((sum, run) => sum + run.deleted + run.alreadyAbsent + run.failed, 0));
      for (const id of ['chart-duration', 'chart-throttled']) expect([id, await page.locator(`#${id} g.night rect`).count()]).toEqual([id, expect.any(Number)]);
      expect(await page.locator('#chart-duration g.night rect').count()).toBe(29);
      expect(await page.locator('#chart-outcomes-desc').textContent()).toContain('a dashed empty slot: a missed night');

      await page.screenshot({ path: join(ARTIFACTS, 'history.png'), fullPage: true });
      await page.emulateMedia({ media: 'print' });
      await page.screenshot({ path: join(ARTIFACTS, 'history-print.png'), fullPage: true });
    } finally {
      await close();
    }
    const dark = await open(path, 'dark');
    try {
      expect(dark.problems).toEqual([]);
      expect(await dark.page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(21, 25, 30)');
      await dark.page.screenshot({ path: join(ARTIFACTS, 'history-dark.png'), fullPage: true });
    } finally {
      await dark.close();
    }
  }, 60_000); // a browser and three full-page screenshots, on a machine busy with the rest of the suite
});
