import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { AuditJournal } from '../src/audit/journal.js';
import { DECISION_WORDS } from '../src/engine/decision-words.js';
import type { ThrottleDecision } from '../src/engine/throttle-decision.js';
import { reportWithFiles } from '../src/report/report-files.js';
import { workDir } from './helpers/cli.js';
import { runEndFields } from './helpers/records.js';

const decision = (kind: ThrottleDecision['kind'], rateBefore: number, rateAfter: number): ThrottleDecision => ({
  kind, windowMs: 1000, answers: 40, share: 0.2, baseline: 0, acceptedRate: 90, rateBefore, rateAfter, ceiling: kind === 'lift' ? null : 100, pauseMs: kind === 'cut' ? 1500 : 0,
});

describe('the rate controller\'s decisions, in one set of words', () => {
  test('the audit log\'s throttle lines and the HTML page (legend, marks, table) name each decision alike', async () => {
    const dir = workDir();
    const log = join(dir, 'a.ndjson');
    const journal = new AuditJournal(log, 'r1', () => undefined);
    journal.start({ version: '1', baseUrl: 'https://api-stage.exsited.com', options: {}, source: { kind: 'text', path: 'ids.txt', sha256: 'a'.repeat(64), count: 1 } });
    journal.throttle(decision('cut', Number.POSITIVE_INFINITY, 90));
    journal.throttle(decision('ceiling', 100, 92.44));
    journal.throttle(decision('lift', 120, Number.POSITIVE_INFINITY));
    journal.throttle({ ...decision('noise', 30, Number.POSITIVE_INFINITY), baseline: 0.5, ceiling: null });
    journal.throttle({ ...decision('restore', 0.05, 0.05), share: 0.95 });
    journal.throttle({ ...decision('raise', 2.3, 2.7), ceiling: 3, share: 0 });
    journal.order({ orderId: 'ORD-1', outcome: 'deleted', httpStatus: 204, attempts: 1, durationMs: 3 });
    journal.end(runEndFields({ durationMs: 10 }));

    const msgs = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { event: string; msg: string }).filter((l) => l.event === 'throttle').map((l) => l.msg);
    expect(msgs).toEqual([
      'rate cut from unpaced to 90/s, everyone waits 1.5 s',
      'rate stepped back below the ceiling from 100/s to 92.4/s',
      'limit lifted from 120/s to unpaced',
      'cuts undone (the 429s are not about the rate): cutting did not lower the share throttled (50%, now the baseline); unpaced from 30/s',
      'climbing back (the server accepts again after refusing) from 0.05/s, doubling each second up to 90/s, where it was before the refusal',
      'ceiling raised (the server accepts beyond it) from 2.3/s to 2.7/s',
    ]);

    const html = join(dir, 'r.html');
    await reportWithFiles([log], { html }, { command: 'x', version: '1' });
    const page = readFileSync(html, 'utf8');
    const table = page.slice(page.indexOf('<table id="decisions">'), page.indexOf('</table>', page.indexOf('<table id="decisions">')));
    const legend = page.slice(page.indexOf('<ul class="legend">'), page.indexOf('</ul>', page.indexOf('<ul class="legend">')));
    for (const [kind, words] of Object.entries(DECISION_WORDS)) {
      expect(table).toContain(`<td>${words}</td>`);
      expect(legend).toContain(words);
      const said = (msgs.find((m) => m.startsWith(words)) ?? '').split(',')[0] as string;
      expect(page).toMatch(new RegExp(`<g class="mark mark-${kind}" data-kind="${kind}"><title>\\d\\d:\\d\\d:\\d\\d ${said.replace(/[()]/g, '\\$&')}`));
    }
  });
});
