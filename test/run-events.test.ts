import { PassThrough } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import type { OrderRecord } from '../src/common/records.js';
import { RunEvents, type RunOutcome } from '../src/engine/events.js';
import { RunTally } from '../src/engine/tally.js';
import { Console } from '../src/report/console.js';
import { reportToConsole } from '../src/report/console-reporter.js';
import { SOURCE } from './helpers/records.js';

const order = (orderId: string, outcome: OrderRecord['outcome'], extra: Partial<OrderRecord> = {}): OrderRecord =>
  ({ orderId, outcome, httpStatus: outcome === 'failed' ? 409 : 204, attempts: 1, durationMs: 3, ...extra });

function capture() {
  let text = '';
  const stream = new PassThrough().on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { console: new Console('human', stream, stream), text: () => text };
}

describe('RunEvents', () => {
  test('delivers each event to its subscribers synchronously, in the order they subscribed', () => {
    const events = new RunEvents();
    const heard: string[] = [];
    events.on('order.finished', ({ record }) => heard.push(`journal ${record.orderId}`));
    events.on('order.finished', ({ record }) => heard.push(`console ${record.orderId}`));
    events.on('run.started', () => heard.push('started'));
    events.emit({ type: 'order.finished', record: order('A', 'deleted') });
    heard.push('after emit');
    expect(heard).toEqual(['journal A', 'console A', 'after emit']);
  });
});

describe('RunTally', () => {
  test('counts outcomes and retries from the events; keeps the first ten failures', () => {
    const events = new RunEvents();
    const tally = new RunTally(30, 5, events);
    for (let i = 0; i < 12; i++) events.emit({ type: 'order.finished', record: order(`F${i}`, 'failed') });
    events.emit({ type: 'order.finished', record: order('D', 'deleted') });
    events.emit({ type: 'order.finished', record: order('A', 'already_absent') });
    events.emit({ type: 'retry.scheduled', record: { orderId: 'D', attempt: 1, httpStatus: 503, delayMs: 5 } });
    expect(tally.summary).toMatchObject({ selected: 30, skipped: 5, failed: 12, deleted: 1, alreadyAbsent: 1, retries: 1, pending: 30 - 5 - 14 });
    expect(tally.finished).toBe(14);
    expect(tally.firstFailures.map((f) => f.orderId)).toEqual(['F0', 'F1', 'F2', 'F3', 'F4', 'F5', 'F6', 'F7', 'F8', 'F9']);
  });
});

describe('the console reporter', () => {
  const outcome = (exitCode: 0 | 1 | 3, status: 'completed' | 'failed', reason?: string): RunOutcome => ({
    runId: 'r1', status, exitCode, durationMs: 1500, auditLog: 'runs/a.ndjson', resources: { maxRssMb: 1, cpuMs: 1 },
    summary: { selected: 3, deleted: 2, alreadyAbsent: 0, failed: 1, skipped: 0, wouldDelete: 0, pending: 0, retries: 0, throttledMs: 0, ratePerSecond: 2 },
    ...(reason ? { reason } : {}),
  });

  test('says where the log is, the summary with its first failures, why it stopped, and how to resume', () => {
    const events = new RunEvents();
    const tally = new RunTally(3, 0, events);
    const { console, text } = capture();
    reportToConsole(events, console, tally, { dryRun: false, checksOrders: false, resumed: false, duplicates: () => 1, next: { command: 'npx exsited-order-cleanup', allowHosts: ['h.example'], yes: true } });
    events.emit({ type: 'run.started', runId: 'r1', auditLog: 'runs/a.ndjson', startedAt: 0, fields: { version: '1', source: SOURCE, baseUrl: 'x', options: {} } });
    events.emit({ type: 'order.finished', record: order('ORD-9', 'failed', { error: { code: 'HTTP_409', message: 'has invoices' } }) });
    events.emit({ type: 'run.ended', outcome: outcome(1, 'failed') });
    expect(text()).toContain('Audit log: runs/a.ndjson');
    expect(text()).toMatch(/selected +3 \(1 duplicate rows sent once\)/);
    expect(text()).toMatch(/Failures by cause:\n +1 {2}HTTP 409 {2}\(e\.g\. ORD-9: has invoices\)/);
    expect(text()).toContain('To try the failed orders again:\n  npx exsited-order-cleanup run --resume --audit-log runs/a.ndjson --allow-host h.example --yes\n');
    expect(text()).toContain('To list them (as a CSV that --ids takes):\n  npx exsited-order-cleanup report runs/a.ndjson --failed-csv failed.csv');
  });

  test('a run refused before it deleted anything is one line, and a way on only where there is one', () => {
    const events = new RunEvents();
    const tally = new RunTally(50, 0, events);
    const { console, text } = capture();
    const refusal = { reason: '50 orders are selected, more than --max-deletes 10: nothing was deleted', raiseMaxDeletesTo: 50 };
    reportToConsole(events, console, tally, { dryRun: false, checksOrders: false, resumed: false, duplicates: () => 0, next: { command: 'x', allowHosts: [], yes: false, refusal } });
    events.emit({ type: 'run.ended', outcome: { ...outcome(3, 'failed', refusal.reason), auditLog: 'a.ndjson' } });
    expect(text()).toBe(`Refused: ${refusal.reason}\nIf the selection is right, raise the limit and go ahead:\n  x run --resume --audit-log a.ndjson --max-deletes 50\n`);
  });

  test('a dry run names a sample, says whether a real run would be refused, and how to delete exactly these', () => {
    const events = new RunEvents();
    const tally = new RunTally(2, 0, events);
    const { console, text } = capture();
    reportToConsole(events, console, tally, { dryRun: true, checksOrders: false, resumed: false, duplicates: () => 0, next: { command: 'x', allowHosts: [], yes: false, refusal: { reason: 'too many', raiseMaxDeletesTo: 2 } } });
    events.emit({ type: 'order.finished', record: order('A', 'would_delete') });
    events.emit({ type: 'order.finished', record: order('B', 'would_delete') });
    events.emit({ type: 'run.ended', outcome: { ...outcome(0, 'completed'), auditLog: 'a.ndjson', summary: { ...outcome(0, 'completed').summary, wouldDelete: 2 } } });
    expect(text()).toContain('Dry run: 2 orders would be deleted, e.g. A, B. A real run would be refused: too many\nTo delete exactly these:\n  x run --resume --audit-log a.ndjson --max-deletes 2\n');
    expect(text()).not.toMatch(/rate|To resume/);
  });
});
