import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, NOBODY, readAudit, runCli, runInProcess, startCli, untilDeletes, workDir, writeFile, type CliResult } from '../helpers/cli.js';

/** Issue 9: outputs that could not be written crashed (a stack trace, exit 4) — some after requests were sent. */
let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** A person reads a sentence: never a stack trace, a raw Node error or "internal error". */
function expectPlainRefusal(result: CliResult, code: number, ...mentions: string[]) {
  expect(result.stderr).not.toMatch(/\n\s+at |internal error|TypeError|Error: E[A-Z]+:/);
  expect(result.code).toBe(code);
  for (const text of mentions) expect(result.log).toContain(text);
}

describe('output paths are checked before the first request', () => {
  test('an audit folder that cannot be created: exit 2 naming it, before the token request and the listing', async () => {
    const api = await fakeApi(20);
    fake = api.fake;
    const dir = workDir();
    const filter = writeFile(dir, 'f.json', JSON.stringify({ match: { createdBy: ['qa-bot'] } }));

    const result = await runCli(['run', '--yes', '--filter', filter, '--audit-dir', join(dir, 'runs')], { env: credentialsEnv(fake), user: NOBODY });

    expectPlainRefusal(result, 2, join(dir, 'runs'), 'permission denied');
    expect(fake.stats.requests).toBe(0);
  });

  test('an existing log owned by another user: exit 2, nothing sent', async () => {
    const api = await fakeApi(5);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    expect((await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log, '--max-deletes', '0'], { env: credentialsEnv(fake) })).code).toBe(3);
    const requests = fake.stats.requests;

    const result = await runCli(['run', '--yes', '--resume', '--audit-log', log], { env: credentialsEnv(fake), user: NOBODY });

    expectPlainRefusal(result, 2, log, 'permission denied');
    expect(fake.stats.requests).toBe(requests);
  });

  test('--summary-json in a folder that does not exist yet is written there (it crashed with exit 4 after the run)', async () => {
    const api = await fakeApi(4);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const summary = join(dir, 'out', 'deeper', 's.json');

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--summary-json', summary], { env: credentialsEnv(fake) });

    expectPlainRefusal(result, 0);
    expect(JSON.parse(readFileSync(summary, 'utf8'))).toMatchObject({ exitCode: 0, status: 'completed' });
  });

  test.each([
    ['--summary-json', (dir: string) => ['--summary-json', join(dir, 'locked', 's.json')], {}],
    ['$GITHUB_STEP_SUMMARY', () => [], { GITHUB_STEP_SUMMARY: '/dev/null/summary.md' }],
  ])('%s that cannot be written: exit 2 naming it, before any request', async (what, args, extraEnv) => {
    const api = await fakeApi(4);
    fake = api.fake;
    const dir = workDir();
    mkdirSync(join(dir, 'locked'));
    chmodSync(join(dir, 'locked'), 0o555);
    const runs = join(dir, 'runs');
    mkdirSync(runs);
    chmodSync(runs, 0o777);
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));

    const result = await runCli(['run', '--yes', '--ids', input, '--audit-dir', runs, ...args(dir)], { env: { ...credentialsEnv(fake), ...extraEnv }, user: NOBODY });

    expectPlainRefusal(result, 2, what);
    expect(fake.stats.requests).toBe(0);
  });

  test('report --failed-csv that cannot be written: exit 2 with a sentence', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const log = join(dir, 'a.ndjson');
    await runInProcess(['run', '--yes', '--ids', writeFile(dir, 'ids.txt', 'ORD-NOPE-1\n'), '--audit-log', log], { env: credentialsEnv(fake) });

    for (const target of ['/dev/null/failed.csv', dir]) {
      for (const option of ['--failed-csv', '--html', '--timeline']) {
        expectPlainRefusal(await runInProcess(['report', log, option, target]), 2, `report: ${option} ${target}`);
      }
    }
    expectPlainRefusal(await runInProcess(['report', log, '--timeline', join(dir, 't.csv'), '--interval', 'soon']), 2, 'report: --interval must be a duration such as 45m, 1h30m or 90s, got "soon"');
    expect(existsSync(join(dir, 't.csv'))).toBe(false);
  });
});

