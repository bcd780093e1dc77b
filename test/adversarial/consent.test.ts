import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FakeExsited } from '../../src/fake-exsited/server.js';
import { credentialsEnv, fakeApi, workDir, writeFile } from '../helpers/cli.js';
import { atTerminal } from '../helpers/terminal.js';

/** Issue 21, case 12: the count typed before the question was shown (type-ahead) was taken as the answer. */
let fake: FakeExsited | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('consent is an answer to the question shown', () => {
  test('a count typed before the question (a line, or part of one) is thrown away; the answer typed after it counts', async () => {
    const api = await fakeApi(12, { faults: { latencyMs: 150 } }); // the token takes a moment: time to type ahead
    fake = api.fake;
    const dir = workDir();
    const input = writeFile(dir, 'ids.txt', api.orders.map((o) => o.id).join('\n'));
    const env = credentialsEnv(fake);

    const blind = atTerminal(`exec cli run --ids ${input} --audit-log ${join(dir, 'a.ndjson')}`, { env });
    blind.type('12\n1');
    await blind.shows(/Type the number of orders \(12\)/);
    blind.type('\u0003');
    const { screen, code } = await blind.done;
    expect(screen).toContain('not confirmed (Ctrl-C). Nothing was deleted.');
    expect(code).toBe(3);
    expect(fake.deletes).toHaveLength(0);

    const meant = atTerminal(`exec cli run --ids ${input} --audit-log ${join(dir, 'b.ndjson')}`, { env });
    meant.type('3');
    await meant.shows(/Type the number of orders \(12\)/);
    meant.type('12\n');
    expect((await meant.done).code).toBe(0);
    expect(fake.deleted).toHaveLength(12);
  });
});
