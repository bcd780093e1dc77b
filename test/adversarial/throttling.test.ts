import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, FAST, fakeApi, readAudit, runCli, workDir, writeFile, type AuditLine } from '../helpers/cli.js';

/**
 * Issue 21, cases 7 and 15: a server whose 429s are not about this client's rate, through the built CLI.
 * The rules' exact figures (how soon the noise is found, the minute of refusal, where a pause ends) are
 * proven in simulated time (test/noise-test, test/refusal-watch, test/rate-controller-pauses); here, what
 * a run does with them. Bounds are outcomes (exit code, records), with --max-duration as the only clock,
 * set far beyond what a run three times slower needs and far below what the defects took.
 */
let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function run(count: number, options: Parameters<typeof fakeApi>[1], args: string[]) {
  const api = await fakeApi(count, options);
  fake = api.fake;
  const dir = workDir();
  const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
  const log = join(dir, 'a.ndjson');
  const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '8', ...args], { env: credentialsEnv(api.fake) });
  const lines = readAudit(log);
  return { result, lines, end: lines.find((l) => l.event === 'run.end') as AuditLine, throttles: lines.filter((l) => l.event === 'throttle') };
}

describe('429s that do not depend on the rate', () => {
  test('half the DELETEs answered 429 at random, without Retry-After: the pace does not collapse, and the run finishes (before: 112 of 300 in 240 s)', async () => {
    const { result, end, throttles } = await run(60, { faults: { seed: 5, throttle: 0.5 }, hostile: { retryAfterHeader: () => undefined } },
      [...FAST, '--retries', '25', '--max-duration', '60s']);

    expect(result.code).toBe(0);
    expect(end.summary).toMatchObject({ deleted: 60, failed: 0 });
    expect(throttles.filter((l) => l.kind === 'cut').length).toBeLessThanOrEqual(12);
    for (const l of throttles) expect(l.pauseMs).toBeLessThanOrEqual(1000); // no Retry-After: a second, when clearly over
  }, 90_000);

  test('every DELETE answered 429 (Retry-After 1): orders fail at the pace the server answers and the run halts with the cause, rather than crawl (before: one request every 20 s for an hour)', async () => {
    // The minute of nothing but 429s that halts a run whose orders never fail is proven in simulated time (test/refusal-watch).
    const { result, end, lines } = await run(60, { faults: { seed: 5, throttle: 1, retryAfterS: 1 } }, ['--retries', '1', '--halt-after', '5', '--max-duration', '45s']);

    expect(result.code).toBe(4);
    expect(end).toMatchObject({ status: 'halted', exitCode: 4, reason: expect.stringMatching(/^5 orders in a row failed with HTTP 429/) });
    expect(result.log).toMatch(/--resume/);
    expect(end.summary).toMatchObject({ deleted: 0 });
    expect(lines.filter((l) => l.event === 'order' && l.outcome !== 'failed')).toEqual([]);
  }, 60_000);
});

describe('a long Retry-After, as an HTTP date or as seconds', () => {
  const inSeconds = (s: number) => (now: number) => new Date(now + s * 1000).toUTCString();
  // As seconds, the same rule on simulated time (test/rate-controller-pauses).
  test.each([
    ['an HTTP date 4 s ahead', inSeconds(4)],
  ])('%s, on 60%% of DELETEs: everyone waits once, and after the pause the pace is where the cut left it (before: a pause per cut, then "paced at 260/s")', async (_name, retryAfterHeader) => {
    const { result, lines, throttles } = await run(300, { faults: { seed: 5, throttle: 0.6 }, hostile: { retryAfterHeader } }, ['--max-duration', '9s']);

    expect([0, 1, 4]).toContain(result.code); // the deadline may end it: the records are what is asked of it
    const paused = throttles.filter((l) => l.pauseMs > 0);
    expect(paused).toHaveLength(1);
    expect(paused[0]!.pauseMs).toBeLessThanOrEqual(4000);
    const after = lines.slice(lines.indexOf(paused[0]!) + 1);
    const firstPace = after.find((l) => l.event === 'pace' && l.rps !== null);
    expect(firstPace).toBeDefined();
    expect(firstPace!.rps).toBeLessThan(paused[0]!.rateAfter + 40); // before: + 4·4³ (the climb through the pause)
    for (const l of after) {
      if (l.event === 'pace' && l.rps !== null) expect(l.rps).toBeLessThan(1000);
    }
  }, 60_000);
});
