import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, watch } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, FAST, readAudit, startCli, workDir, writeFile, type CliResult, type RunningCli } from '../helpers/cli.js';

/**
 * Issue 21, case 8's siblings: a FIFO at another path the run opens. Opening one waits for a writer in the
 * kernel, where the run's signal handlers never run (and a thread held in open(2) keeps even `exit` waiting).
 */
let fake: FakeExsited | undefined;
const fifos: string[] = [];
const writers: FileHandle[] = [];
afterEach(async () => {
  for (const writer of writers.splice(0)) await writer.close();
  // A writer's open still waiting for a reader (the test failed first) is released by one.
  for (const fifo of fifos.splice(0)) if (existsSync(fifo)) closeSync(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
  await fake?.close();
  fake = undefined;
});

function plantFifo(path: string): string {
  execFileSync('mkfifo', [path]);
  fifos.push(path);
  return path;
}

/**
 * A FIFO put in place of a file the run keeps writing, in one step (made beside it, renamed over it: the
 * path is never missing). A write the run began before it may still rename its file over the FIFO (the
 * run never renames over a FIFO it found): planted again until the run says it met it.
 */
async function plantFifoOver(path: string, running: RunningCli, met: RegExp): Promise<void> {
  let said = false;
  const saying = running.printed(met).then(() => (said = true));
  for (;;) {
    if (!existsSync(path) || !lstatSync(path).isFIFO()) {
      execFileSync('mkfifo', [`${path}.planted`]);
      renameSync(`${path}.planted`, path);
      if (!fifos.includes(path)) fifos.push(path);
    }
    await Promise.race([saying, new Promise((resolve) => setTimeout(resolve, 100))]);
    if (said) return;
  }
}

/** The run's result, or 'still running' after a bound no healthy run comes near (20 s). */
async function within20s(running: RunningCli): Promise<CliResult | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), 20_000)));
  const result = await Promise.race([running.done, bound]);
  clearTimeout(timer);
  return result;
}

/** Resolves once something is at `path` (a file renamed into place): told by the folder, never polled. */
function untilExists(path: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(dirname(path), () => {
      if (!existsSync(path)) return;
      watcher.close();
      resolve();
    });
    if (existsSync(path)) {
      watcher.close();
      resolve();
    }
  });
}

/** A peer that opens the FIFO for writing: resolves once the run has opened it for reading. */
async function peerWriter(fifo: string): Promise<FileHandle> {
  const writer = await open(fifo, 'w');
  writers.push(writer);
  return writer;
}

