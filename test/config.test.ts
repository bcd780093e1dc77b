import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { CleanupError } from '../src/common/errors.js';
import { readJobSpec } from '../src/config/job-spec.js';
import { RUN_OPTIONS, runOptionKeys, specOf } from '../src/config/options.js';
import { recordedOptions, resolveRunOptions, withRecorded, type Layers } from '../src/config/resolve.js';
import { secrets } from '../src/common/secrets.js';
import { duration, showDuration } from '../src/config/values.js';
import { workDir, writeFile } from './helpers/cli.js';

const env = { EXSITED_ACCESS_TOKEN: 'token-123456789' };
const resolve = (layers: Partial<Layers> = {}) => resolveRunOptions({ flags: { ids: 'x.txt' }, env, ...layers });
const job = (options: Record<string, unknown>) => ({ path: 'job.json', options });

describe('resolveRunOptions: defaults ← job spec ← environment ← flags; a resume\'s recorded run between the job spec and the environment (withRecorded)', () => {
  test('defaults, when nothing else gives a value', () => {
    const o = resolve();
    expect(o).toMatchObject({ concurrency: 8, retries: 5, timeoutMs: 30_000, graceMs: 10_000, haltAfter: 25, maxDeletes: 10_000, progressInterval: 10_000, dryRun: false });
    expect(o.rps).toBeUndefined();
    expect(o.from.concurrency).toBe('default');
  });

  test('a job spec beats the defaults', () => {
    const o = resolve({ job: job({ concurrency: 4, maxDuration: '45m', rps: 20 }) });
    expect(o).toMatchObject({ concurrency: 4, maxDuration: 2_700_000, rps: 20 });
    expect(o.from.concurrency).toBe('job');
  });

  test('the recorded run beats the job spec (a resume continues the run as it was)', () => {
    const o = withRecorded(resolve({ job: job({ concurrency: 4, maxDeletes: 500, retries: 2 }) }), { concurrency: 2, maxDuration: '1h30m', retries: 9 });
    expect(o).toMatchObject({ concurrency: 2, maxDeletes: 500, maxDuration: 5_400_000, retries: 9 });
    expect(o.from).toMatchObject({ concurrency: 'recorded', retries: 'recorded', maxDeletes: 'job' });
  });

  test('a limit the job spec sets lower than the recorded one binds the resume (none recorded, or --halt-after 0, is no limit)', () => {
    const o = withRecorded(resolve({ job: job({ concurrency: 4, maxDeletes: 500, haltAfter: 3, rps: 10, maxDuration: '10m' }) }),
      { concurrency: 16, maxDeletes: 9000, haltAfter: 0, maxDuration: '1h' });
    expect(o).toMatchObject({ concurrency: 4, maxDeletes: 500, haltAfter: 3, rps: 10, maxDuration: 600_000 });
    expect(o.from).toMatchObject({ concurrency: 'job', maxDeletes: 'job', haltAfter: 'job', rps: 'job', maxDuration: 'job' });
    // Not given by the job: the recorded run's, however high.
    expect(withRecorded(resolve(), { concurrency: 16, maxDeletes: 9000 })).toMatchObject({ concurrency: 16, maxDeletes: 9000 });
  });

  test('the environment beats a job spec baked into an image: EXSITED_BASE_URL over the job\'s baseUrl', () => {
    const o = resolve({ job: job({ baseUrl: 'https://dev-api.exsited.com' }), env: { ...env, EXSITED_BASE_URL: 'https://api-stage.exsited.com' } });
    expect(o.baseUrl).toBe('https://api-stage.exsited.com');
    expect(o.from.baseUrl).toBe('env');
  });

  test('flags beat everything', () => {
    const o = resolve({
      flags: { ids: 'x.txt', concurrency: '3', baseUrl: 'http://localhost:1' }, job: job({ concurrency: 4 }),
      env: { ...env, EXSITED_BASE_URL: 'https://api-stage.exsited.com' },
    });
    expect(withRecorded(o, { concurrency: 2 }).concurrency).toBe(3);
    expect(o).toMatchObject({ concurrency: 3, baseUrl: 'http://localhost:1' });
    expect(o.from).toMatchObject({ concurrency: 'flag', baseUrl: 'flag' });
  });

  test('allowed hosts add up across layers, after the built-in ones', () => {
    const o = resolve({ flags: { ids: 'x', allowHost: ['a.example'] }, job: job({ allowHost: ['j.example'] }), env: { ...env, EXSITED_ALLOWED_HOSTS: ' b.example , ,c.example' } });
    expect(o.allowHost).toEqual(['j.example', 'b.example', 'c.example', 'a.example']);
    expect(o.allowedHosts).toEqual(expect.arrayContaining(['dev-api.exsited.com', 'localhost', 'j.example', 'b.example', 'c.example', 'a.example']));
  });

  test('EXSITED_LOG_FORMAT and GITHUB_STEP_SUMMARY are options too, set by the environment', () => {
    const o = resolve({ env: { ...env, EXSITED_LOG_FORMAT: 'text', GITHUB_STEP_SUMMARY: '/tmp/step.md' } });
    expect(o).toMatchObject({ logFormat: 'text', stepSummary: '/tmp/step.md' });
  });

  test('every problem of every layer is told at once, naming where each value came from', () => {
    const error = (() => {
      try {
        resolve({ flags: { ids: 'x', concurrency: '0' }, job: job({ retries: -1 }), env: { ...env, EXSITED_LOG_FORMAT: 'xml' } });
      } catch (e) {
        return e as CleanupError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CleanupError);
    expect(error?.exitCode).toBe(2);
    expect(error?.message).toContain('3 problems');
    expect(error?.message).toContain('--concurrency must be a whole number from 1 to 1024, got "0"');
    expect(error?.message).toContain('--job job.json: retries must be a whole number from 0 to 100, got -1');
    expect(error?.message).toContain('EXSITED_LOG_FORMAT must be human or text or json or pretty, got "xml"');
  });

  test.each([
    [{ concurrency: '1.5' }, '--concurrency'], [{ retries: '-1' }, '--retries'], [{ rps: '0' }, '--rps'], [{ rps: 'fast' }, '--rps'],
    [{ maxDuration: '45 minutes' }, '--max-duration'], [{ maxDuration: '1000h' }, 'at most 24 days'], [{ shard: '4/4' }, '--shard'],
    [{ autoResume: true }, '--auto-resume needs --audit-dir'], [{ ids: undefined }, '--ids'],
    [{ filter: 'f.json' }, '--ids and --filter'], [{ auditLog: 'a', auditDir: 'd' }, '--audit-log and --audit-dir'],
  ])('%j is a usage error', (flags, message) => {
    expect(() => resolve({ flags: { ids: 'x.txt', ...flags } })).toThrow(message);
  });

  test('a pre-issued token wins over client credentials; a secret too short is refused', () => {
    const client = { EXSITED_CLIENT_ID: 'a', EXSITED_CLIENT_SECRET: 'secret-0123456789', EXSITED_REDIRECT_URI: 'c' };
    expect(resolve({ env: { ...env, ...client } }).credentials.kind).toBe('access_token');
    expect(resolve({ env: client }).credentials.kind).toBe('client_credentials');
    expect(() => resolve({ env: { ...client, EXSITED_CLIENT_SECRET: 'short' } })).toThrow(/EXSITED_CLIENT_SECRET is too short/);
  });

  test('what a run records reads back as the same options', () => {
    const o = resolve({ flags: { ids: 'x', concurrency: '3', maxDuration: '1h30m', rps: '0.5', shard: '1/4', idPattern: '[A-Z-]+' } });
    const recorded = recordedOptions(o);
    expect(recorded).toMatchObject({ concurrency: 3, maxDuration: '1h30m', rps: 0.5, shard: '1/4', idPattern: '[A-Z-]+', maxDeletes: 10_000 });
    expect(recorded).not.toHaveProperty('ids');
    const again = withRecorded(resolve(), recorded);
    for (const key of Object.keys(recorded)) expect(again[key as keyof typeof again]).toEqual(o[key as keyof typeof o]);
  });
});

describe('the option table', () => {
  test('each flag is its key in kebab case (commander derives the key from the flag)', () => {
    for (const key of runOptionKeys) {
      const { flag } = specOf(key);
      if (flag) expect(flag).toBe(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    }
  });

  test('every default passes its own check', () => {
    for (const key of runOptionKeys) {
      const spec = specOf(key);
      if (spec.default !== undefined && typeof spec.default !== 'boolean') {
        expect(spec.value.parse(spec.value.record ? spec.value.record(spec.default) : spec.default)).toEqual({ value: spec.default });
      }
    }
  });

  test('every flag has its row in the options table of the reference (docs/usage.md)', () => {
    const readme = readFileSync(new URL('../docs/usage.md', import.meta.url), 'utf8');
    for (const key of runOptionKeys) {
      const { flag } = specOf(key);
      if (flag) expect(readme).toMatch(new RegExp(`^\\| \`${flag}[ \`]`, 'm'));
    }
  });

  test('help never uses the jargon people do not know', () => {
    const help = Object.values(RUN_OPTIONS).map((spec) => spec.help).join(' ');
    for (const word of ['FNV', 'jitter', 'NDJSON', 'drain', 'TTY']) expect(help).not.toContain(word);
  });
});

describe('durations', () => {
  test.each([['45m', 2_700_000], ['1h30m', 5_400_000], ['90s', 90_000], ['500ms', 500], ['2', 2000], ['1.5h', 5_400_000], [90, 90_000]])('%j', (raw, ms) => {
    expect(duration().parse(raw)).toEqual({ value: ms });
  });
  test.each(['', '0s', 'm', '45x', '1h 30m', '-5m', '1000h', '0.4ms', 0.0004])('refuses %j', (raw) => {
    expect(duration().parse(raw)).toHaveProperty('problem');
  });
  test.each([[2_700_000, '45m'], [5_400_000, '1h30m'], [90_000, '1m30s'], [1500, '1500ms'], [86_400_000, '1d']])('%d ms is shown as %s', (ms, shown) => {
    expect(showDuration(ms)).toBe(shown);
  });
});

describe('the metrics gateway (issue 21)', () => {
  const push = RUN_OPTIONS.metricsPush.value;
  test('user:password@ only from the environment, with a password of 8 characters or more; never echoed', () => {
    expect(push.parse('https://pusher:long-password@gw.example:9091/base', 'env')).toEqual({ value: 'https://pusher:long-password@gw.example:9091/base' });
    for (const layer of ['flag', 'job', 'recorded', undefined] as const) {
      const result = push.parse('https://pusher:long-password@gw.example:9091', layer);
      expect(result).toHaveProperty('problem', expect.stringMatching(/must not hold a user or password.*EXSITED_METRICS_PUSHGATEWAY/));
      expect(JSON.stringify(result)).not.toMatch(/pusher|long-password/);
    }
    expect(push.parse('https://pusher:short@gw.example', 'env')).toHaveProperty('problem', expect.stringMatching(/shorter than 8/));
    expect(push.parse('https://:%zz-not-decodable@gw.example', 'env')).toEqual({ value: 'https://:%zz-not-decodable@gw.example' });
  });

  test.each([
    ['http://gw:99999', /port out of range/], ['http://gw:0', /port out of range/], ['gw.example:9091', /http:\/\/ or https:\/\//],
    ['http://gw/x?job=y', /query/], ['http://gw/#', /fragment/], ['http://u:pass word@[gw', /not a valid URL/], ['', /non-empty/],
  ])('%j is refused: %s', (raw, says) => {
    const result = push.parse(raw, 'env');
    expect(result).toHaveProperty('problem', expect.stringMatching(says));
    expect(JSON.stringify(result)).not.toMatch(/pass word/);
  });

  test('the environment\'s gateway credentials are known to the scrubber once the options are resolved, base64 included', () => {
    const password = 'gw-pass/+word-1';
    resolveRunOptions({ flags: { ids: 'x.txt' }, env: { ...env, EXSITED_METRICS_PUSHGATEWAY: `http://pusher:${encodeURIComponent(password)}@gw:9091` } });
    const header = `authorization: Basic ${Buffer.from(`pusher:${password}`).toString('base64')}`;
    expect(secrets.scrub(`${password} ${encodeURIComponent(password)} ${header}`)).not.toMatch(/gw-pass|gw-pass%2F|cHVzaGVy/);
  });

  test('--metrics-job: a name of A-Z a-z 0-9 _ : - only (a "/" would add labels to the grouping key)', () => {
    const job = RUN_OPTIONS.metricsJob.value;
    for (const ok of ['exsited_order_cleanup', 'nightly:stage-2', 'A'.repeat(100)]) expect(job.parse(ok)).toEqual({ value: ok });
    for (const bad of ['a/instance/b', 'a%2Fb', 'x@base64', 'two words', '', 'A'.repeat(101), 7]) expect(job.parse(bad)).toHaveProperty('problem');
  });
});

describe('job specs', () => {
  test('keys and values are checked as the flags are; every problem at once, with the nearest key', async () => {
    const dir = workDir();
    const path = writeFile(dir, 'job.json', JSON.stringify({ concurency: 4, retries: 'many', maxDeletes: 10, 'max-deletes': 5, description: 'x' }));
    await expect(readJobSpec(path)).rejects.toThrow(/3 problem\(s\):\n {2}concurency: unknown option \(did you mean "concurrency"\?\)\n {2}retries: must be a whole number/);
    await expect(readJobSpec(path)).rejects.toThrow(/max-deletes: unknown option \(did you mean "maxDeletes"\?\)/);
  });

  test('credentials are refused without being echoed; --job itself and --resume are not job options', async () => {
    const dir = workDir();
    await expect(readJobSpec(writeFile(dir, 's.json', '{"clientSecret": "abc123456789"}'))).rejects.toThrow(/credentials never go in a job file/);
    await expect(readJobSpec(writeFile(dir, 't.json', '{"accessToken": "abc123456789"}'))).rejects.toThrow(/credentials never go in a job file/);
    // The token cache is a path, not a credential: a job may name it.
    expect((await readJobSpec(writeFile(dir, 'c.json', '{"tokenCache": "/data/token-cache.json"}'))).options).toMatchObject({ tokenCache: '/data/token-cache.json' });
    await expect(readJobSpec(writeFile(dir, 'r.json', '{"resume": true, "job": "x"}'))).rejects.toThrow(/resume: unknown option[\s\S]*job: unknown option/);
  });

  test('a relative filter is the job\'s own; a BOM is fine', async () => {
    const dir = workDir();
    const spec = await readJobSpec(writeFile(dir, 'job.json', '\uFEFF{"filter": "f.json", "ids": "rel.txt"}'));
    expect(spec.options).toEqual({ filter: `${dir}/f.json`, ids: 'rel.txt' });
  });
});

describe('--auto-resume continues through the same resolver and checks (issue 22)', () => {
  test('the job\'s and the flags\' options apply, bar what picks a new run; a bad value is refused as for any run', () => {
    const job = { path: 'nightly.json', options: { filter: 'qa.json', auditDir: 'runs', autoResume: true, yes: true, concurrency: 3 } };
    const options = resolveRunOptions({ flags: { rps: '5' }, job, env }, { continuing: 'runs/a.ndjson' });
    expect(options).toMatchObject({ resume: true, auditLog: 'runs/a.ndjson', concurrency: 3, rps: 5, yes: true, autoResume: false });
    expect(options.filter).toBeUndefined();
    expect(options.auditDir).toBeUndefined();
    expect(() => resolveRunOptions({ flags: { rps: 'fast' }, job, env }, { continuing: 'runs/a.ndjson' })).toThrow('--rps must be a number above 0');
  });
});
