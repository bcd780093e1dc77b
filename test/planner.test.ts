import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import type { ResumeState } from '../src/audit/resume-state.js';
import { IdSet } from '../src/common/id-set.js';
import type { SourceRecord } from '../src/common/records.js';
import { RunEvents } from '../src/engine/events.js';
import { RunControl } from '../src/engine/run-control.js';
import { prepareInput, type InputOptions, type PlanContext } from '../src/planner/input.js';
import { workDir, writeFile } from './helpers/cli.js';

function context(dir: string, stdin = new PassThrough()): PlanContext & { notices: string[] } {
  const events = new RunEvents();
  const notices: string[] = [];
  events.on('notice', ({ text }) => notices.push(text));
  return {
    runId: 'r1', auditLog: join(dir, 'a.ndjson'), control: new RunControl(0), events, stdin, notices,
    api: () => Promise.reject(new Error('no API in these tests')),
  };
}
const options = (extra: Partial<InputOptions> = {}): InputOptions => ({ force: false, ...extra });
const resumeOf = (source: SourceRecord): ResumeState => ({
  resumeOf: 'r0', source, baseUrl: 'x', lastEnd: undefined, finished: new IdSet(['ORD-1']), reviewed: undefined, unreadableLines: [], earlierChains: 0,
  start: {} as ResumeState['start'],
});

describe('prepareInput', () => {
  test('a fresh run records how it read the file: the format and the column found', async () => {
    const dir = workDir();
    const path = writeFile(dir, 'x.csv', 'id,Order ID\n1,ORD-1\n2,ORD-2\n');
    const input = await prepareInput(options({ ids: path }), undefined, context(dir));
    expect([...(input?.scanned.pending ?? [])]).toEqual(['ORD-1', 'ORD-2']);
    expect(input?.source).toMatchObject({ kind: 'csv', format: 'csv', column: 'Order ID', count: 2, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') });
  });

  test('a resume reads the recorded file the recorded way and skips what the run finished', async () => {
    const dir = workDir();
    const path = writeFile(dir, 'x.csv', 'order_id,parent\nORD-1,P-1\nORD-2,P-2\n');
    const first = await prepareInput(options({ ids: path }), undefined, context(dir));
    const input = await prepareInput(options(), resumeOf(first?.source as SourceRecord), context(dir));
    expect([...(input?.scanned.pending ?? [])]).toEqual(['ORD-2']);
    expect(input?.scanned.skipped).toBe(1);
  });

  test('a resume that changes how the set is read is refused unless --force', async () => {
    const dir = workDir();
    const path = writeFile(dir, 'x.csv', 'order_id,parent\nORD-1,P-1\n');
    const recorded = (await prepareInput(options({ ids: path }), undefined, context(dir)))?.source as SourceRecord;
    await expect(prepareInput(options({ column: 'parent' }), resumeOf(recorded), context(dir))).rejects.toThrow(/--column parent \(the run read the column "order_id"\)/);
    await expect(prepareInput(options({ format: 'text' }), resumeOf(recorded), context(dir))).rejects.toThrow(/--format text/);
    await expect(prepareInput(options({ shard: { index: 0, count: 2 } }), resumeOf(recorded), context(dir))).rejects.toThrow(/--shard 0\/2 \(the run was not sharded\)/);
    const forced = await prepareInput(options({ column: 'parent', force: true }), resumeOf(recorded), context(dir));
    expect([...(forced?.scanned.pending ?? [])]).toEqual(['P-1']);
  });

  test('stdin is copied beside the log; stopped while it is read, nothing is left behind', async () => {
    const dir = workDir();
    const stdin = new PassThrough();
    const ctx = context(dir, stdin);
    const preparing = prepareInput(options({ ids: '-' }), undefined, ctx);
    stdin.write('ORD-1\n');
    await new Promise((resolve) => setImmediate(resolve));
    ctx.control.stop({ kind: 'signal', signal: 'SIGTERM' });
    expect(await preparing).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
    expect(ctx.notices).toEqual(['Reading order IDs from stdin …']);

    const piped = new PassThrough();
    const done = prepareInput(options({ ids: '-' }), undefined, context(dir, piped));
    piped.end('order_id\nORD-7\n');
    const input = await done;
    expect([...(input?.scanned.pending ?? [])]).toEqual(['ORD-7']);
    expect(existsSync(input?.source.path as string)).toBe(true);
    expect(input?.source).toMatchObject({ stdin: true, kind: 'text' });
  });
});
