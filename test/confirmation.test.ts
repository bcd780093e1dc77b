import { PassThrough, Readable } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import { secrets } from '../src/common/secrets.js';
import { confirmDeletion } from '../src/guards/confirmation.js';

describe('the confirmation screen', () => {
  test('passes the listing\'s values through the scrubber: a secret in a server\'s status is never shown whole (red team)', async () => {
    const secret = 'confirm-screen-secret-42';
    secrets.register(secret);
    let shown = '';
    const stderr = Object.assign(new PassThrough(), { isTTY: true });
    stderr.on('data', (chunk: Buffer) => (shown += chunk.toString()));
    const answer = await confirmDeletion(
      { host: 'api.test', count: 2, sample: ['ORD-1', 'ORD-2'], details: [`by status: ACTIVE-${secret} 2`] },
      { stdin: Readable.from(['no\n']), stderr }, false,
    );
    expect(answer).toMatchObject({ confirmed: false });
    expect(shown).toContain('by status: ACTIVE-[REDACTED] 2');
    expect(shown).not.toContain(secret);
  });
});
