import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { ARTIFACTS, launchBrowser, openPage } from '../helpers/browser.js';
import { credentialsEnv, FAST, fakeApi, runInProcess, startCli, workDir, writeFile } from '../helpers/cli.js';

/**
 * The HTML report in a real browser (Debian's chromium, driven by playwright-core; .ci/run installs it),
 * made from real runs against the fake API: a rate limit, faults, an outage, refused orders whose message
 * is hostile markup, a kill and a resume. Screenshots go to test-artifacts/ (light, dark, print).
 */
const HOSTILE = '<script>document.title="pwned"</script><img src="http://127.0.0.1:9/leak.png" onerror="alert(1)">Order has invoices';

let browser: Browser;
let fake: FakeExsited;
let dir: string;
let log: string;

beforeAll(async () => {
  browser = await launchBrowser();
  const api = await fakeApi(120);
  const ids = api.orders.map((o) => o.id);
  await api.fake.close();
  const refusals = Object.fromEntries(ids.slice(50, 54).map((id) => [id, { status: 409, message: HOSTILE }]));
  // A limit a busy machine's CLI still exceeds (buckets of 100/s and 50/s went unnoticed under two busy loops: no decision to
  // draw), and an outage long enough for the retry budget to judge the service down at that pace (1 s was not, at 13/s).
  fake = (await fakeApi(120, {
    faults: { seed: 7, latencyMs: 4, statuses: { 503: 0.03 }, reset: 0.01 },
    limit: { kind: 'bucket', rate: 25 },
    outage: { afterMs: 1000, durationMs: 2000 },
    refusals,
  })).fake;
  dir = workDir();
  const input = writeFile(dir, 'ids.csv', `order_id\n${ids.join('\n')}\n`);
  log = join(dir, 'a.ndjson');
  const env = credentialsEnv(fake);
  const first = startCli(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '8', '--timeout-ms', '2000', ...FAST], { env });
  // Killed once its log holds what the page must show (a decision, the outage's end), whatever the machine's speed.
  await Promise.race([untilLogged(/"event":"throttle"/, /"event":"service","state":"answering"/), first.done]);
  first.child.kill('SIGTERM');
  const ended = (await first.done).code;
  // Before the kill, what the page needs: said when it is missing (the run ended first).
  const held = readFileSync(log, 'utf8').split('\n').filter((line) => /"event":"(throttle|service|run\.end)"/.test(line)).map((line) => line.slice(0, 300));
  expect({ ended, held }).toEqual({ ended: 143, held: expect.arrayContaining([expect.stringMatching(/"event":"throttle"/), expect.stringMatching(/"state":"answering"/)]) });
  const resume = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--html-report', join(dir, 'run.html'), '--summary-json', join(dir, 's.json')], { env });
  expect(resume.code).toBe(1); // the four refused orders
}, 90_000);

/** Resolves once the audit log holds a line matching each pattern (looked at as the fake answers DELETEs). */
const untilLogged = (...patterns: RegExp[]) => new Promise<void>((resolve) => {
  const check = () => {
    const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
    if (!patterns.every((pattern) => pattern.test(text))) return;
    fake.events.off('delete', check);
    resolve();
  };
  fake.events.on('delete', check);
  check();
});

afterAll(async () => {
  await browser?.close();
  await fake?.close();
});

/** The audit log read independently of the tool: each order's latest outcome, and the records the charts draw. */
function fromLog() {
  const lines = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const latest = new Map<string, string>();
  for (const line of lines) if (line.event === 'order') latest.set(line.orderId as string, line.outcome as string);
  const count = (outcome: string) => [...latest.values()].filter((o) => o === outcome).length;
  return {
    deleted: count('deleted'), alreadyAbsent: count('already_absent'), failed: count('failed'), selected: latest.size,
    retries: lines.filter((l) => l.event === 'order.retry').length,
    orderLines: lines.filter((l) => l.event === 'order').length,
    deletedLines: lines.filter((l) => l.event === 'order' && l.outcome === 'deleted').length,
    throttles: lines.filter((l) => l.event === 'throttle'),
    services: lines.filter((l) => l.event === 'service'),
    paces: lines.filter((l) => l.event === 'pace'),
  };
}

const open = (path: string, colorScheme?: 'light' | 'dark') => openPage(browser, path, colorScheme);

const total = async (page: Page, key: string) => Number((await page.locator(`[data-total="${key}"]`).innerText()).replace(/,/g, ''));