describe('writes that fail in the middle of a run', () => {
  test('the audit log hits the file size limit (EFBIG): a clean halt, exit 4, the resume command; the resume finishes', async () => {
    const api = await fakeApi(200, { faults: { latencyMs: 2 } });
    fake = api.fake;
    const dir = workDir();
    const targets = api.orders.map((o) => o.id);
    const input = writeFile(dir, 'ids.txt', targets.join('\n'));
    const log = join(dir, 'a.ndjson');

    const summary = join(dir, 's.json');
    const full = await runCli(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '2', '--summary-json', summary], { env: credentialsEnv(fake), shellPrefix: 'ulimit -f 40' });

    expectPlainRefusal(full, 4, log, 'To resume:');
    expect(full.log).toMatch(/audit log .*could not be written.*file too large/);
    const recorded = readAudit(log, []).filter((l) => l.event === 'order').length;
    expect(recorded).toBeGreaterThan(10);
    expect(recorded).toBeLessThan(200);
    // The log is short of lines: the summary tells the run's own counts, the console's, not the log's (red team: it undercounted).
    const deleted = Number(/^\s+deleted\s+(\d+)$/m.exec(full.log)?.[1]);
    expect(JSON.parse(readFileSync(summary, 'utf8'))).toMatchObject({ status: 'halted', exitCode: 4, stopCause: 'audit_log', counts: { deleted } });
    expect(full.log).toMatch(/cannot tell this run's story: it could not be written whole/);

    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log], { env: credentialsEnv(fake) });
    expect(resumed.code).toBe(0);
    expect(fake.orders.size).toBe(0);
    expect(new Set(fake.deleted)).toEqual(new Set(targets));
  });

  test('a summary that cannot be written at the end (no space) is a warning; the exit code stays the run\'s', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log, '--summary-json', '/dev/full'], { env: credentialsEnv(fake) });

    expectPlainRefusal(result, 0, '/dev/full', 'no space left');
    expect(readAudit(log).at(-1)).toMatchObject({ event: 'run.end', exitCode: 0 });
  });

  test('--summary-json that cannot be written whole leaves the last summary whole (issue 21, case 13: it left a truncated file)', async () => {
    const api = await fakeApi(2);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    // The summary names the log; the log does not hold its own path: a long one makes the summary, not the log, pass the size limit.
    const deep = join(dir, ...Array.from({ length: 18 }, (_, i) => `${i}`.padStart(200, 'd')));
    mkdirSync(deep, { recursive: true });
    const summary = writeFile(dir, 's.json', '{"status":"completed","exitCode":0,"note":"the last run"}\n');

    const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', join(deep, 'a.ndjson'), '--summary-json', summary], { env: credentialsEnv(fake), shellPrefix: 'ulimit -f 8' });

    expectPlainRefusal(result, 0, `--summary-json ${summary} could not be written: file too large`);
    expect(readAudit(join(deep, 'a.ndjson')).at(-1)).toMatchObject({ event: 'run.end', exitCode: 0 });
    expect(JSON.parse(readFileSync(summary, 'utf8'))).toEqual({ status: 'completed', exitCode: 0, note: 'the last run' });
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  test('--html-report on a device is written in place, never renamed over it (as root that replaced /dev/full for the whole machine)', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));

    const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--html-report', '/dev/full'], { env: credentialsEnv(fake) });

    expectPlainRefusal(result, 0, '--html-report /dev/full could not be written: no space left', `report ${join(dir, 'a.ndjson')} --html /dev/full`);
    expect(lstatSync('/dev/full').isCharacterDevice()).toBe(true);
  });
});

