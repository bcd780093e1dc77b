import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { reportWithFiles } from '../src/report/report-files.js';
import { workDir, writeFile } from './helpers/cli.js';

/** A log written by hand: a run whose orders all failed, each with the error code and message given. */
function failedRun(failures: Array<{ code: string; message: string }>): string {
  const time = (ms: number) => new Date(Date.parse('2026-11-28T10:00:00.000Z') + ms).toISOString();
  const lines = [
    { level: 'info', time: time(0), runId: 'r1', event: 'run.start', version: '0.1.0', baseUrl: 'https://api-stage.exsited.com', options: {}, source: { kind: 'text', path: 'ids.txt', sha256: 'a'.repeat(64), count: failures.length } },
    ...failures.map((error, i) => ({ level: 'warn', time: time(i), runId: 'r1', event: 'order', orderId: `ORD-${i}`, outcome: 'failed', httpStatus: 400, attempts: 1, durationMs: 5, error })),
    { level: 'info', time: time(failures.length), runId: 'r1', event: 'run.end', status: 'failed', exitCode: 1, durationMs: failures.length },
  ];
  return writeFile(workDir(), 'a.ndjson', lines.map((line) => JSON.stringify(line)).join('\n'));
}

async function page(log: string): Promise<string> {
  const html = join(workDir(), 'r.html');
  await reportWithFiles([log], { html }, { command: 'exsited-order-cleanup', version: '0.1.0' });
  return readFileSync(html, 'utf8');
}

describe('the HTML page', () => {
  test('a server that makes every failure\'s code unique: 50 causes listed and the rest in one row, 1,000 orders listed; the page stays small', async () => {
    const html = await page(failedRun(Array.from({ length: 3000 }, (_, i) => ({ code: `E${i}`, message: `order ${i} refused` }))));
    const causes = html.slice(html.indexOf('<table id="failure-causes">'), html.indexOf('</table>', html.indexOf('<table id="failure-causes">')));
    expect(causes.match(/<tr>/g)).toHaveLength(1 + 50 + 1);
    expect(causes).toContain('<td>2,950 other causes</td><td class="n">2,950</td>');
    const listed = html.slice(html.indexOf('<table id="failed-orders">'), html.indexOf('</table>', html.indexOf('<table id="failed-orders">')));
    expect(listed.match(/<tr>/g)).toHaveLength(1 + 1000);
    expect(html).toContain('All 3,000 failed orders (the first 1,000 here)');
    expect(html.length).toBeLessThan(600_000);
  });

  test('server text cannot end the style sheet or open a script: the policy allows only the page\'s own style sheet', async () => {
    const html = await page(failedRun([{ code: '</style><script>alert(1)</script>', message: '"><svg onload=alert(1)>{{style}}' }]));
    expect(html).not.toMatch(/<script|<svg onload|<\/style><script/i);
    expect(html).toContain('&#60;/style&#62;&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).toContain('{{style}}'); // a slot's name in server text stays text: the template is filled once
    const policy = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
    expect(policy).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+';/);
    expect(html.match(/<style>/g)).toHaveLength(1);
  });
});
