import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { AuditJournal } from '../src/audit/journal.js';
import type { RunStatus } from '../src/common/domain.js';
import { reportWithFiles } from '../src/report/report-files.js';
import { formatRunReport } from '../src/report/report-text.js';
import { workDir } from './helpers/cli.js';
import { runEndFields } from './helpers/records.js';

interface Recorded {
  baseUrl?: string;
  options?: Record<string, unknown>;
  count?: number;
  orders?: Array<'deleted' | 'failed' | 'would_delete'>;
  end?: { status: RunStatus; exitCode: number; reason?: string };
}

/** A log as a run writes it (through the journal): its run.start, its orders, its run.end unless killed. */
function recordedRun({ baseUrl = 'https://api.test', options = {}, count = 3, orders = [], end }: Recorded): string {
  const log = join(workDir(), 'a.ndjson');
  const journal = new AuditJournal(log, 'r1', () => undefined);
  journal.start({ version: '1', baseUrl, options: { maxDeletes: 10_000, ...options }, source: { kind: 'text', path: 'ids.txt', sha256: 'a'.repeat(64), count } });
  orders.forEach((outcome, i) => journal.order({
    orderId: `ORD-${i}`, outcome, httpStatus: outcome === 'failed' ? 409 : 204, attempts: 1, durationMs: 3, ...(outcome === 'failed' ? { error: { code: 'HTTP_409', message: 'has invoices' } } : {}),
  }));
  if (end) journal.end(runEndFields({ ...end, durationMs: 5 }));
  return log;
}

/** The next step as the text report prints it, and as the HTML page shows it. */
async function reported(log: string): Promise<{ text: string; html: string }> {
  const html = join(workDir(), 'r.html');
  const report = await reportWithFiles([log], { html }, { command: 'x', version: '1' });
  const page = readFileSync(html, 'utf8');
  const next = page.slice(page.indexOf('id="next"'), page.indexOf('</div>', page.indexOf('id="next"')));
  return { text: formatRunReport(report, 'x'), html: next.replace(/<[^>]+>/g, ' ').replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c))) };
}

describe('the next step of a run read from its log', () => {
  test('a run against a custom host resumes with its --allow-host (and its --yes): a resume without it is refused', async () => {
    const log = recordedRun({ options: { allowHosts: ['api.test'], yes: true }, orders: ['deleted'] }); // killed: no run.end
    const { text, html } = await reported(log);
    const resume = `x run --resume --audit-log ${log} --allow-host api.test --yes`;
    expect(text).toContain(`To resume:\n  ${resume}`);
    expect(html).toContain(resume);
  });

  test('failed orders: try them again with the resume, or list them', async () => {
    const log = recordedRun({ options: { allowHosts: ['api.test'] }, orders: ['deleted', 'failed'], count: 2, end: { status: 'failed', exitCode: 1 } });
    const { text, html } = await reported(log);
    const steps = `To try the failed orders again:\n  x run --resume --audit-log ${log} --allow-host api.test\nTo list them (as a CSV that --ids takes):\n  x report ${log} --failed-csv failed.csv`;
    expect(text.endsWith(steps)).toBe(true);
    expect(html).toContain(`x report ${log} --failed-csv failed.csv`);
  });

  test('a run refused by --max-deletes: raise the limit and go ahead, as the console said', async () => {
    const reason = '3 orders are selected, more than --max-deletes 2: nothing was deleted';
    const log = recordedRun({ options: { maxDeletes: 2 }, end: { status: 'failed', exitCode: 3, reason } });
    expect((await reported(log)).text).toContain(`If the selection is right, raise the limit and go ahead:\n  x run --resume --audit-log ${log} --max-deletes 3`);
  });

  test('a dry run that a real run would refuse for --max-deletes: delete exactly these with the limit raised', async () => {
    const log = recordedRun({ options: { dryRun: true, maxDeletes: 2 }, orders: ['would_delete', 'would_delete', 'would_delete'], end: { status: 'completed', exitCode: 0 } });
    expect((await reported(log)).text).toContain(`To delete exactly these:\n  x run --resume --audit-log ${log} --max-deletes 3`);
  });

  test('a crashed run: the bug first, then the resume; a completed run: nothing to do', async () => {
    const crashed = recordedRun({ orders: ['deleted'], end: { status: 'crashed', exitCode: 70, reason: 'internal error' } });
    expect((await reported(crashed)).text).toContain(`A bug in this tool stopped the run; the audit log is intact. Once it is fixed, the run resumes with:\n  x run --resume --audit-log ${crashed}`);
    const done = await reported(recordedRun({ orders: ['deleted', 'deleted', 'deleted'], end: { status: 'completed', exitCode: 0 } }));
    expect(done.text).not.toMatch(/--resume|--failed-csv/);
    expect(done.html).toContain('Nothing left to do');
  });

  test('a dry run of a list stopped part way, then its resume: the page names the orders never checked, never "nothing left to do"', async () => {
    const log = recordedRun({ options: { dryRun: true }, orders: ['would_delete'], end: { status: 'interrupted', exitCode: 130 } });
    const resume = new AuditJournal(log, 'r2', () => undefined);
    resume.start({ version: '1', baseUrl: 'https://api.test', options: { maxDeletes: 10_000 }, source: { kind: 'text', path: 'ids.txt', sha256: 'a'.repeat(64), count: 3 }, resumeOf: 'r1' });
    resume.order({ orderId: 'ORD-0', outcome: 'deleted', httpStatus: 204, attempts: 1, durationMs: 3 });
    resume.end(runEndFields({ status: 'completed', exitCode: 0, durationMs: 5 }));
    const { text, html } = await reported(log);
    expect(html).not.toContain('Nothing left to do');
    expect(html).toContain('2 listed orders were never checked (the dry run stopped before them). Its resumes leave them out; a new dry run of the list checks them.');
    expect(text).toContain('  not checked    2 (the dry run stopped before them: its resumes leave them out, a new dry run checks them)');
  });

  test('a dry run of a list whose checks failed, then its resume: the next step lists them for a new dry run, never a resume that would leave them out (red team)', async () => {
    const log = recordedRun({ options: { dryRun: true }, orders: ['would_delete', 'failed', 'failed'], end: { status: 'completed', exitCode: 0 } });
    const resume = new AuditJournal(log, 'r2', () => undefined);
    resume.start({ version: '1', baseUrl: 'https://api.test', options: { maxDeletes: 10_000 }, source: { kind: 'text', path: 'ids.txt', sha256: 'a'.repeat(64), count: 3 }, resumeOf: 'r1' });
    resume.order({ orderId: 'ORD-0', outcome: 'deleted', httpStatus: 204, attempts: 1, durationMs: 3 });
    resume.end(runEndFields({ status: 'completed', exitCode: 0, durationMs: 5 }));
    const { text, html } = await reported(log);
    const step = `Their checks failed in the dry run, and its resumes leave them out: to list them (as a CSV that --ids takes), for a new dry run:\n  x report ${log} --failed-csv failed.csv`;
    expect(text.endsWith(step)).toBe(true);
    expect(text).not.toContain('--resume');
    expect(html).not.toContain('--resume');
  });
});