describe('one run per audit log, whatever its path', () => {
  test('a symlink to a log in use is the same log: the second run is refused (58 orders were deleted twice)', async () => {
    const api = await fakeApi(40, { faults: { latencyMs: 30 } });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    const link = join(dir, 'link.ndjson');

    const first = startCli(['run', '--yes', '--ids', input, '--audit-log', log, '--concurrency', '1'], { env: credentialsEnv(fake) });
    await first.printed(/Audit log:/);
    symlinkSync(log, link);
    const second = await runInProcess(['run', '--yes', '--resume', '--audit-log', link], { env: credentialsEnv(fake) });
    first.child.kill('SIGTERM');
    await first.done;

    expectPlainRefusal(second, 3, 'another run is using this audit log');
    const sent = fake.deletes.map((d) => d.orderId);
    expect(new Set(sent).size).toBe(sent.length);
  });

  test('a stale lock taken over by eight processes at once has exactly one new holder', async () => {
    const dir = workDir();
    const log = join(dir, 'a.ndjson');
    const lockModule = fileURLToPath(new URL('../../dist/audit/run-lock.js', import.meta.url));
    // Each process takes the lock on the line "go" and says how it went; a holder holds until stdin ends,
    // once all eight have tried.
    const script = `
      import { appendFileSync } from 'node:fs';
      import { createInterface } from 'node:readline';
      const { RunLock } = await import(${JSON.stringify(lockModule)});
      const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
      process.stdout.write('ready\\n');
      await lines.next();
      const lock = new RunLock(${JSON.stringify(log)}, 'r' + process.pid);
      try { await lock.acquire(); } catch { process.stdout.write('refused\\n'); process.exit(0); }
      appendFileSync(${JSON.stringify(join(dir, 'holders'))}, process.pid + '\\n');
      process.stdout.write('held\\n');
      await lines.next();
      await lock.release();`;
    const said = (child: { stdout: Readable }) => new Promise((resolve) => child.stdout.once('data', resolve));
    for (let round = 0; round < 3; round++) {
      writeFileSync(`${log}.lock`, JSON.stringify({ pid: 4_194_000 + round, host: (await import('node:os')).hostname(), startedAt: '2026-01-01T00:00:00Z', runId: 'dead' }));
      writeFileSync(join(dir, 'holders'), '');
      const children = Array.from({ length: 8 }, () => spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] }));
      const exited = children.map((child) => new Promise((resolve) => child.on('exit', resolve)));
      await Promise.all(children.map(said)); // all eight are ready
      const tried = children.map(said);
      for (const child of children) child.stdin.write('go\n');
      await Promise.all(tried);
      for (const child of children) child.stdin.end();
      await Promise.all(exited);
      expect(readFileSync(join(dir, 'holders'), 'utf8').trim().split('\n')).toHaveLength(1);
    }
  });

  test('a symlink planted where the lock writes its temporary file is never followed', async () => {
    const dir = workDir();
    const log = join(dir, 'a.ndjson');
    const victim = writeFile(dir, 'victim.txt', 'precious');
    symlinkSync(victim, `${log}.lock.${process.pid}.tmp`);
    const { RunLock } = await import('../../src/audit/run-lock.js');
    const lock = new RunLock(log, 'abc');
    await lock.acquire();
    await lock.release();
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(existsSync(`${log}.lock`)).toBe(false);
  });
});

