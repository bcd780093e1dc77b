import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { secrets } from '../src/common/secrets.js';
import { html, join, raw } from '../src/report/html/html.js';
import { historyPage } from '../src/report/html/history-page.js';
import { reportPage, type PageContext } from '../src/report/html/page.js';
import { readHistory } from '../src/report/history.js';
import { buildRunReport, type RunReport } from '../src/report/run-report.js';
import { TimelineBuilder, type RunTimeline } from '../src/report/run-timeline.js';
import { workDir, writeFile } from './helpers/cli.js';

/**
 * Every string the page is built from, made hostile: the report and its timeline are walked and each
 * string gets markup appended, so that a field added later is covered without touching this test. The
 * page must show each as text, escaped once, and contain no markup but its own.
 */
const T0 = Date.parse('2026-11-28T10:00:00.000Z');
const time = (ms: number) => new Date(T0 + ms).toISOString();
const source = { kind: 'filter', path: 'selection.csv', sha256: 'a'.repeat(64), count: 6, filter: { path: 'old-tests.json', sha256: 'b'.repeat(64), match: { status: 'DRAFT' } } };

/** Two logs, a run and its resume, with every kind of line the page draws: outcomes, retries, decisions, a pause, an outage, a stop reason. */
function logs(): string[] {
  const dir = workDir();
  const line = (runId: string, ms: number, event: string, fields: Record<string, unknown>) => ({ level: 'info', time: time(ms), runId, event, ...fields });
  const order = (runId: string, ms: number, orderId: string, outcome: string, extra: Record<string, unknown> = {}) =>
    line(runId, ms, 'order', { orderId, outcome, httpStatus: 204, attempts: 1, durationMs: 40, ...extra });
  const throttle = (ms: number, kind: string, rateBefore: number, rateAfter: number, pauseMs: number) =>
    line('r1', ms, 'throttle', { kind, windowMs: 1000, answers: 10, share: 0.4, baseline: 0, acceptedRate: 10, rateBefore, rateAfter, ceiling: null, pauseMs });
  const first = [
    line('r1', 0, 'run.start', { version: '0.1.0', baseUrl: 'https://api-stage.exsited.com', options: {}, source }),
    line('r1', 100, 'pace', { rps: 20 }),
    line('r1', 200, 'order.retry', { orderId: 'ORD-1', attempt: 1, httpStatus: 503, delayMs: 100 }),
    order('r1', 400, 'ORD-1', 'deleted', { attempts: 2, durationMs: 300 }),
    order('r1', 500, 'ORD-2', 'already_absent', { httpStatus: 404 }),
    throttle(600, 'cut', 20, 10, 1000),
    throttle(900, 'ceiling', 10, 9, 0),
    throttle(1500, 'lift', 9, 12, 0),
    line('r1', 1600, 'service', { state: 'failing', failures: 5, answers: 0 }),
    line('r1', 2600, 'service', { state: 'answering', failures: 0, answers: 1, failingMs: 1000 }),
    order('r1', 2700, 'ORD-3', 'failed', { httpStatus: 409, error: { code: 'ORDER_LOCKED', message: 'Order has invoices' } }),
    line('r1', 2800, 'order.retry', { orderId: 'ORD-4', attempt: 1, errorCode: 'ECONNRESET', delayMs: 50 }),
    line('r1', 3000, 'run.end', { status: 'interrupted', exitCode: 143, durationMs: 3000, reason: 'the server said: stop', summary: { throttledMs: 1000 } }),
  ];
  // A rerun in a log of its own (a resume follows its run in one log: a log that begins with one is refused as cut).
  const resume = [
    line('r2', 10_000, 'run.start', { version: '0.1.0', baseUrl: 'https://api-stage.exsited.com', options: {}, source }),
    order('r2', 10_500, 'ORD-4', 'deleted'),
    order('r2', 11_000, 'ORD-5', 'failed', { httpStatus: 400, error: { code: 'BAD_ORDER', message: 'Order is not a test order' } }),
    line('r2', 12_000, 'run.end', { status: 'failed', exitCode: 1, durationMs: 2000 }),
  ];
  return [writeFile(dir, 'a.ndjson', first.map((l) => JSON.stringify(l)).join('\n')), writeFile(dir, 'b.ndjson', resume.map((l) => JSON.stringify(l)).join('\n'))];
}

/** Markup, quotes, an entity that must not be decoded, a slot of the template, the end of the style sheet. */
const payload = (n: number) => `<script>alert(${n})</script>"'><img src=x onerror=alert(${n})></style>{{style}}&amp;#${n}`;

/** Fields the page does not show (it derives its own from others), by their last key or a key on their path. */
const NOT_SHOWN = ['why', 'resumeOf', 'outcomes', 'topFailureCauses'];
/** A timestamp the page parses: it is shown formatted, never as text. */
const PARSED = ['startedAt'];

/**
 * `value` with every string made hostile, the same string the same everywhere (a cause is a key of the
 * totals and an entry of the causes alike); `seen` maps each hostile string to the paths it was found at.
 */