describe('report --html, in a real browser', () => {
  test('the page loads with no console error and no request but itself; its totals are the audit log\'s; every chart has its series and marks', async () => {
    const page = join(dir, 'report.html');
    const made = await runInProcess(['report', log, '--html', page, '--timeline', join(dir, 'timeline.csv')]);
    expect(made.code).toBe(0);
    expect(made.log).toContain(`The HTML report written to ${page}`);
    const expected = fromLog();
    expect(expected.throttles.length).toBeGreaterThan(0); // the scenario throttles, or it tests nothing
    expect(expected.services.length).toBeGreaterThan(0);
    expect(expected.failed).toBe(4);

    const { page: p, problems, requests, close } = await open(page);
    try {
      expect(problems).toEqual([]);
      expect(requests).toEqual([pathToFileURL(page).href]);
      expect(await p.title()).toMatch(/^Order cleanup on 127\.0\.0\.1:\d+: 4 failed$/);
      expect(await p.locator('script').count()).toBe(0);
      for (const [key, value] of [['selected', expected.selected], ['deleted', expected.deleted], ['alreadyAbsent', expected.alreadyAbsent],
        ['failed', expected.failed], ['retries', expected.retries], ['pending', 0]] as const) {
        expect([key, await total(p, key)]).toEqual([key, value]);
      }
      // The run and its resume, and what to do next.
      expect(await p.locator('table.runs tbody tr').count()).toBe(2);
      expect(await p.locator('table.runs').innerText()).toMatch(/interrupted\s+143[\s\S]*failed\s+1/);
      expect(await p.locator('#next').innerText()).toContain('--failed-csv failed.csv');

      // Throughput: its series, the pace, a mark per decision, the pauses, the two runs side by side.
      const throughput = p.locator('#chart-throughput');
      expect(await throughput.locator('path[data-series="deleted"]').count()).toBe(2);
      expect(await throughput.locator('path[data-series="pace"]').count()).toBeGreaterThan(0);
      expect(await throughput.locator('.mark').count()).toBe(expected.throttles.length);
      expect(await throughput.locator('.mark[data-kind="cut"]').count()).toBe(expected.throttles.filter((t) => t.kind === 'cut').length);
      expect(await throughput.locator('.pause-service').count()).toBeGreaterThan(0);
      expect(await throughput.locator('.segment').count()).toBe(2);
      expect(await p.locator('#chart-throughput-desc').textContent()).toMatch(/The rate controller decided \d+ time/);
      // Retries and failures by cause, each cause in the legend with its count.
      const retries = p.locator('#chart-retries');
      for (const series of ['retry HTTP 503', 'retry HTTP 429', 'failed HTTP 409']) expect([series, await retries.locator(`path[data-series="${series}"]`).count()]).toEqual([series, expect.any(Number)]);
      expect(await retries.locator('path[data-series="retry HTTP 503"]').count()).toBeGreaterThan(0);
      expect(await retries.locator('path[data-series="failed HTTP 409"]').count()).toBeGreaterThan(0);
      // Time per order: the histogram counts every order line; the percentiles are shown.
      const bars = await p.locator('#chart-latency .bar').evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-value'))));
      expect(bars.reduce((a, b) => a + b, 0)).toBe(expected.orderLines);
      expect(await p.locator('#percentiles').innerText()).toMatch(/median\s+\d/);
      // The failures: the server's markup is text, never markup.
      expect(await p.locator('#failure-causes').innerText()).toContain(HOSTILE);
      expect(await p.locator('#failure-causes tbody tr').innerText()).toMatch(/^HTTP 409\s+4\s/);
      expect(await p.locator('#failed-orders tbody tr').count()).toBe(4);
      expect(await p.locator('img').count()).toBe(0);
      expect(await p.locator('#decisions tbody tr').count()).toBe(expected.throttles.length);

      await p.screenshot({ path: join(ARTIFACTS, 'html-report.png'), fullPage: true });
      await p.emulateMedia({ media: 'print' });
      await p.screenshot({ path: join(ARTIFACTS, 'html-report-print.png'), fullPage: true });
    } finally {
      await close();
    }

    const dark = await open(page, 'dark');
    try {
      expect(dark.problems).toEqual([]);
      const background = await dark.page.evaluate('getComputedStyle(document.body).backgroundColor');
      expect(background).toBe('rgb(21, 25, 30)');
      await dark.page.screenshot({ path: join(ARTIFACTS, 'html-report-dark.png'), fullPage: true });
    } finally {
      await dark.close();
    }

    // The timeline CSV holds the same series: its deleted column adds up to the log's deleted lines.
    const csv = readFileSync(join(dir, 'timeline.csv'), 'utf8').trim().split('\n').map((row) => row.split(','));
    const header = csv[0] as string[];
    expect(header.slice(0, 12)).toEqual(['interval_start', 'interval_s', 'run', 'run_id', 'seconds_into_run', 'deleted', 'already_absent', 'failed', 'would_delete', 'retries', 'pace_rps', 'paused_s']);
    const column = (name: string) => csv.slice(1).reduce((sum, row) => sum + Number(row[header.indexOf(name)]), 0);
    expect(column('deleted')).toBe(expected.deletedLines);
    expect(column('retries')).toBe(expected.retries);
    expect(new Set(csv.slice(1).map((row) => row[2]))).toEqual(new Set(['1', '2']));
  });

  test('run --html-report made the page of the run and its resume; the summary JSON names it', async () => {
    const summary = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8'));
    expect(summary).toMatchObject({ status: 'failed', exitCode: 1, htmlReport: join(dir, 'run.html') });
    const { page, problems, requests, close } = await open(join(dir, 'run.html'));
    try {
      expect(problems).toEqual([]);
      expect(requests).toHaveLength(1);
      expect(await total(page, 'deleted')).toBe(fromLog().deleted);
      expect(await page.locator('table.runs tbody tr').count()).toBe(2);
    } finally {
      await close();
    }
  });
});
