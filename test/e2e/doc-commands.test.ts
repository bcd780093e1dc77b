import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { CLI, credentialsEnv, fakeApi, runCli, workDir, writeFile } from '../helpers/cli.js';
import { atTerminal } from '../helpers/terminal.js';

/**
 * Issue 24, item 5: every command shown in a code block of the README and docs/ is run, as shown, against
 * the fake API — so that they stay true. The blocks are read from the files (sh and yaml: `run:` lines and
 * `script:` items); `npx exsited-order-cleanup` and `npm exec --no -- exsited-order-cleanup` are the built
 * CLI; `--base-url` is the fake's; a run that would ask a person is run at a pseudo-terminal and the count
 * typed. A command this test cannot run is listed below with why: a new command in the docs that is
 * neither run nor listed fails the test.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NOT_RUN: Array<[RegExp, string]> = [
  [/^npm ci && npm run demo$/, 'the demo is run by run.test.ts ("the demo exits 0"); npm ci is what CI itself runs'],
  [/^npm test$/, 'the suite this test is part of'],
  [/^npm install --no-save \.\/vendor\//, 'installing the packed tarball is what npm run test:package checks'],
  [/^docker run /, 'no container engine here: the image is checked by npm run test:container'],
];

interface Shown { file: string; line: number; command: string }

/** The commands of a file's code blocks, with continuation lines joined and comments cut. */
function commandsIn(file: string): Shown[][] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks: Shown[][] = [];
  let block: { lang: string; items: Shown[] } | undefined;
  let pending = '';
  let script: number | undefined; // in yaml, the indentation of a `script:` key whose items are commands
  for (const [index, text] of lines.entries()) {
    const fence = /^```(\w*)/.exec(text);
    if (fence) {
      if (block) blocks.push(block.items);
      block = block ? undefined : { lang: fence[1] ?? '', items: [] };
      script = undefined;
      continue;
    }
    if (!block || !['sh', 'bash', 'yaml'].includes(block.lang)) continue;
    let command: string | undefined = text;
    if (block.lang === 'yaml') {
      const indent = /^\s*/.exec(text)?.[0].length ?? 0;
      if (script !== undefined && (indent <= script || !/^\s*- /.test(text))) script = undefined;
      if (/^\s*script:\s*$/.test(text)) script = indent;
      command = /^\s*-?\s*run:\s+(.+)$/.exec(text)?.[1] ?? (script !== undefined ? /^\s*- (.+)$/.exec(text)?.[1] : undefined);
    }
    if (command === undefined) continue;
    command = command.replace(/\s+#\s.*$/, '').trim();
    if (command.endsWith('\\')) {
      pending += `${command.slice(0, -1).trim()} `;
      continue;
    }
    command = `${pending}${command}`.trim();
    pending = '';
    if (command && !command.startsWith('#')) block.items.push({ file, line: index + 1, command });
  }
  return blocks.filter((items) => items.length > 0);
}

/** A shell line's words (quotes removed). */
const words = (line: string) => [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
const quoted = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const FILES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe('every command in the README and docs/ runs as shown', () => {
  test('each is run against the fake API, or listed here with the reason it cannot be', async () => {
    const api = await fakeApi(120);
    fake = api.fake;
    const ran: string[] = [];
    for (const block of FILES.flatMap(commandsIn)) {
      // Each block in a workspace of its own: the shipped jobs, an installed copy's path, the files the commands name.
      const dir = workDir();
      cpSync(join(ROOT, 'jobs'), join(dir, 'jobs'), { recursive: true });
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(ROOT, join(dir, 'node_modules', 'exsited-order-cleanup'));
      const ids = [...fake.orders.keys()].slice(0, 6).join('\n');
      writeFile(dir, 'test-orders.csv', `order_id\n${ids}\n`);
      writeFile(dir, 'qa-orders.json', JSON.stringify({ match: { createdBy: ['qa-bot'] } }));
      mkdirSync(join(dir, 'artifacts'));
      writeFile(dir, 'artifacts/test-orders.csv', `order_id\n${[...fake.orders.keys()].slice(6, 10).join('\n')}\n`);
      let env: NodeJS.ProcessEnv = credentialsEnv(fake);
      const servers: Array<ReturnType<typeof spawn>> = [];
      for (const shown of block) {
        const where = `${shown.file}:${shown.line}: ${shown.command}`;
        if (NOT_RUN.some(([pattern]) => pattern.test(shown.command))) continue;
        ran.push(where);
        if (shown.command.startsWith('export ')) continue; // the credentials: the fake's (or the fake-api command's, below)
        if (shown.command.startsWith('jq ')) {
          // runs/X.ndjson: a real log, of a run with a failure in it.
          if (!existsSync(join(dir, 'runs'))) await runCli(['run', '--yes', '--ids', join(dir, 'test-orders.csv'), '--audit-dir', join(dir, 'runs'), '--retries', '0'], { env });
          const log = readdirSync(join(dir, 'runs')).find((name) => name.endsWith('.ndjson'));
          const args = words(shown.command).slice(1).map((w) => (w === 'runs/X.ndjson' ? join(dir, 'runs', log ?? 'none') : w));
          const jq = spawnSync('jq', args, { encoding: 'utf8' });
          expect({ where, code: jq.status, stderr: jq.stderr }).toEqual({ where, code: 0, stderr: '' });
          continue;
        }
        const cli = /^(?:npx |npm exec --no -- )?exsited-order-cleanup (.+)$/.exec(shown.command);
        if (!cli) throw new Error(`${where}: a command this test does not know how to run: run it here, or list it in NOT_RUN with the reason`);
        const args = words(cli[1] as string);
        const baseUrl = args.indexOf('--base-url');
        if (baseUrl >= 0) args[baseUrl + 1] = env.EXSITED_BASE_URL as string;
        if (args[0] === 'fake-api') {
          // Left running, as the README says; its export line is the next commands' environment.
          const server = spawn(process.execPath, [CLI, ...args, '--port', '0'], { cwd: dir, env: { PATH: process.env.PATH } });
          servers.push(server);
          const exported = await new Promise<string>((resolve) => {
            let out = '';
            server.stdout.on('data', (chunk: Buffer) => {
              out += chunk.toString();
              const line = /export (.+)/.exec(out)?.[1];
              if (line) resolve(line);
            });
          });
          env = Object.fromEntries(exported.trim().split(/\s+/).map((pair) => pair.split(/=(.*)/s).slice(0, 2)));
          continue;
        }
        const asks = args[0] === 'run' && !args.includes('--dry-run') && !args.includes('--yes') && !args.some((a) => a.includes('pre-release'));
        if (asks) {
          const session = atTerminal(`cli ${args.map(quoted).join(' ')}`, { env, cwd: dir });
          const question = /Type the number of orders \((\d+)\)/;
          await Promise.race([session.shows(question).then(() => session.type(`${question.exec(session.screen())?.[1]}\n`)), session.done]);
          const { code, screen } = await session.done;
          expect({ where, code, screen: code === 0 ? "" : screen }).toEqual({ where, code: 0, screen: "" });
          expect(screen).not.toMatch(/unknown option|error:/i);
        } else {
          const result = await runCli(args, { env, cwd: dir });
          expect({ where, code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ where, code: 0, stderr: '' });
        }
      }
      for (const server of servers) server.kill('SIGTERM');
    }
    if (process.env.SHOW_DOC_COMMANDS) console.log(ran.join('\n'));
    // The guide's own path is among them: the fake API by hand, a real run, the three homes, the log read with jq.
    expect(ran.join('\n')).toMatch(/fake-api --orders 400/);
    expect(ran.join('\n')).toMatch(/GitLab|pre-release\.json/);
    expect(ran.join('\n')).toMatch(/jq -r/);
    // Every command of the docs in turn, each a process of its own: 10 s on an idle machine, past 30 s beside
    // two busy loops and another test run.
  }, 90_000);
});
