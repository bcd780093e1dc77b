import { describe, expect, test } from '@jest/globals';
import { AuditJournal } from '../src/audit/journal.js';
import { SecretScrubber, secrets } from '../src/common/secrets.js';
import { readAudit, workDir } from './helpers/cli.js';

describe('secret scrubbing', () => {
  test('registered values and bearer tokens are replaced wherever they appear', () => {
    const scrubber = new SecretScrubber();
    scrubber.register('s3cr3t-value');
    scrubber.register('abc'); // too short to be a secret (config refuses such credentials); would redact ordinary words
    expect(scrubber.scrub('x s3cr3t-value y s3cr3t-value abc')).toBe('x [REDACTED] y [REDACTED] abc');
    expect(scrubber.scrub('Authorization: Bearer eyJhbGciOi.J9x-y')).toBe('Authorization: Bearer [REDACTED]');
  });

  test('every audit line passes through the process scrubber, whatever wrote it', () => {
    secrets.register('client-secret-for-journal-test');
    const path = `${workDir()}/a.ndjson`;
    const journal = new AuditJournal(path, 'r1', () => undefined);
    journal.order({ orderId: 'ORD-1', outcome: 'failed', httpStatus: 400, attempts: 1, durationMs: 1, error: { code: 'Bearer abcdef123456', message: 'leaked client-secret-for-journal-test here' } });
    journal.end({ status: 'completed' });
    const text = JSON.stringify(readAudit(path));
    expect(text).not.toContain('client-secret-for-journal-test');
    expect(text).not.toContain('abcdef123456');
    expect(text).toContain('[REDACTED]');
  });
});
