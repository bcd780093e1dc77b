import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { runInProcess, workDir, writeFile } from '../helpers/cli.js';

/**
 * Issue 21, case 5: EXSITED_BASE_URL with user:password@ and a port typo echoed the URL, password and all,
 * and named --base-url though the value came from the environment. The class: every layer that can give
 * the base URL, and every way a URL can be wrong.
 */
const PASSWORD = 'hunter2-base-url-pw';
const credentials = { EXSITED_CLIENT_ID: 'client-id-0001', EXSITED_CLIENT_SECRET: 'client-secret-0001', EXSITED_REDIRECT_URI: 'http://localhost/cb' };

describe('a base URL that is wrong is named by where it came from, never echoed', () => {
  const wrong: Array<[string, string, RegExp]> = [
    ['a port out of range', `https://bob:${PASSWORD}@dev-api.exsited.com:99999`, /port out of range/],
    ['credentials', `https://bob:${PASSWORD}@dev-api.exsited.com`, /must not (hold|contain) a user or password|credentials/],
    ['not a URL', `https://bob:${PASSWORD}@dev api.exsited.com`, /not a valid URL/],
    ['another scheme', `ftp://bob:${PASSWORD}@dev-api.exsited.com`, /http:\/\/ or https:\/\//],
    ['a query', `https://dev-api.exsited.com/?secret=${PASSWORD}`, /query/],
  ];
  test.each(wrong)('%s: exit 2 from a flag, the environment or a job file, naming it', async (_, url, problem) => {
    const dir = workDir();
    const ids = writeFile(dir, 'ids.txt', 'ORD-1\n');
    const job = writeFile(dir, 'job.json', JSON.stringify({ ids, baseUrl: url, yes: true }));
    const layers: Array<[string, string[], NodeJS.ProcessEnv]> = [
      ['--base-url', ['--ids', ids, '--yes', '--base-url', url], credentials],
      ['EXSITED_BASE_URL', ['--ids', ids, '--yes'], { ...credentials, EXSITED_BASE_URL: url }],
      [`--job ${job}: baseUrl`, ['--job', job], credentials],
    ];
    for (const [source, args, env] of layers) {
      const result = await runInProcess(['run', ...args, '--audit-log', join(dir, 'a.ndjson')], { env });
      expect(result.code).toBe(2);
      expect(result.log).toContain(source);
      expect(result.log).toMatch(problem);
      for (const form of [PASSWORD, encodeURIComponent(PASSWORD), Buffer.from(`bob:${PASSWORD}`).toString('base64')]) expect(result.stderr).not.toContain(form);
      if (source !== '--base-url') expect(result.log).not.toContain('--base-url ');
    }
  });
});