describe('FIFOs at the other paths a run opens', () => {
  test('at the audit log\'s lock (<log>.lock): the lock is taken over at once (reading its holder blocked, deaf to signals)', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    plantFifo(`${log}.lock`);

    const result = await within20s(startCli(['run', '--dry-run', '--ids', input, '--audit-log', log], { env: credentialsEnv(fake) }));

    expect(result).not.toBe('still running');
    expect((result as CliResult).code).toBe(0);
  });

  test('named like a log in --audit-dir: --auto-resume names it and leaves it alone, at once (reading its first line blocked)', async () => {
    const dir = workDir();
    const runs = join(dir, 'runs');
    mkdirSync(runs);
    const fifo = plantFifo(join(runs, '2099-01-01T00-00-00-000Z.ndjson'));
    const input = writeFile(dir, 'ids.txt', 'ORD-1\n');

    const result = await within20s(startCli(['run', '--dry-run', '--ids', input, '--audit-dir', runs, '--auto-resume', '--reach-wait', '1s'],
      { env: { EXSITED_ACCESS_TOKEN: 'tok-123456789', EXSITED_BASE_URL: 'http://127.0.0.1:9' } }));

    expect(result).not.toBe('still running');
    expect((result as CliResult).code).toBe(5); // the run went on (against an API that is not there: unreachable)
    expect((result as CliResult).log).toContain(`${fifo} is left alone by --auto-resume: it holds no run this tool can read`);
  });

  test('named like a log in the folder --history-html reads: named on the page as not read, at once (the finished run waited for a writer, deaf to SIGTERM)', async () => {
    const dir = workDir();
    const runs = join(dir, 'runs');
    mkdirSync(runs);
    const fifo = plantFifo(join(runs, 'pipe.ndjson'));
    symlinkSync('/dev/zero', join(runs, 'zero.ndjson')); // a device: endless, never read either
    const api = await fakeApi(3);
    fake = api.fake;
    const input = writeFile(dir, 'ids.txt', `${api.orders.map((o) => o.id).join('\n')}\n`);
    const page = join(runs, 'history.html');

    const result = await within20s(startCli(['run', '--dry-run', '--ids', input, '--audit-dir', runs, '--history-html', page], { env: credentialsEnv(fake) }));

    expect(result).not.toBe('still running');
    expect((result as CliResult).code).toBe(0);
    const html = readFileSync(page, 'utf8');
    expect(html).toContain(`<code>${fifo}</code>: it is a FIFO (named pipe), not a file</li>`);
    expect(html).toContain('zero.ndjson</code>: it is a character device, not a file</li>');
  });

  test('--filter <(…): a pipe is still read, written after the run opened it; the run selects by it', async () => {
    const api = await fakeApi(8);
    fake = api.fake;
    const dir = workDir();
    const filter = plantFifo(join(dir, 'filter.json'));
    const log = join(dir, 'a.ndjson');
    const running = startCli(['run', '--dry-run', '--filter', filter, '--audit-log', log], { env: credentialsEnv(fake) });

    const writer = await peerWriter(filter);
    await writer.write(JSON.stringify({ match: { status: ['ACTIVE', 'DRAFT', 'CANCELLED', 'COMPLETED'] } }));
    await writer.close();
    writers.length = 0;

    const result = await within20s(running);
    expect(result).not.toBe('still running');
    expect((result as CliResult).code).toBe(0);
    expect(readAudit(log)[0]?.source).toMatchObject({ kind: 'filter' });
  });

  test('--filter naming a FIFO whose writer never writes: SIGTERM ends the run, nothing sent (it never ended: only SIGKILL)', async () => {
    const dir = workDir();
    const filter = plantFifo(join(dir, 'filter.json'));
    const running = startCli(['run', '--dry-run', '--filter', filter, '--audit-log', join(dir, 'a.ndjson')],
      { env: { EXSITED_ACCESS_TOKEN: 'tok-123456789', EXSITED_BASE_URL: 'http://127.0.0.1:9' } });
    await peerWriter(filter); // the run has opened it, and reads

    running.child.kill('SIGTERM');
    const result = await within20s(running);

    expect(result).not.toBe('still running');
    expect((result as CliResult).code).toBe(143);
    expect((result as CliResult).log).toContain('Stopped by SIGTERM before any order was deleted; nothing was sent.');
  });

  test('--audit-log naming a FIFO that someone reads: refused at once, nothing sent (reading the log to resume waited for a writer, deaf to SIGTERM)', async () => {
    const dir = workDir();
    const log = plantFifo(join(dir, 'a.ndjson'));
    const input = writeFile(dir, 'ids.txt', 'ORD-1\n');
    const reader = openSync(log, constants.O_RDONLY | constants.O_NONBLOCK); // so that the log passes as an output
    try {
      const result = await within20s(startCli(['run', '--dry-run', '--ids', input, '--audit-log', log],
        { env: { EXSITED_ACCESS_TOKEN: 'tok-123456789', EXSITED_BASE_URL: 'http://127.0.0.1:9' } }));

      expect(result).not.toBe('still running');
      expect((result as CliResult).code).toBe(2);
      expect((result as CliResult).log).toContain(`${log} is a FIFO (named pipe), not an audit log: a log is a file the run appends to and a resume reads back; nothing was sent`);
    } finally {
      closeSync(reader);
    }
  });

  test('--ids naming a FIFO nobody writes to: SIGTERM ends the run at once, nothing sent, no lock left (it never ended: only SIGKILL)', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const ids = plantFifo(join(dir, 'ids.txt'));
    const log = join(dir, 'a.ndjson');
    const running = startCli(['run', '--yes', '--ids', ids, '--audit-log', log], { env: credentialsEnv(fake) });
    await running.printed(/Reading order IDs from .*ids\.txt, a pipe …/);

    running.child.kill('SIGTERM');
    const result = await within20s(running);

    expect(result).not.toBe('still running');
    expect((result as CliResult).code).toBe(143);
    expect((result as CliResult).log).toContain('Stopped by SIGTERM before any order was deleted; nothing was sent.');
    expect(fake.tokenRequests).toEqual([]);
    expect(fake.deleted).toEqual([]);
    expect(existsSync(`${log}.lock`)).toBe(false);
  }, 60_000);

  test('--ids naming a FIFO a writer feeds once the run reads it: every ID is read and deleted', async () => {
    const api = await fakeApi(5);
    fake = api.fake;
    const dir = workDir();
    const ids = plantFifo(join(dir, 'ids.txt'));
    const log = join(dir, 'a.ndjson');
    const running = startCli(['run', '--yes', '--ids', ids, '--audit-log', log, ...FAST], { env: credentialsEnv(fake) });

    const writer = await peerWriter(ids);
    await writer.write(`order_id\n${api.orders.map((o) => o.id).join('\n')}\n`);
    await writer.close();
    writers.length = 0;

    const result = await within20s(running);
    expect(result).not.toBe('still running');
    expect((result as CliResult).code).toBe(0);
    expect([...fake.deleted].sort()).toEqual(api.orders.map((o) => o.id).sort());
    expect(readAudit(log)[0]?.source).toMatchObject({ kind: 'text', path: ids, count: 5 });
  });

  test('--ids <(printf …): process substitution (/dev/fd/63, a pipe whose writer may be gone already) still works', async () => {
    const api = await fakeApi(4);
    fake = api.fake;
    const log = join(workDir(), 'a.ndjson');
    const result = await within20s(startCli(['run', '--yes', '--audit-log', log, ...FAST],
      { env: credentialsEnv(fake), bashArgs: `--ids <(printf '%s\\n' ${api.orders.map((o) => o.id).join(' ')})` }));

    expect(result).not.toBe('still running');
    expect((result as CliResult).code).toBe(0);
    expect([...fake.deleted].sort()).toEqual(api.orders.map((o) => o.id).sort());
    expect(readAudit(log)[0]?.source).toMatchObject({ path: expect.stringMatching(/^\/dev\/fd\/\d+$/), count: 4 });
  });

  test('outputs replaced by FIFOs nobody reads mid-run: the run finishes, run.end written, one warning naming each (the metrics write blocked the run in open(2))', async () => {
    const api = await fakeApi(40, { faults: { latencyMs: 60 } });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    const outputs = { metrics: join(dir, 'm.prom'), json: join(dir, 's.json'), html: join(dir, 'r.html'), step: join(dir, 'step.md') };
    const running = startCli(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '1', '--metrics-interval', '100ms',
      '--metrics-file', outputs.metrics, '--summary-json', outputs.json, '--html-report', outputs.html, ...FAST],
    { env: { ...credentialsEnv(fake), GITHUB_STEP_SUMMARY: outputs.step } });

    await untilExists(outputs.metrics); // the first metrics, as the deletions start: every output was checked
    for (const path of [outputs.json, outputs.html, outputs.step]) { // written only as the run ends
      rmSync(path, { force: true });
      plantFifo(path);
    }
    await plantFifoOver(outputs.metrics, running, /the metrics file .*m\.prom could not be written/); // written every 100 ms
    const result = await within20s(running);

    expect(result).not.toBe('still running');
    const { code, log: said } = result as CliResult;
    expect(code).toBe(0);
    expect(readAudit(log).at(-1)).toMatchObject({ event: 'run.end', status: 'completed', exitCode: 0 });
    expect(fake.deleted).toHaveLength(40);
    expect(said.match(/the metrics file .*m\.prom could not be written \(it is a pipe or device nobody reads\)/g)).toHaveLength(1);
    expect(said).toContain(`--summary-json ${outputs.json} could not be written: it is a pipe or device nobody reads.`);
    expect(said).toContain(`$GITHUB_STEP_SUMMARY ${outputs.step} could not be written: it is a pipe or device nobody reads.`);
    expect(said).toContain(`--html-report ${outputs.html} could not be written: it is a pipe or device nobody reads.`);
    for (const path of Object.values(outputs)) expect(lstatSync(path).isFIFO()).toBe(true);
  }, 60_000);

  test('--summary-json >(cat): a pipe whose path resolves to no file (/dev/fd/63 → pipe:[…]) is written in place (it was renamed over)', async () => {
    const api = await fakeApi(2);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const result = await within20s(startCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson')],
      { env: credentialsEnv(fake), bashArgs: '--summary-json >(cat)' }));

    expect(result).not.toBe('still running');
    expect((result as CliResult).code).toBe(0);
    expect((result as CliResult).log).not.toContain('could not be written');
    expect(JSON.parse((result as CliResult).stdout)).toMatchObject({ status: 'completed', exitCode: 0, counts: { deleted: 2 } });
  });
});
