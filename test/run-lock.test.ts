import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { RunLock } from '../src/audit/run-lock.js';
import { workDir } from './helpers/cli.js';

describe('RunLock', () => {
  test('a run releasing its lock removes its lock file, and the log can be locked again', async () => {
    const log = join(workDir(), 'a.ndjson');
    const lock = new RunLock(log, 'run-1');
    await lock.acquire();
    expect(JSON.parse(readFileSync(lock.path, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname(), runId: 'run-1' });
    await lock.release();
    expect(existsSync(lock.path)).toBe(false);

    const next = new RunLock(log, 'run-2');
    await next.acquire();
    await next.release();
  });

  test('a run whose lock file another run has taken over leaves that run\'s lock file in place when it releases', async () => {
    const log = join(workDir(), 'a.ndjson');
    const lock = new RunLock(log, 'run-1');
    await lock.acquire();
    // Taken over while this run was thought gone: deleted by a person, then created by a run of another host on a shared volume.
    const other = `${JSON.stringify({ pid: 4242, host: 'other-host', startedAt: '2026-01-01T00:00:00Z', runId: 'run-2' })}\n`;
    writeFileSync(lock.path, other);

    await lock.release();

    expect(readFileSync(lock.path, 'utf8')).toBe(other);
  });
});
