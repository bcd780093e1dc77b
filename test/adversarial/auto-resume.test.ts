import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, cutRunEnd, fakeApi, FAST, onlyLogIn, readAudit, runCli, runInProcess, startCli, untilDeletes, workDir, writeFile } from '../helpers/cli.js';
import { atTerminal } from '../helpers/terminal.js';
import { autoResumeFinding } from '../../src/audit/latest-log.js';

/** Issue 21, case 3: a nightly job's --auto-resume finished a person's interrupted run of another input, under its own consent. */
let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('--auto-resume continues its own job only', () => {
  test('a person\'s run in runs/, Ctrl-C at a terminal: the nightly job names it and deletes none of its orders', async () => {
    const api = await fakeApi(140, { faults: { latencyMs: 20 } });
    fake = api.fake;
    const dir = workDir();
    const wrong = writeFile(dir, 'wrong.csv', `order_id\n${api.orders.slice(0, 100).map((o) => o.id).join('\n')}\n`);
    const nightly = writeFile(dir, 'nightly.json', JSON.stringify({ ids: writeFile(dir, 'qa.txt', api.orders.slice(100).map((o) => o.id).join('\n')), auditDir: 'runs', autoResume: true, yes: true }));
    const env = credentialsEnv(fake);

    const person = atTerminal(`cli run --ids ${wrong} --yes --concurrency 1`, { env, cwd: dir });
    await untilDeletes(fake, 18);
    person.type('\x03');
    expect((await person.done).screen).toMatch(/SIGINT/);
    const deletedByPerson = fake.deleted.length;

    const night = await runCli(['run', '--job', nightly, ...FAST], { env, cwd: dir });

    expect(night.code).toBe(0);
    expect(night.log).not.toMatch(/Resuming/);
    expect(night.log).toMatch(/runs\/.*\.ndjson holds an unfinished run that --auto-resume leaves alone: .*a person interrupted it|another job/);
    expect(night.log).toMatch(/To continue it: .* run --resume --audit-log runs\//);
    expect(fake.deleted.filter((id) => api.orders.slice(0, 100).some((o) => o.id === id))).toHaveLength(deletedByPerson); // none of wrong.csv's since
    expect(api.orders.slice(100).every((o) => fake!.deleted.includes(o.id))).toBe(true); // its own work done
  });

  test('the job\'s own run, killed, is resumed by its next night; a SIGINT of its own run waits for a person', async () => {
    const api = await fakeApi(120, { faults: { latencyMs: 15 } });
    fake = api.fake;
    const dir = workDir();
    const ids = writeFile(dir, 'nightly.txt', api.orders.slice(0, 80).map((o) => o.id).join('\n'));
    const nightly = writeFile(dir, 'nightly.json', JSON.stringify({ ids, auditDir: join(dir, 'runs'), autoResume: true, yes: true, concurrency: 2 }));
    const env = credentialsEnv(fake);

    const killed = startCli(['run', '--job', nightly, ...FAST], { env });
    await untilDeletes(fake, 15);
    killed.child.kill('SIGKILL');
    await killed.done;
    const next = await runInProcess(['run', '--job', nightly, ...FAST], { env });
    expect(next.code).toBe(0);
    expect(next.log).toMatch(/Resuming this job's unfinished run in .*\.ndjson first/);
    expect(api.orders.slice(0, 80).every((o) => fake!.deleted.includes(o.id))).toBe(true);

    writeFileSync(ids, api.orders.slice(80).map((o) => o.id).join('\n'));
    const interrupted = startCli(['run', '--job', nightly, '--concurrency', '1', ...FAST], { env });
    await untilDeletes(fake, 85);
    interrupted.child.kill('SIGINT');
    expect((await interrupted.done).code).toBe(130);
    const after = await runInProcess(['run', '--job', nightly, ...FAST], { env });
    expect(after.log).not.toMatch(/Resuming/);
    expect(after.log).toMatch(/a person interrupted it \(Ctrl-C, or a terminal closed\)/);
    const logs = readdirSync(join(dir, 'runs')).filter((name) => name.endsWith('.ndjson'));
    expect(logs).toHaveLength(4); // the killed run (resumed the next night), that night's own, the interrupted one, the last
    expect(new Set(logs.map((name) => readAudit(join(dir, 'runs', name), [])[0]?.job?.id))).toEqual(new Set([expect.stringMatching(/^[0-9a-f]{16}$/)]));
  });
});

/** The red team's round on case 3: other ways a run not this job's to continue was continued. */
describe('--auto-resume and --resume never guess whose run it is', () => {
  const ids = (orders: Array<{ id: string }>) => orders.map((o) => o.id).join('\n');

  test('runs reading a pipe have no lasting identity: one stopped is never continued by the next pipe\'s run', async () => {
    const api = await fakeApi(60, { faults: { latencyMs: 20 } });
    fake = api.fake;
    const dir = workDir();
    const env = credentialsEnv(fake);
    const first = startCli(['run', '--ids', '-', '--audit-dir', 'runs', '--yes', '--concurrency', '1'], { env, cwd: dir, stdin: ids(api.orders.slice(0, 40)) });
    await untilDeletes(fake, 5);
    first.child.kill('SIGTERM');
    expect((await first.done).code).toBe(143);
    const deleted = fake.deleted.length;

    const second = await runCli(['run', '--ids', '-', '--audit-dir', 'runs', '--auto-resume', '--yes'], { env, cwd: dir, stdin: ids(api.orders.slice(40)) });

    expect(second.code).toBe(0);
    expect(second.log).not.toMatch(/Resuming/);
    expect(second.log).toMatch(/holds an unfinished run that --auto-resume leaves alone/);
    expect(fake.deleted.filter((id) => api.orders.slice(0, 40).some((o) => o.id === id))).toHaveLength(deleted);
  });

  test('Ctrl-C twice (no run.end), or once before a resume a later SIGTERM stopped: the job\'s next night leaves it for a person', async () => {
    const api = await fakeApi(80, { faults: { latencyMs: 25 } });
    fake = api.fake;
    const dir = workDir();
    const job = writeFile(dir, 'nightly.json', JSON.stringify({ ids: writeFile(dir, 'n.txt', ids(api.orders)), auditDir: join(dir, 'runs'), autoResume: true, yes: true, concurrency: 1 }));
    const env = credentialsEnv(fake);

    const twice = startCli(['run', '--job', job, ...FAST], { env });
    await untilDeletes(fake, 4);
    twice.child.kill('SIGINT');
    await twice.printed(/SIGINT: no new orders/);
    twice.child.kill('SIGINT');
    expect((await twice.done).code).toBe(130);
    const [log] = readdirSync(join(dir, 'runs')).filter((name) => name.endsWith('.ndjson'));
    const path = join(dir, 'runs', log as string);
    expect(readAudit(path, []).some((line) => line.event === 'run.stop' && line.signal === 'SIGINT')).toBe(true);

    const jobId = readAudit(path, [])[0]?.job?.id as string;
    const night = await autoResumeFinding(join(dir, 'runs'), jobId); // what the job's next night finds
    expect(night.resume).toBeUndefined();
    expect(night.leftAlone[0]).toMatchObject({ entry: { path }, why: expect.stringContaining('a person interrupted it (Ctrl-C, or a terminal closed)') });

    const byPerson = startCli(['run', '--resume', '--audit-log', path, '--yes', ...FAST], { env });
    await untilDeletes(fake, 8);
    byPerson.child.kill('SIGTERM');
    expect((await byPerson.done).code).toBe(143);
    expect(readAudit(path, []).at(-1)).toMatchObject({ event: 'run.end', exitCode: 143 }); // the last run.end says SIGTERM
    const after = await autoResumeFinding(join(dir, 'runs'), jobId);
    expect(after.resume).toBeUndefined();
    expect(after.leftAlone[0]?.why).toContain('a person interrupted it (Ctrl-C, or a terminal closed)');
  });

  test('run --resume without --audit-log, with a dry run of yours and a colleague\'s interrupted run: exit 2 listing both, nothing sent', async () => {
    const api = await fakeApi(40, { faults: { latencyMs: 25 } });
    fake = api.fake;
    const dir = workDir();
    const env = credentialsEnv(fake);
    expect((await runCli(['run', '--ids', writeFile(dir, 'mine.txt', ids(api.orders.slice(0, 5))), '--dry-run'], { env, cwd: dir })).code).toBe(0);
    const theirs = startCli(['run', '--ids', writeFile(dir, 'theirs.txt', ids(api.orders.slice(5))), '--yes', '--concurrency', '1'], { env, cwd: dir });
    await untilDeletes(fake, 3);
    theirs.child.kill('SIGINT');
    await theirs.done;
    const requests = fake.stats.requests;

    const resume = await runCli(['run', '--resume', '--yes'], { env, cwd: dir });

    expect(resume.code).toBe(2);
    expect(resume.log).toMatch(/runs\/ holds 2 runs of different jobs that could be continued; say which, with --audit-log; nothing was sent/);
    expect(resume.log).toMatch(/a dry run; text \S*mine\.txt/);
    expect(resume.log).toMatch(/interrupted, exit 130; text \S*theirs\.txt/);
    expect(resume.log).toMatch(/run --resume --audit-log runs\/\S+\.ndjson\n/);
    expect(fake.stats.requests).toBe(requests);
  });

  test('a nightly input regenerated after a halt, and shards in one folder: the next night goes on with its own work', async () => {
    const api = await fakeApi(90, { faults: { latencyMs: 25 } });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'n.txt', ids(api.orders.slice(0, 30)));
    const job = writeFile(dir, 'nightly.json', JSON.stringify({ ids: input, auditDir: join(dir, 'runs'), autoResume: true, yes: true, concurrency: 1 }));
    const env = credentialsEnv(fake);
    const stopped = startCli(['run', '--job', job, ...FAST], { env });
    await untilDeletes(fake, 3);
    stopped.child.kill('SIGTERM');
    expect((await stopped.done).code).toBe(143);
    writeFileSync(input, ids(api.orders.slice(30, 45)));

    const night = await runCli(['run', '--job', job, ...FAST], { env });
    expect(night.code).toBe(0);
    expect(night.log).toMatch(/cannot be continued as it was recorded \(.*is not the input the run started with.*\); it is left for a person, and this run goes on/);
    expect(api.orders.slice(30, 45).every((o) => fake!.deleted.includes(o.id))).toBe(true);

    const shards = join(dir, 'shards');
    const all = writeFile(dir, 'all.txt', ids(api.orders.slice(45)));
    const shard0 = startCli(['run', '--ids', all, '--shard', '0/2', '--audit-dir', shards, '--yes', '--concurrency', '1'], { env });
    await untilDeletes(fake, fake.deleted.length + 2);
    shard0.child.kill('SIGTERM');
    await shard0.done;
    const shard1 = await runCli(['run', '--ids', all, '--shard', '1/2', '--audit-dir', shards, '--auto-resume', '--yes'], { env });
    expect(shard1.code).toBe(0);
    expect(shard1.log).not.toMatch(/Resuming/);
  });

  test('the night\'s time window is its own: a continued run\'s recorded --max-duration never stops the night\'s new run (red team: halted at 1 s, its log recording no deadline)', async () => {
    const api = await fakeApi(60, { faults: { latencyMs: 25 } });
    fake = api.fake;
    const dir = workDir();
    const runs = join(dir, 'runs');
    const job = writeFile(dir, 'nightly.json', JSON.stringify({ ids: writeFile(dir, 'n.txt', ids(api.orders)), auditDir: runs, autoResume: true, yes: true, concurrency: 1 }));
    const env = credentialsEnv(fake);
    expect((await runInProcess(['run', '--job', job, '--max-duration', '1s'], { env })).code).toBe(4);
    expect(fake.deleted.length).toBeLessThan(60);

    // The continued run finishes the rest; the new run then checks all 60 again (gone: 404), one at a time, past 1 s.
    const night = await runInProcess(['run', '--job', job], { env });
    expect(night.log).toMatch(/Resuming this job's unfinished run/);
    expect(night.log).not.toMatch(/deadline/);
    expect(night.code).toBe(0);
    const starts = readdirSync(runs).filter((name) => name.endsWith('.ndjson')).flatMap((name) => readAudit(join(runs, name)).filter((line) => line.event === 'run.start'));
    // The first run's deadline only: the continued run and the new one ran in the night's window, which has none.
    expect(starts.map((start) => (start.options as { maxDuration?: string }).maxDuration).sort()).toEqual(['1s', undefined, undefined]);
  });
});

describe('a damaged log of the job\'s own', () => {
  /** A nightly job's folder on a fake of `count` orders, its list the first `listed`, and its command line. */
  async function nightOn(count: number, listed: number) {
    const api = await fakeApi(count);
    fake = api.fake;
    const dir = workDir();
    const runs = join(dir, 'runs');
    const ids = writeFile(dir, 'ids.txt', api.orders.slice(0, listed).map((o) => o.id).join('\n'));
    return { api, dir, runs, ids, env: credentialsEnv(fake), night: ['run', '--yes', '--ids', ids, '--audit-dir', runs, '--auto-resume'] };
  }

  test('is left for a person, named with why, and the night\'s own run goes on (red team: every night stopped with exit 2)', async () => {
    const { api, runs, ids, env, night } = await nightOn(8, 4);
    expect((await runInProcess(night, { env })).code).toBe(0);
    // Killed before its run.end, and a line of another run put in: the reader refuses the chain.
    cutRunEnd(onlyLogIn(runs), (lines) => lines.splice(2, 0, (lines[1] as string).replace(/"runId":"[^"]+"/, '"runId":"ffffffffffff"')));

    writeFileSync(ids, api.orders.slice(4).map((o) => o.id).join('\n'));
    const next = await runInProcess(night, { env });
    expect(next.code).toBe(0);
    expect(next.log).toMatch(/holds an unfinished run that --auto-resume leaves alone: it cannot be read as a run \(.*line 3: a record of run ffffffffffff/);
    expect(api.orders.slice(4).every((o) => fake!.deleted.includes(o.id))).toBe(true);
  });

  test('a log a newer version wrote is named as such, never "damaged", by --auto-resume, a resume and report alike', async () => {
    const { dir, runs, env, night: nightly } = await nightOn(4, 4);
    const night = [...nightly, '--max-deletes', '0'];
    expect((await runInProcess(night, { env })).code).toBe(3);
    const log = onlyLogIn(runs);
    cutRunEnd(log, (lines) => void (lines[0] = (lines[0] as string).replace('"recordVersion":2', '"recordVersion":3')));
    const newer = 'written by a newer version of this tool (record version 3; this one reads up to 2): upgrade it to read or continue this log';
    const next = await runInProcess(night, { env });
    expect(next.log).toContain(`is left alone by --auto-resume: ${newer}`);
    expect((await runInProcess(['report', runs])).stdout).toMatch(/^2 audit logs in .*, newest first \(1 not read, last\):\n/);
    expect((await runInProcess(['report', runs, '--html', join(dir, 'h.html')])).code).toBe(0);
    expect(readFileSync(join(dir, 'h.html'), 'utf8')).toMatch(/1 run in 1 audit log \(and 1 not read: below\), 1 night/);
    for (const args of [['report', log], ['run', '--resume', '--yes', '--audit-log', log]]) {
      const result = await runInProcess(args, { env });
      expect(result.code).toBe(2);
      expect(result.log).toContain(`line 1: ${newer}`);
      expect(result.log).not.toMatch(/damaged|edited/);
    }
  });
});

/** A neighbour's file in a shared audit folder, named to forge a line of what the tool says (red team). */
describe('a file name in the audit folder never forges a line of the console', () => {
  const FORGED = 'FORGED 03:00:00 INFO  Every order deleted';
  const forges = (log: string) => log.split('\n').some((line) => line.startsWith(FORGED));

  test('a log renamed with a newline is never continued unasked, and --auto-resume names what it leaves alone on one line', async () => {
    const api = await fakeApi(6);
    fake = api.fake;
    const dir = workDir();
    const runs = join(dir, 'runs');
    const env = credentialsEnv(fake);
    const list = (from: number) => writeFile(dir, `ids-${from}.txt`, api.orders.slice(from, from + 3).map((o) => o.id).join('\n'));
    expect((await runInProcess(['run', '--yes', '--dry-run', '--ids', list(0), '--audit-dir', runs, '--log-format', 'text'], { env })).code).toBe(0);
    const [first] = readdirSync(runs).filter((name) => name.endsWith('.ndjson'));
    renameSync(join(runs, first as string), join(runs, `x\n${FORGED}.ndjson`));
    expect((await runInProcess(['run', '--yes', '--dry-run', '--ids', list(3), '--audit-dir', runs, '--log-format', 'text'], { env })).code).toBe(0);

    // The one run --resume can mean is the dry run whose log this tool named: the renamed one's orders stay.
    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-dir', runs, '--log-format', 'text'], { env });
    expect(resumed.code).toBe(0);
    expect([...fake.deleted].sort()).toEqual(api.orders.slice(3, 6).map((o) => o.id).sort());
    expect(forges(resumed.log)).toBe(false);

    writeFileSync(join(runs, `y\n${FORGED}.ndjson`), 'not a log\n');
    const night = await runInProcess(['run', '--yes', '--ids', list(3), '--audit-dir', runs, '--auto-resume', '--log-format', 'text'], { env });
    expect(night.log).toContain(`${runs}/y\\n${FORGED}.ndjson is left alone by --auto-resume`);
    expect(forges(night.log)).toBe(false);
  });

  test('a server\'s message, a log\'s fields and report\'s own arguments never forge a line either (red team)', async () => {
    const refusals: Record<string, { status: number; message: string }> = {};
    const api = await fakeApi(3, { refusals });
    fake = api.fake;
    refusals[api.orders[0]!.id] = { status: 409, message: `Order has invoices\n${FORGED}` };
    const dir = workDir();
    const log = join(dir, 'a.ndjson');
    const run = await runInProcess(['run', '--yes', '--ids', writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n')), '--audit-log', log, '--log-format', 'text'], { env: credentialsEnv(fake) });
    expect(run.code).toBe(1);
    expect(run.log).toContain(`Order has invoices ${FORGED}`); // kept on one line, as the audit log keeps it
    expect(forges(run.log)).toBe(false);
    // A log an older version wrote, or an edited one: the report prints each of its fields on one line.
    const older = join(dir, 'older.ndjson');
    writeFileSync(older, readFileSync(log, 'utf8').replace('Order has invoices ', 'Order has invoices\\n').replace('"status":"failed"', `"status":"failed","reason":"x\\n${FORGED}"`));
    const report = await runInProcess(['report', older]);
    expect(report.code).toBe(0);
    expect(forges(report.stdout)).toBe(false);
    // A recorded input path holding a newline (an older version recorded one): the log reads, on one line; its
    // resume asks for the file again, never opening or printing the path as it is.
    const edited = join(dir, 'edited.ndjson');
    writeFileSync(edited, readFileSync(log, 'utf8').replace('"path":"', `"path":"x\\n${FORGED}\\n`));
    const reportEdited = await runInProcess(['report', edited]);
    expect(reportEdited.code).toBe(0);
    expect(forges(reportEdited.stdout)).toBe(false);
    // Its next step is the resume that works: with the input named again (red team: the command printed was refused).
    expect(reportEdited.stdout).toMatch(/To try the failed orders again \(FILE: the run's input file, named again: .*\n  .* run --resume --audit-log .*edited\.ndjson --yes --ids FILE\n/);
    const resumed = await runInProcess(['run', '--yes', '--resume', '--audit-log', edited, '--log-format', 'text'], { env: credentialsEnv(fake) });
    expect(resumed.code).toBe(2);
    expect(resumed.log).toContain('a path with a control character; give the same file again with --ids (its sha256 is checked); nothing was sent');
    expect(forges(resumed.log)).toBe(false);
    const named = await runInProcess(['report', `${dir}/x\n${FORGED}.ndjson`]);
    expect(named.code).toBe(2);
    expect(forges(named.log)).toBe(false);
  });

  test('a path option holding a control character is refused before anything is sent: exit 2, the value escaped', async () => {
    const dir = workDir();
    const result = await runInProcess(['run', '--yes', '--ids', writeFile(dir, 'ids.txt', 'ORD-1'), '--audit-log', `${dir}/a\n${FORGED}.ndjson`, '--log-format', 'text'], { env: {} });
    expect(result.code).toBe(2);
    expect(result.log).toContain(`--audit-log must be a path without control characters (a newline, an escape), got "${dir}/a\\n${FORGED.slice(0, 60 - dir.length - 3)}…"`);
    expect(forges(result.log)).toBe(false);
  });
});