describe('an output never replaces an input, the record or another output (issue 21, case 2)', () => {
  /** Bytes of each file before a refused command, to prove nothing was written. */
  const snapshot = (...paths: string[]) => paths.map((path) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined));

  test('run: every output option aimed at the audit log, its lock, its manifest, the input, the token cache or another output: exit 2, nothing sent', async () => {
    const api = await fakeApi(4);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    symlinkSync(log, join(dir, 'link-to-log'));
    mkdirSync(join(dir, 'sub')); // `sub/..` is followed as the kernel follows it: sub must be there (a `..` after a missing folder is refused)
    const targets: Array<[string, string]> = [
      ['the audit log', log], ['the audit log', `${dir}/./sub/../a.ndjson`], ['the audit log', join(dir, 'link-to-log')],
      ["the audit log's lock", `${log}.lock`], ['--ids', input],
      ['--token-cache', join(dir, 'tokens.json')], ['--summary-json', join(dir, 'out.json')],
    ];
    const options: Array<[string, (path: string) => { args: string[]; env?: NodeJS.ProcessEnv }]> = [
      ['--summary-json', (path) => ({ args: ['--summary-json', path] })], ['--html-report', (path) => ({ args: ['--html-report', path] })],
      ['--metrics-file', (path) => ({ args: ['--metrics-file', path] })], ['$GITHUB_STEP_SUMMARY', (path) => ({ args: [], env: { GITHUB_STEP_SUMMARY: path } })],
    ];
    for (const [option, aim] of options) {
      for (const [what, target] of targets) {
        if (option === what) continue;
        const { args, env } = aim(target);
        const extra = what === '--summary-json' ? ['--summary-json', target] : [];
        const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log, '--token-cache', join(dir, 'tokens.json'), ...extra, ...args], {
          env: { ...credentialsEnv(fake), ...env },
        });
        expectPlainRefusal(result, 2, `${option} ${target} is the same file as ${what}`, 'nothing was sent');
      }
    }
    const filter = writeFile(dir, 'f.json', JSON.stringify({ match: { createdBy: ['qa-bot'] } }));
    const manifest = await runInProcess(['run', '--yes', '--filter', filter, '--audit-log', log, '--html-report', join(dir, 'a.manifest.csv')], { env: credentialsEnv(fake) });
    expectPlainRefusal(manifest, 2, `--html-report ${join(dir, 'a.manifest.csv')} is the same file as the manifest`);
    expect(fake.stats.requests).toBe(0);
    expect(existsSync(log)).toBe(false);
  });

  test('resume and report: an output aimed at the log (through a link, ./, another name) leaves it intact; so does one aimed at another run\'s log', async () => {
    const api = await fakeApi(6);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    const other = join(dir, 'b.ndjson');
    expect((await runInProcess(['run', '--yes', '--ids', input, '--audit-log', log, '--max-deletes', '2'], { env: credentialsEnv(fake) })).code).toBe(3);
    expect((await runInProcess(['run', '--yes', '--ids', input, '--audit-log', other, '--dry-run'], { env: credentialsEnv(fake) })).code).toBe(0);
    symlinkSync(log, join(dir, 'link.ndjson'));
    const before = snapshot(log, other);
    const requests = fake.stats.requests;

    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--max-deletes', '10', '--html-report', join(dir, 'link.ndjson')], { env: credentialsEnv(fake) });
    expectPlainRefusal(resumed, 2, '--html-report', 'is the same file as the audit log', 'nothing was sent');
    const elsewhere = await runInProcess(['run', '--yes', '--resume', '--audit-log', log, '--max-deletes', '10', '--summary-json', other], { env: credentialsEnv(fake) });
    expectPlainRefusal(elsewhere, 2, `--summary-json ${other} is an audit log of this tool`, 'nothing was sent');
    for (const option of ['--html', '--timeline', '--failed-csv']) {
      for (const target of [log, `${dir}/./a.ndjson`, join(dir, 'link.ndjson'), other, input]) {
        const result = await runInProcess(['report', log, option, target]);
        expect(result.code).toBe(2);
        expect(result.log).toMatch(/is the same file as|is an audit log of this tool/);
        expect(result.log).toContain('nothing was written');
      }
    }
    expectPlainRefusal(await runInProcess(['report', log, '--html', join(dir, 'r.out'), '--timeline', join(dir, 'r.out')]), 2, 'is the same file as report: --html');
    expect(snapshot(log, other)).toEqual(before);
    expect(readFileSync(input, 'utf8')).toBe(api.orders.map((o) => o.id).join('\n'));
    expect(fake.stats.requests).toBe(requests);
  });

  test('fake-api --write-ids aimed at its own --orders file: exit 2, the file intact', async () => {
    const dir = workDir();
    const orders = writeFile(dir, 'orders.json', JSON.stringify([{ id: 'ORD-1', account_id: 'A1', created_on: '2026-01-01T00:00:00Z' }]));
    const result = await runInProcess(['fake-api', '--port', '0', '--orders', orders, '--write-ids', `${dir}/./orders.json`]);
    expectPlainRefusal(result, 2, 'is the same file as fake-api: --orders');
    expect(JSON.parse(readFileSync(orders, 'utf8'))).toHaveLength(1);
  });
});

