import { describe, expect, test } from '@jest/globals';
import { AuditJournal } from '../src/audit/journal.js';
import { SecretScrubber, secrets } from '../src/common/secrets.js';
import { readAudit, workDir } from './helpers/cli.js';
import { runEndFields } from './helpers/records.js';

describe('secret scrubbing', () => {
  test('registered values and bearer tokens are replaced wherever they appear', () => {
    const scrubber = new SecretScrubber();
    scrubber.register('s3cr3t-value');
    scrubber.register('abc'); // too short to be a secret (config refuses such credentials); would redact ordinary words
    expect(scrubber.scrub('x s3cr3t-value y s3cr3t-value abc')).toBe('x [REDACTED] y [REDACTED] abc');
    expect(scrubber.scrub('Authorization: Bearer eyJhbGciOi.J9x-y')).toBe('Authorization: Bearer [REDACTED]');
  });

  test('a secret is found base64-encoded at any alignment (an echoed Basic header), and URL-safe', () => {
    const scrubber = new SecretScrubber();
    scrubber.registerBasic('bob', 'hunter2-proxy-pw');
    for (const user of ['bob', 'al', 'carol', 'x']) {
      const header = `Proxy-Authorization: Basic ${Buffer.from(`${user}:hunter2-proxy-pw`).toString('base64')}`;
      expect(scrubber.scrub(header)).toContain('[REDACTED]');
      expect(scrubber.scrub(header)).not.toMatch(/Basic [A-Za-z0-9+/]{12,}/);
    }
    const urlSafe = Buffer.from('??>>hunter2-proxy-pw<<??').toString('base64url');
    expect(scrubber.scrub(`token=${urlSafe}`)).toContain('[REDACTED]');
    expect(scrubber.scrub('an ordinary sentence, with aGVsbG8gd29ybGQ in it')).toBe('an ordinary sentence, with aGVsbG8gd29ybGQ in it');
  });

  test('a URL\'s credentials are registered decoded and as written', () => {
    const scrubber = new SecretScrubber();
    scrubber.registerUrl(new URL('http://gw-user:p%40ss-word-99@127.0.0.1:9091'));
    expect(scrubber.scrub('p@ss-word-99 / p%40ss-word-99 / p%2540ss-word-99')).toBe('[REDACTED] / [REDACTED] / [REDACTED]');
    expect(scrubber.scrub(`Basic ${Buffer.from('gw-user:p@ss-word-99').toString('base64')}`)).toBe('Basic [REDACTED]');
  });

  test('every audit line passes through the process scrubber, whatever wrote it', () => {
    secrets.register('client-secret-for-journal-test');
    const path = `${workDir()}/a.ndjson`;
    const journal = new AuditJournal(path, 'r1', () => undefined);
    journal.order({ orderId: 'ORD-1', outcome: 'failed', httpStatus: 400, attempts: 1, durationMs: 1, error: { code: 'Bearer abcdef123456', message: 'leaked client-secret-for-journal-test here' } });
    journal.end(runEndFields());
    const text = JSON.stringify(readAudit(path));
    expect(text).not.toContain('client-secret-for-journal-test');
    expect(text).not.toContain('abcdef123456');
    expect(text).toContain('[REDACTED]');
  });
});
