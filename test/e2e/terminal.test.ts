import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { CLI, credentialsEnv, fakeApi, runCli, workDir, writeFile } from '../helpers/cli.js';
import { atTerminal, screenRows, visibleRows } from '../helpers/terminal.js';

/**
 * Issue 24, items 1, 2 and 6: the QA engineer's terminal, through a real pseudo-terminal (script(1)).
 * Consent is asked on the terminal itself when stdin carries the IDs; the console speaks in plain
 * sentences there, colours only warnings, errors and the prompt, honours NO_COLOR and FORCE_COLOR, and
 * clears its progress line before anything a Ctrl-C makes it say.
 */
const ESC = '\u001b[';
let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('the QA engineer\'s terminal', () => {
  test('cat ids.txt | … run --ids - at a terminal asks on the terminal itself; the right count deletes them', async () => {
    const api = await fakeApi(12);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.slice(0, 8).map((o) => o.id).join('\n'));
    const session = atTerminal(`cat ${input} | cli run --ids - --audit-log ${join(dir, 'a.ndjson')}`, { env: credentialsEnv(fake) });
    await session.shows(/Type the number of orders \(8\)/);
    session.type('8\n');
    const { code, screen } = await session.done;
    expect(code).toBe(0);
    expect(screen).not.toContain('nobody is at a terminal');
    expect(fake.deleted).toHaveLength(8);
  });

  test('the same with no terminal at all (a new session: cron, a container) is refused before any request, saying why', async () => {
    const api = await fakeApi(5);
    fake = api.fake;
    const dir = workDir();
    // setsid: a session with no controlling terminal, whatever terminal runs the tests.
    const child = spawn('setsid', ['-w', process.execPath, CLI, 'run', '--ids', '-', '--audit-log', join(dir, 'a.ndjson')],
      { env: { PATH: process.env.PATH, ...credentialsEnv(fake) }, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end(api.orders.map((o) => o.id).join('\n'));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(3);
    expect(stderr).toContain('nobody is at a terminal to confirm the deletion (stdin is not one, and this process has no terminal of its own)');
    expect(fake.stats.requests).toBe(0);
  });

  test('the progress line is gone before the run\'s end is said: no bar redrawn after the summary (it was, when the bar had been drawn)', async () => {
    const api = await fakeApi(6, { faults: { latencyMs: 600 } }); // a run of ~2 s: the bar is drawn every 500 ms
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', [...api.orders.slice(0, 5).map((o) => o.id), 'ORD-TYPO-1'].join('\n'));
    const screen = (await atTerminal(`cli run --yes --ids ${input} --audit-log ${join(dir, 'a.ndjson')} --concurrency 2`, { env: credentialsEnv(fake) }).done).screen;
    expect(screen).toMatch(/\[#+\.*\] \d\/6/); // the bar was there while the run deleted
    const end = screen.indexOf('completed.');
    expect(end).toBeGreaterThan(0);
    expect(screen.slice(end)).not.toMatch(/\[#*\.*\] \d\/6/);
  });

  test('plain sentences at a terminal: no time or level words; warnings in colour, the question in bold; a wrong count refused once', async () => {
    const api = await fakeApi(6);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', [...api.orders.slice(0, 4).map((o) => o.id), 'ORD-TYPO-1'].join('\n'));
    const env = credentialsEnv(fake);

    const asked = atTerminal(`cli run --ids ${input} --audit-log ${join(dir, 'a.ndjson')}`, { env });
    await asked.shows(/Type the number/);
    asked.type('3\n');
    const refused = (await asked.done).screen;
    expect(refused).toContain(`${ESC}1mType the number of orders (5)`);
    expect(refused.match(/not confirmed/g)).toHaveLength(1);
    expect(refused).toMatch(new RegExp(`\\u001b\\[33mRefused: not confirmed: you typed "3"`));

    const done = (await atTerminal(`cli run --yes --ids ${input} --audit-log ${join(dir, 'b.ndjson')}`, { env }).done).screen;
    expect(done).not.toMatch(/\b(INFO|WARN)\b|\[\d\d:\d\d:\d\d\]/);
    expect(done).toMatch(/^Audit log: /m);
    expect(done).toMatch(new RegExp(`\\u001b\\[33mAlready absent: 1 listed order not there to delete`));
    expect(done).not.toMatch(new RegExp(`\\u001b\\[\\d+mRun \\w+ completed`)); // plain: colour is for what needs attention

    const plain = (await atTerminal(`cli run --yes --ids ${input} --audit-log ${join(dir, 'c.ndjson')}`, { env: { ...env, NO_COLOR: '1' } }).done).screen;
    expect(plain).toContain('Already absent: 5 listed orders');
    expect(plain).not.toMatch(/\u001b\[(?!K)[\d;]*m/); // NO_COLOR: no colour at all (the progress line's erase is not colour)

    const logged = (await atTerminal(`cli run --yes --ids ${input} --audit-log ${join(dir, 'd.ndjson')} --log-format text`, { env: { ...env, NO_COLOR: '1' } }).done).screen;
    expect(logged).toMatch(/^\d\d:\d\d:\d\d INFO {2}Audit log: /m);
    expect(logged).toMatch(/^\d\d:\d\d:\d\d WARN {2}Already absent/m);
  });

  test('FORCE_COLOR colours a warning off a terminal too (human format); NO_COLOR alone leaves it plain', async () => {
    const api = await fakeApi(3);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', 'ORD-TYPO-2');
    const env = { ...credentialsEnv(fake), EXSITED_LOG_FORMAT: 'human' };
    const forced = await runCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'a.ndjson')], { env: { ...env, FORCE_COLOR: '1' } });
    expect(forced.stderr).toContain(`${ESC}33mAlready absent: 1 listed order`);
    const plain = await runCli(['run', '--yes', '--ids', input, '--audit-log', join(dir, 'b.ndjson')], { env: { ...env, NO_COLOR: '1' } });
    expect(plain.stderr).not.toContain(ESC);
  });

  test('Ctrl-C while the progress line shows: it is cleared first, and what the signal makes the run say starts on a clean row', async () => {
    const api = await fakeApi(200, { faults: { latencyMs: 40 } });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const session = atTerminal(`exec cli run --yes --ids ${input} --audit-log ${join(dir, 'a.ndjson')} --concurrency 1`, { env: credentialsEnv(fake) });
    await session.shows(/\] \d+\/200/);
    session.type('\u0003');
    const { code, screen } = await session.done;
    expect(code).toBe(130);
    const rows = visibleRows(screen);
    const said = rows.findIndex((row) => row.startsWith('SIGINT: no new orders will be started'));
    expect(said).toBeGreaterThan(0);
    expect(rows.some((row) => /^\[[#.]*\] \d+\/200/.test(row))).toBe(false); // no progress line left anywhere
    // As the terminal draws it: the progress line is as wide as the terminal allows, and the echoed `^C` must not
    // wrap to a row of its own, where clearing that row left the progress line above it (red team, 80 columns).
    expect(screenRows(screen).some((row) => /\] \d+\/200/.test(row))).toBe(false);
  });
});

describe('the terminal, red team round', () => {
  test('IDs piped in and stderr piped to tee, at a terminal: asked on the terminal, and the console speaks plain sentences, not JSON', async () => {
    const api = await fakeApi(6);
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const out = join(dir, 'out.txt');
    const session = atTerminal(`cat ${input} | cli run --ids - --audit-log ${join(dir, 'a.ndjson')} 2>&1 | tee ${out}`, { env: credentialsEnv(fake) });
    await session.shows(/Type the number of orders \(6\)/);
    session.type('6\n');
    await session.done;
    const said = readFileSync(out, 'utf8');
    expect(said).toMatch(/^Audit log: /m);
    expect(said).not.toMatch(/^\{"level"/m);
    expect(fake.deleted).toHaveLength(6);
  });

  test('TERM=dumb: no line redrawn (a dumb terminal cannot erase one); progress comes as lines', async () => {
    const api = await fakeApi(60, { faults: { latencyMs: 30 } });
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const { code, screen } = await atTerminal(`cli run --yes --ids ${input} --audit-log ${join(dir, 'a.ndjson')} --concurrency 1 --progress-interval 1s`,
      { env: { ...credentialsEnv(fake), TERM: 'dumb' } }).done;
    expect(code).toBe(0);
    expect(screen).not.toContain(`${ESC}K`);
    expect(screen).toMatch(/^progress: \d+\/60/m);
  });
});

test('a question nobody answers (a terminal nobody watches): refused after --confirm-wait, exit 3, nothing sent (red team: it waited forever)', async () => {
  const api = await fakeApi(4);
  fake = api.fake;
  const dir = workDir();
  const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
  const { code, screen } = await atTerminal(`cli run --ids ${input} --audit-log ${join(dir, 'a.ndjson')} --confirm-wait 1s`, { env: credentialsEnv(fake) }).done;
  expect(code).toBe(3);
  expect(screen).toContain('not confirmed (no answer within 1 s, --confirm-wait). Nothing was deleted.');
  expect(fake.deletes).toHaveLength(0);
});