describe('an output redirected while the run goes on (issue 21, case 2: a link planted after the start-up check)', () => {
  test.each([
    ['', undefined],
    // Where statx fails (some sandboxes: seccomp, qemu-user), Node reports the change time as the birth time: a protection that compared birth times protected nothing there.
    [', with statx failing (ENOSYS)', ['strace', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=statx', '-e', 'inject=statx:error=ENOSYS']],
  ])('a link to the audit log put at --summary-json and --metrics-file mid-run%s: the log stays whole, each output says it was not written', async (_, wrap) => {
    const api = await fakeApi(30, { faults: { latencyMs: 40 } });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const log = join(dir, 'a.ndjson');
    const summary = join(dir, 'summary.json');
    const metrics = join(dir, 'metrics.prom');

    const run = startCli(['run', '--yes', '--ids', input, '--audit-log', log, '--summary-json', summary, '--metrics-file', metrics, '--concurrency', '1'], { env: credentialsEnv(fake), wrap });
    await untilDeletes(fake, 3);
    symlinkSync(log, summary);
    rmSync(metrics, { force: true });
    symlinkSync(log, metrics);
    const result = await run.done;

    expect(result.code).toBe(0);
    expect(readAudit(log).at(-1)).toMatchObject({ event: 'run.end', status: 'completed' });
    expect(result.log).toMatch(/--summary-json .*summary\.json could not be written: it now leads .* to one of the run's own files/);
    expect(result.log).toMatch(/metrics file .*metrics\.prom could not be written \(it now leads/);
  });
});

describe('an output on a stream someone redirected, or another run\'s log (red team, 2026-12-03)', () => {
  test('--summary-json /dev/stdout > out.txt: out.txt holds the final summary, once; /dev/stdout stays a link (as root it was replaced by a file for every process)', async () => {
    const api = await fakeApi(6);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const out = join(dir, 'out.txt');
    const { ino } = statSync(writeFile(dir, 'out.txt', ''));
    const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--summary-json', '/dev/stdout'],
      { env: credentialsEnv(fake), bashArgs: `> ${out}` });
    expect(lstatSync('/dev/stdout').isSymbolicLink()).toBe(true);
    expect(result.code).toBe(0);
    expect(statSync(out).ino).toBe(ino); // the shell's file, never renamed over
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ status: 'completed', exitCode: 0, counts: { deleted: 6 } });
    expect(result.log).not.toContain('could not be written');
  });

  test('--summary-json /proc/thread-self/fd/1 > out.txt: a thread\'s name for stdout is the process\'s own, written through it (red team: the early summary went there, the final one failed, "no such file")', async () => {
    const api = await fakeApi(4);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const out = join(dir, 'out.txt');
    const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--summary-json', '/proc/thread-self/fd/1'],
      { env: credentialsEnv(fake), bashArgs: `> ${out}` });
    expect(result.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ status: 'completed', exitCode: 0, counts: { deleted: 4 } });
    expect(result.log).not.toContain('could not be written');
  });

  test('--summary-json /dev/stdout as another user, stdout a pipe of the caller\'s: checked through the descriptor, as it is written (red team: refused, "permission denied", twice)', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    chmodSync(dir, 0o777);
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--summary-json', '/dev/stdout'], { env: credentialsEnv(fake), user: NOBODY });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'completed', counts: { deleted: 3 } });
  });

  test('--summary-json /dev/fd/3 with 3> summary.json (exec 3>…, a service manager\'s descriptors): written there (red team: refused as "Node\'s own")', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const summary = join(dir, 'summary.json');
    const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--summary-json', '/dev/fd/3'],
      { env: credentialsEnv(fake), bashArgs: `3> ${summary}` });
    expect(result.code).toBe(0);
    expect(JSON.parse(readFileSync(summary, 'utf8'))).toMatchObject({ status: 'completed', counts: { deleted: 3 } });
  });

  test('an output named - (standard input\'s name for --ids): exit 2 pointing to /dev/stdout, never a file named - (red team: one was written)', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const [summary, failedCsv] = await Promise.all([
      runCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--summary-json', '-'], { env: credentialsEnv(fake), cwd: dir }),
      runCli(['report', join(dir, 'none.ndjson'), '--failed-csv', '-'], { cwd: dir }),
    ]);
    expectPlainRefusal(summary, 2, '--summary-json -: an output is a file: for standard output, give /dev/stdout; nothing was sent');
    expect(failedCsv.code).toBe(2);
    expect(existsSync(join(dir, '-'))).toBe(false);
    expect(fake.stats.requests).toBe(0);
  });

  test('an output in the kernel\'s file systems (/proc, /sys): exit 2 before anything is sent, never a write at the run\'s end (red team: root opens /proc/self/status for writing)', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const cases: Array<[string, string, string]> = [
      ['--summary-json', '/proc/self/status', 'procfs, /proc'], ['--metrics-file', '/proc/self/comm', 'procfs, /proc'], ['--html-report', '/sys/kernel/report.html', 'sysfs, /sys'],
    ];
    for (const [flag, path, kind] of cases) {
      const result = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), flag, path], { env: credentialsEnv(fake) });
      expectPlainRefusal(result, 2, `${flag} ${path}: a file of the kernel's (${kind}), not a place for an output; nothing was sent`);
    }
    // A folder there that does not exist: Node 20's recursive mkdir spun for ever, deaf to signals (red team). A child process, so that a spin dies with the test.
    const missing = await runCli(['run', '--yes', '--ids', input, '--audit-dir', '/proc/self/nonexistent/runs'], { env: credentialsEnv(fake) });
    expectPlainRefusal(missing, 2, 'a file of the kernel\'s (procfs, /proc), not a place for an output; nothing was sent');
    // Under /sys whatever is mounted there (a tmpfs holds the cgroup folders on some machines: a mkdir there makes a cgroup).
    const cgroup = await runInProcess(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--summary-json', '/sys/fs/cgroup/eoc-test-none/s.json'], { env: credentialsEnv(fake) });
    expectPlainRefusal(cgroup, 2, '--summary-json /sys/fs/cgroup/eoc-test-none/s.json: a file of the kernel\'s (');
    expect(existsSync('/sys/fs/cgroup/eoc-test-none')).toBe(false);
    expect(fake.stats.requests).toBe(0);
  });

  test('--summary-json naming a path another run takes as its --audit-log meanwhile: that log is never replaced; the first run says so', async () => {
    const api = await fakeApi(40, { faults: { latencyMs: 40 } });
    fake = api.fake;
    const dir = workDir();
    const shared = join(dir, 'shared.ndjson');
    const first = startCli(['run', '--yes', '--ids', writeFile(dir, 'a.txt', api.orders.slice(0, 30).map((o) => o.id).join('\n')), '--audit-log', join(dir, 'a.ndjson'),
      '--summary-json', shared, '--concurrency', '1'], { env: credentialsEnv(fake) });
    await untilDeletes(fake, 3);
    const second = await runInProcess(['run', '--yes', '--ids', writeFile(dir, 'b.txt', api.orders.slice(30).map((o) => o.id).join('\n')), '--audit-log', shared],
      { env: credentialsEnv(fake) });
    expect(second.code).toBe(0);
    const result = await first.done;
    expect(result.code).toBe(0);
    const said = `--summary-json ${shared} could not be written: it is now an audit log of this tool (the record of a run): an output never replaces one.`;
    expect(result.log.split(said)).toHaveLength(2); // said once, not after the early summary and again after the full one
    expect(readAudit(shared).map((line) => line.event)).toEqual(['run.start', ...Array(10).fill('order'), 'run.end']);
  });
});