function hostile<T>(value: T, seen: Map<string, string[]>, forms: Map<string, string>, path: string): T {
  const mark = (text: string, at: string) => {
    const form = forms.get(text) ?? `${text}${payload(forms.size)}`;
    forms.set(text, form);
    seen.set(form, [...(seen.get(form) ?? []), at]);
    return form;
  };
  if (typeof value === 'string') return (PARSED.some((key) => path.endsWith(`.${key}`)) ? value : mark(value, path)) as T;
  if (Array.isArray(value)) return value.map((item, i) => hostile(item, seen, forms, `${path}.${i}`)) as T;
  if (!value || typeof value !== 'object') return value;
  // A series key is a key of a record too: the text of a cause (`retry …`, `failed …`) is free text.
  // So is a failure's cause, a key of a history run's failedByCause.
  const key = (k: string) => (/^(retry|failed) /.test(k) || path.endsWith('.failedByCause') ? mark(k, `${path}[key]`) : k);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [key(k), hostile(v, seen, forms, `${path}.${k}`)])) as T;
}

interface Tag {
  name: string;
  attributes: Array<[string, string]>;
}

/** Character references decoded once, in one pass, as a browser does: `&#38;amp;` is the text `&amp;`. */
const decode = (text: string) => text.replace(/&(?:#(\d+)|(amp|lt|gt|quot));/g, (_, code: string | undefined, name: string | undefined) =>
  (code ? String.fromCharCode(Number(code)) : ({ amp: '&', lt: '<', gt: '>', quot: '"' })[name as 'amp']));

/**
 * The page as a browser's tokenizer reads it: every `<` must open or close a tag whose attributes are
 * all quoted (text holds no `<`), and the style sheet's text is left alone. Texts and attribute values
 * are returned decoded.
 */
function tokenize(page: string): { tags: Tag[]; texts: string[] } {
  const TAG = /<!doctype html>|<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+(?:="[^"<>]*")?)*)\s*\/?>/iy;
  const tags: Tag[] = [];
  const texts: string[] = [];
  let at = 0;
  while (at < page.length) {
    const open = page.indexOf('<', at);
    texts.push(decode(page.slice(at, open < 0 ? undefined : open)));
    if (open < 0) break;
    TAG.lastIndex = open;
    const match = TAG.exec(page);
    if (!match) throw new Error(`markup the page does not write, at ${open}: ${page.slice(open, open + 120)}`);
    at = TAG.lastIndex;
    if (!match[2]) continue;
    const attributes = [...(match[3] ?? '').matchAll(/([\w:-]+)(?:="([^"]*)")?/g)].map(([, name, v]) => [name, decode(v ?? '')] as [string, string]);
    tags.push({ name: `${match[1]}${match[2].toLowerCase()}`, attributes });
    texts.push(...attributes.map(([, v]) => v));
    if (match[2].toLowerCase() === 'style' && !match[1]) at = page.indexOf('</style>', at);
  }
  return { tags, texts };
}

const names = (tags: Tag[]) => ({ tags: new Set(tags.map((t) => t.name)), attributes: new Set(tags.flatMap((t) => t.attributes.map(([n]) => n))) });

async function inputs(): Promise<{ report: RunReport; timeline: RunTimeline }> {
  const builder = new TimelineBuilder();
  const report = await buildRunReport(logs(), builder);
  return { report, timeline: builder.finish() };
}

describe('the HTML page escapes every field it shows', () => {
  test('hostile text in every string of the report, its timeline and the command: shown as text, escaped once, no markup but the page\'s own', async () => {
    const { report, timeline } = await inputs();
    const context: PageContext = { command: 'exsited-order-cleanup', version: '0.1.0', builtAt: T0 + 60_000 };
    // A filter's input, and a file's (whose kind the page names).
    const fileInput = { ...report, input: { kind: report.input.kind, path: report.input.path, sha256: report.input.sha256, count: report.input.count } };
    const benign = [report, fileInput].map((r) => reportPage(r, timeline, context));
    for (const page of benign) expect(page).not.toMatch(/\{\{/); // every slot of the template filled
    const own = names(benign.flatMap((page) => tokenize(page).tags));
    expect(own.tags).toContain('svg'); // the benign pages draw every section
    expect(own.tags).toContain('details');

    const seen = new Map<string, string[]>();
    const forms = new Map<string, string>();
    const shown = new Set<string>();
    for (const r of [report, fileInput]) {
      const page = reportPage(hostile(r, seen, forms, 'report'), hostile(timeline, seen, forms, 'timeline'), hostile(context, seen, forms, 'context'));
      const { tags, texts } = tokenize(page);
      const hostileNames = names(tags);
      expect([...hostileNames.tags].filter((name) => !own.tags.has(name))).toEqual([]);
      expect([...hostileNames.attributes].filter((name) => !own.attributes.has(name))).toEqual([]);
      expect(tags.filter((t) => t.name === 'style')).toHaveLength(1);
      expect(tags.filter((t) => t.name === 'script' || t.name === 'img')).toEqual([]);
      const text = texts.join('\n');
      for (const form of seen.keys()) if (text.includes(form)) shown.add(form);
    }

    expect(seen.size).toBeGreaterThan(30);
    const missing = [...seen].filter(([form]) => !shown.has(form)).flatMap(([, paths]) => paths)
      .filter((path) => !NOT_SHOWN.some((key) => path.split(/[.[]/).includes(key)));
    expect(missing).toEqual([]);
    for (const field of ['report.runs.0.reason', 'report.failedOrders.0.message', 'report.host', 'report.input.criteria', 'context.command']) {
      expect([field, [...seen.values()].some((paths) => paths.includes(field))]).toEqual([field, true]);
    }
  });
});

describe('the history page escapes every field it shows', () => {
  test('hostile text in every string of the history (its runs, nights, skipped logs, links) and its context: shown as text, escaped once, no markup but the page\'s own', async () => {
    const dir = joinPath(workDir(), 'runs');
    mkdirSync(dir);
    for (const log of logs()) renameSync(log, joinPath(dir, log.split('/').at(-1) as string));
    writeFileSync(joinPath(dir, 'page.html'), '<meta name="exsited-order-cleanup-runs" content="r1 r2">');
    writeFileSync(joinPath(dir, 'junk.ndjson'), 'junk\n');
    const history = await readHistory(dir, { expectEveryMs: 3_600_000, now: T0 + 5 * 3_600_000 });
    expect([history.runs.length, history.runs[0]?.page, history.skipped.length, history.nights.some((n) => n.tone === 'missed')]).toEqual([2, joinPath(dir, 'page.html'), 1, true]);
    const context = { version: '0.1.0', pageDir: dir };
    const own = names(tokenize(historyPage(history, context)).tags);
    expect(own.tags).toContain('svg');
    expect(own.tags).toContain('a');

    const seen = new Map<string, string[]>();
    const forms = new Map<string, string>();
    const page = historyPage(hostile(history, seen, forms, 'history'), hostile(context, seen, forms, 'context'));
    const { tags, texts } = tokenize(page);
    const hostileNames = names(tags);
    expect([...hostileNames.tags].filter((name) => !own.tags.has(name))).toEqual([]);
    expect([...hostileNames.attributes].filter((name) => !own.attributes.has(name))).toEqual([]);
    expect(tags.filter((t) => t.name === 'script' || t.name === 'img')).toEqual([]);
    const text = texts.join('\n');
    // Not shown in full: a log's path (its file name is), a run's input and end (the page shows neither), its link (made relative, URL-encoded).
    const notShown = ['auditLog', 'input', 'endedAt', 'page', 'stopCause', 'pageDir'];
    const missing = [...seen].filter(([form]) => !text.includes(form)).flatMap(([, paths]) => paths)
      .filter((path) => !notShown.some((key) => path.split(/[.[]/).includes(key)));
    expect(missing).toEqual([]);
    for (const field of ['history.runs.0.reason', 'history.folder', 'history.skipped.0.problem', 'history.nights.0.label', 'history.runs.0.failedByCause[key]']) {
      expect([field, [...seen.values()].some((paths) => paths.includes(field))]).toEqual([field, true]);
    }
  });
});

describe('html, the tag the page is built with', () => {
  test('escapes every value as text, in text and in quoted attributes; nested templates and lists compose; nothing for null, undefined, false', () => {
    const hostile = `"'><b>&amp;`;
    expect(String(html`<td title="${hostile}">${hostile}</td>`)).toBe('<td title="&#34;&#39;&#62;&#60;b&#62;&#38;amp;">&#34;&#39;&#62;&#60;b&#62;&#38;amp;</td>');
    expect(String(html`<ul>${['a<', 'b'].map((item) => html`<li>${item}</li>`)}</ul>`)).toBe('<ul><li>a&#60;</li><li>b</li></ul>');
    expect(String(html`${undefined}${null}${false}${0}${''}|${[[1, 2], 3]}`)).toBe('0|123');
    expect(String(join(['a<', 'b'], html`<br>`))).toBe('a&#60;<br>b');
    expect(String(join(['a', 'b'], '<'))).toBe('a&#60;b');
  });

  test('raw is taken as it is; an object that only looks like markup is escaped', () => {
    expect(String(html`<style>${raw('a > b {}')}</style>`)).toBe('<style>a > b {}</style>');
    const lookAlike = { toString: () => '<script>' } as unknown as string;
    expect(String(html`${lookAlike}`)).not.toContain('<script>');
  });

  test('a secret is scrubbed before it is escaped: escaped, it would no longer look like itself', () => {
    const secret = 'Tag&"<secret>-0123';
    secrets.register(secret);
    expect(String(html`<p title="${`x ${secret} y`}">${secret}</p>`)).toBe('<p title="x [REDACTED] y">[REDACTED]</p>');
  });
});
