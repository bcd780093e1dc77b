import { chownSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, NOBODY, runCli, runInProcess, startCli, untilDeletes, workDir, writeFile } from '../helpers/cli.js';

/** Issue 25, items 3 and 5: the nightly spec's paths work where it runs, as a non-root user; --keep-for prunes only what nobody needs. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DAY = 86_400_000;
let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** A log of one run that ended `daysAgo` days ago with `status` (a dry run when `dryRun`), and its manifest. */
function oldLog(dir: string, name: string, daysAgo: number, status: string | null, dryRun = false, input = 'ids.txt'): string {
  const at = (offset: number) => new Date(Date.now() - daysAgo * DAY + offset).toISOString();
  const path = join(dir, `${name}.ndjson`);
  const lines: object[] = [{
    event: 'run.start', runId: name, time: at(0), version: '0.1.0', recordVersion: 2, baseUrl: 'https://api.exsited.com',
    source: { kind: 'text', path: input, sha256: 'a'.repeat(64), count: 1 }, options: { dryRun },
  }];
  if (status) {
    lines.push({
      event: 'run.end', runId: name, time: at(1000), status, exitCode: status === 'completed' ? 0 : 1, durationMs: 1000, dryRun, resources: { maxRssMb: 1, cpuMs: 1 },
      summary: { selected: 1, deleted: 0, alreadyAbsent: 0, failed: 0, skipped: 0, wouldDelete: 0, pending: 0, retries: 0, throttledMs: 0, ratePerSecond: 0 },
    });
  }
  writeFileSync(path, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
  writeFileSync(join(dir, `${name}.manifest.csv`), 'order_id\nX\n');
  return path;
}

describe('retention and paths where the job runs', () => {
  test('--keep-for 30d deletes the logs (and manifests) of runs that finished over 30 days ago, and none a resume or a person may need', async () => {
    const api = await fakeApi(5);
    fake = api.fake;
    const dir = workDir();
    const runs = join(dir, 'runs');
    mkdirSync(runs);
    const gone = [oldLog(runs, 'completed-40d', 40, 'completed'), oldLog(runs, 'failed-31d', 31, 'failed')];
    const kept = [
      oldLog(runs, 'completed-20d', 20, 'completed'), oldLog(runs, 'halted-60d', 60, 'halted'), oldLog(runs, 'interrupted-60d', 60, 'interrupted'),
      oldLog(runs, 'killed-60d', 60, null), oldLog(runs, 'crashed-60d', 60, 'crashed'), oldLog(runs, 'dry-run-60d', 60, 'completed', true),
      oldLog(runs, 'locked-60d', 60, 'completed'), writeFile(runs, 'not-a-log.ndjson', 'hello\n'),
      // An interrupted run that reads a pruned run's manifest as its input: that manifest stays (red team: it went).
      oldLog(runs, 'reads-a-manifest', 60, 'interrupted', false, join(runs, 'failed-31d.manifest.csv')), join(runs, 'failed-31d.manifest.csv'),
    ];
    // The IDs a pruned run read from stdin, spooled beside its log: they go with it (red team: left behind forever).
    const spool = writeFile(runs, 'completed-40d.ndjson.completed-40d.stdin', 'ORD-1\n');
    writeFileSync(`${join(runs, 'locked-60d.ndjson')}.lock`, JSON.stringify({ pid: process.pid, host: 'x' }));
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const summary = join(dir, 's.json');

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-dir', runs, '--keep-for', '30d', '--summary-json', summary], { env: credentialsEnv(fake) });

    expect(result.code).toBe(0);
    expect(existsSync(gone[0]!.replace(/\.ndjson$/, '.manifest.csv'))).toBe(false);
    for (const path of [...gone, spool]) expect(existsSync(path)).toBe(false);
    for (const path of kept) expect(existsSync(path)).toBe(true);
    expect(result.log).toContain('--keep-for 30 d: deleted 2 audit logs of runs that finished before then, with their manifests.');
    expect(JSON.parse(readFileSync(summary, 'utf8'))).toMatchObject({ status: 'completed', counts: { deleted: 5 } }); // the run's story is its own
    expect((await runInProcess(['report', runs])).code).toBe(0);

    const refused = await runInProcess(['run', '--yes', '--ids', input, '--keep-for', '30d'], { env: credentialsEnv(fake) });
    expect(refused.code).toBe(2);
    expect(refused.log).toContain('--keep-for needs --audit-dir');
    expect((await runInProcess(['run', '--yes', '--ids', input, '--audit-dir', runs, '--keep-for', '10m'], { env: credentialsEnv(fake) })).code).toBe(2);
  });

  test('the README\'s host cron line, as a non-root user who owns the folder: the nightly spec writes its logs and page under the folder\'s runs/', async () => {
    const api = await fakeApi(200);
    fake = api.fake;
    const dir = workDir();
    const folder = join(dir, 'cleanup');
    mkdirSync(folder);
    cpSync(join(ROOT, 'jobs'), join(folder, 'jobs'), { recursive: true });
    const own = (path: string) => {
      try {
        chownSync(path, NOBODY.uid, NOBODY.gid);
      } catch {
        // not root: the folder is the test user's own, which is as good
      }
    };
    own(folder);
    for (const name of readdirSync(join(folder, 'jobs'), { recursive: true }) as string[]) own(join(folder, 'jobs', name));
    own(join(folder, 'jobs'));

    // A night killed part-way (its --rps 20 gives time), then the next: it resumes the killed one first (red team: with keepFor it never did).
    const killed = startCli(['run', '--job', 'jobs/nightly-cleanup.json'], { env: credentialsEnv(fake), cwd: folder, user: NOBODY });
    await untilDeletes(fake, 3);
    killed.child.kill('SIGKILL');
    await killed.done;
    const result = await runCli(['run', '--job', 'jobs/nightly-cleanup.json'], { env: credentialsEnv(fake), cwd: folder, user: NOBODY });

    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.log).toMatch(/Resuming this job's unfinished run in runs\/.*\.ndjson first/);
    expect(result.log).not.toMatch(/cannot be continued|left for a person/);
    expect(existsSync(join(folder, 'runs', 'last-run.html'))).toBe(true);
    expect(readdirSync(join(folder, 'runs')).filter((name) => name.endsWith('.ndjson'))).toHaveLength(2);
    expect(fake.deleted.length).toBeGreaterThan(3);
  });
});
