import { join } from 'node:path';
import { credentialsEnv, fakeApi, readAudit, runCli, workDir, writeFile, type AuditLine } from './cli.js';

/**
 * Issue 21, cases 7 and 15 (test/adversarial/throttling-*.test.ts): a server whose 429s are not about this
 * client's rate, through the built CLI. The rules' exact figures (how soon the noise is found, the minute of
 * refusal, where a pause ends) are proven in simulated time (test/noise-test, test/refusal-watch,
 * test/rate-controller-pauses); those files, what a run does with them. Bounds are outcomes (exit code,
 * records), with --max-duration as the only clock, set far beyond what a run three times slower needs and
 * far below what the defects took. One file per behaviour: each waits on real time, and apart they wait
 * side by side.
 *
 * A run of eight workers against a fake with `options`; its exit, its records and its throttle lines.
 */
export async function throttledRun(count: number, options: Parameters<typeof fakeApi>[1], args: string[]) {
  const api = await fakeApi(count, options);
  const dir = workDir();
  const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
  const log = join(dir, 'a.ndjson');
  const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '8', ...args], { env: credentialsEnv(api.fake) });
  const lines = readAudit(log);
  return { result, lines, end: lines.find((l) => l.event === 'run.end') as AuditLine, throttles: lines.filter((l) => l.event === 'throttle') };
}