describe('an output naming a descriptor the tool opens later (issue 21, case 2\'s sibling: /dev/fd/21 was the audit log)', () => {
  test('--metrics-file /dev/fd/21: exit 2, nothing sent', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--metrics-file', '/dev/fd/21'], { env: credentialsEnv(fake) });
    expectPlainRefusal(result, 2, '--metrics-file /dev/fd/21 names file descriptor 21 of this process, which is not open');
    expect(fake.stats.requests).toBe(0);
  });
});

describe('an output naming one of Node\'s own descriptors (red team: /dev/fd/6 segfaulted the run, /dev/fd/4 wrote the summary into an internal pipe)', () => {
  test('--summary-json /dev/fd/3 to /dev/fd/12: each refused (exit 2) before anything is sent, as not open or not handed down', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const fds = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const results = await Promise.all(fds.map((fd) => runCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, `${fd}.ndjson`), '--summary-json', `/dev/fd/${fd}`],
      { env: credentialsEnv(fake!) })));
    for (const [i, result] of results.entries()) {
      expectPlainRefusal(result, 2, `--summary-json /dev/fd/${fds[i]} names file descriptor ${fds[i]} of this process, which is`);
    }
    expect(fake.stats.requests).toBe(0);
  });

  test('a descriptor the caller opened for reading (exec 3<file): refused as read-only, never as one of Node\'s own (red team)', async () => {
    const api = await fakeApi(1);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders[0]!.id);
    const result = await runCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson'), '--summary-json', '/dev/fd/3'], { env: credentialsEnv(fake), bashArgs: `3< ${writeFile(dir, 'notes.txt', 'x')}` });
    expectPlainRefusal(result, 2, '--summary-json /dev/fd/3 names file descriptor 3 of this process, which is open for reading only (an output needs one open for writing: exec 3>file)');
    expect(result.log).not.toContain('Node\'s');
    expect(fake.stats.requests).toBe(0);
  });
});

describe('report from another folder (issue 21, case 2\'s sibling)', () => {
  test('--failed-csv aimed at the run\'s input, named relative to the run\'s folder: refused, the input intact', async () => {
    const api = await fakeApi(4);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', ['ORD-NOPE-1', ...api.orders.map((o) => o.id)].join('\n'));
    mkdirSync(join(dir, 'other'));
    expect((await runCli(['run', '--yes', '--ids', 'ids.txt', '--audit-log', 'a.ndjson'], { env: credentialsEnv(fake), cwd: dir })).code).toBe(0);

    const result = await runCli(['report', '../a.ndjson', '--failed-csv', '../ids.txt'], { cwd: join(dir, 'other') });

    expectPlainRefusal(result, 2, '--failed-csv ../ids.txt is the same file as the input its run recorded');
    expect(readFileSync(input, 'utf8')).toContain('ORD-NOPE-1');
  });
});
