import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { z } from 'zod';
import { summaryJsonSchema } from '../../src/common/summary-json.js';
import { credentialsEnv, fakeApi, runInProcess, startCli, untilDeletes, workDir, writeFile } from '../helpers/cli.js';

/**
 * Issue 23, item 7: --summary-json has one documented schema with a schemaVersion, in the repository
 * (schemas/summary-json.schema.json, made from src/common/summary-json.ts by `npm run schemas`), and real
 * outputs of every status a run reaches through the CLI are valid against the file, as a script reading
 * them would check. (crashed needs a bug: its shape is run.end's, which records.test checks.)
 */
const FILE = new URL('../../schemas/summary-json.schema.json', import.meta.url);
const committed = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, unknown>;
const validate = new Ajv2020({ strict: false }).compile(committed);

function valid(path: string): Record<string, unknown> {
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const ok = validate(json);
  expect(validate.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
  return json;
}

describe('--summary-json, against its JSON Schema', () => {
  test('the committed schema is the one the code declares (npm run schemas makes it)', () => {
    expect(committed).toEqual({ ...z.toJSONSchema(summaryJsonSchema), title: 'exsited-order-cleanup --summary-json' });
  });

  test('completed, dry run, failed, halted, refused, unreachable and interrupted outputs are valid, each with schemaVersion 1', async () => {
    const api = await fakeApi(30, { faults: { latencyMs: 20 } });
    const dir = workDir();
    const ids = api.orders.map((o) => o.id);
    const env = credentialsEnv(api.fake);
    const run = async (name: string, input: string[], args: string[], runEnv = env) => {
      const summary = join(dir, `${name}.json`);
      const result = await runInProcess(['run', '--yes', '--ids', writeFile(dir, `${name}.txt`, input.join('\n')), '--audit-log', join(dir, `${name}.ndjson`),
        '--summary-json', summary, ...args], { env: runEnv });
      return { code: result.code, json: valid(summary) };
    };

    const dry = await run('dry', [...ids.slice(0, 5), 'ORD-TYPO-1'], ['--dry-run']);
    expect(dry.json).toMatchObject({ schemaVersion: 2, status: 'completed', dryRun: true, started: true, counts: { wouldDelete: 5, alreadyAbsent: 1 }, absentOrders: ['ORD-TYPO-1'] });
    const failed = await run('failed', ['ORD-TYPO-2'], ['--fail-on-absent']);
    expect(failed.json).toMatchObject({ status: 'failed', exitCode: 1, reason: expect.stringMatching(/not found/) });
    const halted = await run('halted', ids.slice(0, 20), ['--concurrency', '1', '--max-duration', '100ms']);
    expect(halted.json).toMatchObject({ status: 'halted', exitCode: 4 });
    const completed = await run('completed', ids.slice(0, 10), []);
    expect(completed.json).toMatchObject({ status: 'completed', exitCode: 0, started: true });
    const refused = await run('refused', ids, [], { ...env, EXSITED_CLIENT_SECRET: 'not-the-secret-at-all' });
    expect(refused.json).toMatchObject({ status: 'refused', exitCode: 3, started: false, runId: null });
    const unreachable = await run('unreachable', ids, ['--reach-wait', '1s'], { ...env, EXSITED_BASE_URL: 'http://127.0.0.1:9' });
    expect(unreachable.json).toMatchObject({ status: 'unreachable', exitCode: 5, started: false, auditLog: null });

    // A run of 20 orders 100 ms apart, stopped after its third: nearly two seconds to spare on a busy machine.
    const slow = await fakeApi(20, { faults: { latencyMs: 100 } });
    const summary = join(dir, 'interrupted.json');
    const cli = startCli(['run', '--yes', '--ids', writeFile(dir, 'slow.txt', slow.orders.map((o) => o.id).join('\n')), '--audit-log', join(dir, 'i.ndjson'),
      '--concurrency', '1', '--summary-json', summary], { env: credentialsEnv(slow.fake) });
    await untilDeletes(slow.fake, 3);
    cli.child.kill('SIGTERM');
    expect((await cli.done).code).toBe(143);
    expect(valid(summary)).toMatchObject({ status: 'interrupted', exitCode: 143 });
  });
});
