import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, FAST, readAudit, runCli, runInProcess, startCli, untilDeletes, workDir, writeFile } from '../helpers/cli.js';
import { atTerminal } from '../helpers/terminal.js';

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
    expect(after.log).toMatch(/a person interrupted it \(Ctrl-C\)/);
    const logs = readdirSync(join(dir, 'runs')).filter((name) => name.endsWith('.ndjson'));
    expect(logs).toHaveLength(4); // the killed run (resumed the next night), that night's own, the interrupted one, the last
    expect(new Set(logs.map((name) => readAudit(join(dir, 'runs', name), [])[0]?.job?.id))).toEqual(new Set([expect.stringMatching(/^[0-9a-f]{16}$/)]));
  });
});
