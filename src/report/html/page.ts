import { readFileSync } from 'node:fs';
import { humanDuration } from '../../common/durations.js';
import { DECISION_WORDS, rateText } from '../../engine/decision-words.js';
import { failedCsvCommand } from '../next-step.js';
import { reportNextSteps } from '../report-text.js';
import { failureCauses, type RunReport } from '../run-report.js';
import { storyText } from '../run-story.js';
import { throttlingSentence } from '../throttling-words.js';
import type { Interval, RunTimeline, SeriesKey } from '../run-timeline.js';
import { barChart, timeChart, type Layer } from './charts.js';
import { html, join, type Html } from './html.js';
import { STYLE, STYLE_SOURCE } from './style.js';
import { clock, int, moment, num } from './markup.js';

/** The page's skeleton: data, kept in its own file beside this one. */
const TEMPLATE = readFileSync(new URL('./template.html', import.meta.url), 'utf8');

/** Failed orders listed in full on the page; beyond that, `report --failed-csv` has them all. */
const FAILED_LISTED = 1000;
const DECISIONS_LISTED = 500;
const CAUSES_LISTED = 50;
/** Causes drawn one by one; the rest together as "other". */
const CAUSES_DRAWN = 8;

export interface PageContext {
  /** How the tool was started, for the commands the page suggests. */
  command: string;
  version: string;
  builtAt: number;
}

/**
 * `report --html`: one self-contained page for a run and all its resumes (styles and charts inline, no
 * script, a Content-Security-Policy that allows no request), built from the report and its timeline.
 */
export function reportPage(report: RunReport, timeline: RunTimeline, context: PageContext): string {
  const slots: Record<string, Html> = {
    title: html`Order cleanup on ${hostName(report.host)}: ${verdict(report).text}`,
    version: html`${context.version}`,
    // The runs it tells, for the history page's links (report/history-pages): the IDs this tool gives its runs.
    runs: html`${report.runs.map((run) => run.runId).join(' ')}`,
    styleSource: STYLE_SOURCE,
    style: STYLE,
    header: header(report, timeline, context),
    totals: totals(report),
    throughput: throughput(report, timeline),
    retries: retries(timeline),
    latency: latency(timeline),
    failures: failures(report, context),
    throttling: throttling(report, timeline),
    footer: footer(report, timeline, context),
  };
  // Filled once, from the template's text only: a slot's name in a log's text is never filled.
  return TEMPLATE.replace(/\{\{(\w+)\}\}/g, (_, name: string) => slots[name]?.toString() ?? '');
}

const hostName = (host: string) => {
  try {
    return new URL(host).host;
  } catch {
    return host;
  }
};

function verdict(r: RunReport): { text: string; tone: 'ok' | 'warn' | 'bad' } {
  if (r.unfinished) return { text: 'unfinished', tone: 'warn' };
  if (r.failed > 0) return { text: `${int(r.failed)} failed`, tone: 'bad' };
  if (r.dryRun) return { text: `dry run: ${int(r.wouldDelete)} would be deleted`, tone: 'ok' };
  return { text: 'every order gone', tone: 'ok' };
}

function header(r: RunReport, t: RunTimeline, context: PageContext): Html {
  const v = verdict(r);
  const input = r.input.filter
    ? html`filter <code>${r.input.filter}</code>; its selection (the manifest) in <code>${r.input.path}</code>`
    : html`${r.input.kind} file <code>${r.input.path}</code>`;
  const manyLogs = r.auditLogs.length > 1;
  let resumes = 0;
  const runs = r.runs.map((run, i) => html`<tr>${[
    html`<td>${run.resume ? `resume ${++resumes}` : ((resumes = 0), 'run')}</td><td class="mono">${run.runId}</td><td>${moment(Date.parse(run.startedAt))}</td>`,
    html`<td>${run.status ?? 'no run.end (killed)'}${run.dryRun && ', dry run'}</td><td class="n">${run.exitCode ?? '—'}</td>`,
    html`<td class="n">${humanDuration(run.durationMs)}</td><td>${run.reason ?? ''}</td>`,
    manyLogs && html`<td class="mono">${t.segments[i]?.auditLog ?? run.auditLog}</td>`,
  ]}</tr>`);
  const outcomes = html`${int(r.deleted)} deleted${r.dryRun && `, ${int(r.wouldDelete)} would be deleted (dry run)`}, ${int(r.alreadyAbsent)} already absent, ${int(r.failed)} failed`;
  const steps = reportNextSteps(r, context.command);
  return html`<h1>Order cleanup on ${hostName(r.host)} <span class="badge ${v.tone}" id="verdict">${v.text}</span></h1>
<p class="lede">${outcomes}${r.pending > 0 && `, ${int(r.pending)} not yet done`}${r.notChecked > 0 && `, ${int(r.notChecked)} not checked`} of ${int(r.selected)} selected, in ${r.runs.length} run${r.runs.length === 1 ? '' : 's'} (${humanDuration(r.activeMs)} working).</p>
<dl class="facts">
<dt>host</dt><dd class="mono">${r.host}</dd>
<dt>orders from</dt><dd>${input}</dd>
<dt>sha256</dt><dd class="mono">${r.input.sha256}</dd>
${r.input.criteria && html`<dt>criteria</dt><dd class="mono" id="criteria">${r.input.criteria}</dd>`}
<dt>what it did</dt><dd id="story">${storyText(r)}${r.dryRun && ' (a dry run: nothing was deleted)'}</dd>
<dt>audit log${r.auditLogs.length === 1 ? '' : 's'}</dt><dd class="mono">${join(r.auditLogs, html`<br>`)}</dd>
</dl>
<table class="runs"><caption class="note">The run and its resumes</caption><thead><tr><th></th><th>run</th><th>started</th><th>status</th><th class="n">exit</th><th class="n">time</th><th>stopped because</th>${manyLogs && html`<th>log</th>`}</tr></thead><tbody>${runs}</tbody></table>
${steps.length > 0
    ? html`<div class="next" id="next"><strong>Next</strong>${steps.map((step) => html`<p>${step.what}:</p><pre><code>${step.command}</code></pre>`)}</div>`
    : r.notChecked > 0
      ? html`<div class="next" id="next"><strong>Left out:</strong> ${int(r.notChecked)} listed order${r.notChecked === 1 ? ' was' : 's were'} never checked (the dry run stopped before them). Its resumes leave them out; a new dry run of the list checks them.</div>`
      : html`<div class="next done" id="next"><strong>Nothing left to do:</strong> every selected order has its outcome.</div>`}`;
}

function totals(r: RunReport): Html {
  const cards: Array<[string, string, string]> = [
    ['selected', 'selected', int(r.selected)],
    ...(r.dryRun ? [['wouldDelete', 'would delete', int(r.wouldDelete)] as [string, string, string]] : []),
    ['deleted', 'deleted', int(r.deleted)],
    ['alreadyAbsent', 'already absent', int(r.alreadyAbsent)],
    ['failed', 'failed', int(r.failed)],
    ['pending', 'not yet done', int(r.pending)],
    ...(r.notChecked > 0 ? [['notChecked', 'not checked', int(r.notChecked)] as [string, string, string]] : []),
    ['retries', 'retries', int(r.retries)],
    ['answered429', 'answered 429', `${int(r.throttling.answered429)} of ${int(r.throttling.requests)}`],
    ['throttledMs', 'everyone waited', humanDuration(r.throttling.waitedMs)],
    ['activeMs', 'working time', humanDuration(r.activeMs)],
    ...(r.dryRun ? [] : [['ratePerSecond', 'orders/s while working', num(r.ratePerSecond)] as [string, string, string]]),
  ];
  const card = ([key, label, value]: [string, string, string]) =>
    html`<li class="${key}${key === 'failed' && r.failed > 0 && ' bad'}"><span class="label">${label}</span><span class="value" data-total="${key}">${value}</span></li>`;
  return html`<ul class="cards">${cards.map(card)}</ul>${[
    r.unreadableLines > 0 && html`<p class="note">${int(r.unreadableLines)} unreadable line(s) in the log were skipped (writes torn by a kill, or edits): their orders count as not done.</p>`,
    r.earlierRuns > 0 && html`<p class="note">${int(r.earlierRuns)} earlier, unrelated run(s) in the log are not part of this report.</p>`,
  ]}`;
}

const sum = (t: RunTimeline, key: SeriesKey) => t.series.totals[key] ?? 0;

/** A chart's legend: a swatch and the words of each series (and its total). */
export function legend(items: Array<{ cls: string; label: string; total?: string; line?: boolean }>): Html {
  return html`<ul class="legend">${items.map((i) => html`<li><span class="sw ${i.line && 'line '}${i.cls}" aria-hidden="true"></span>${i.label}${i.total !== undefined && html` <b>${i.total}</b>`}</li>`)}</ul>`;
}

type OutcomeKey = 'deleted' | 'alreadyAbsent' | 'wouldDelete' | 'failed';
const SERIES_WORDS: Record<OutcomeKey, string> = { deleted: 'deleted', alreadyAbsent: 'already absent', wouldDelete: 'would delete', failed: 'failed' };

function throughput(r: RunReport, t: RunTimeline): Html {
  const outcome = (key: SeriesKey, label: string): Layer => ({ key, label, cls: `s-${key}`, count: (i) => i.counts[key] ?? 0, total: sum(t, key) });
  // A dry run's would-delete (thousands a second: nothing is sent) never shares a scale with deletions: shown only when nothing was deleted.
  const shown: OutcomeKey[] = r.dryRun ? ['deleted', 'alreadyAbsent', 'wouldDelete', 'failed'] : ['deleted', 'alreadyAbsent', 'failed'];
  const layers = shown.map((key) => outcome(key, SERIES_WORDS[key])).filter((l) => l.total > 0);
  const marks = t.segments.flatMap((s) => s.throttles);
  const pauses = t.segments.flatMap((s) => s.pauses);
  const paused = (why: string) => pauses.filter((p) => p.why === why).reduce((ms, p) => ms + p.toMs - p.fromMs, 0);
  const peak = bestInterval(t, (i) => (i.counts.deleted ?? 0) + (i.counts.alreadyAbsent ?? 0) + (r.dryRun ? (i.counts.wouldDelete ?? 0) : 0));
  const finished = r.deleted + r.alreadyAbsent + (r.dryRun ? r.wouldDelete : 0);
  const dry = r.dryRun ? 'A dry run sends no DELETE: its pace says nothing of the API. ' : '';
  const summary = `${dry}${int(finished)} orders finished at ${num(r.ratePerSecond || finished / Math.max(1, r.activeMs / 1000))} per second while working` +
    (peak ? `, at most ${num(peak.value / (t.intervalMs / 1000))} per second (the ${humanDuration(t.intervalMs)} from ${clock(peak.startMs)} UTC)` : '') + '. ' +
    (marks.length === 0 ? 'The rate controller made no decision. '
      : `The rate controller decided ${marks.length} time${marks.length === 1 ? '' : 's'} (${countBy(marks.map((m) => m.kind)).map(([k, n]) => `${n}× ${DECISION_WORDS[k]}`).join(', ')}). `) +
    (paused('service failing') > 0 ? `The service was failing for ${humanDuration(paused('service failing'))}: a probe a second. ` : '') +
    (t.segments.length > 1 ? `The ${t.segments.length} runs are drawn side by side, without the time between them.` : '');
  const chart = timeChart({ id: 'chart-throughput', title: 'Orders finished per second, and the paced rate', summary, unit: 'per second', layers, pacing: true }, t);
  const hasPace = t.segments.some((s) => s.paces.some((p) => p.rps !== null));
  const kinds = new Set(marks.map((m) => m.kind));
  return html`<figure>${legend([
    ...layers.map((l) => ({ cls: l.cls, label: l.label, total: int(l.total) })),
    ...(hasPace ? [{ cls: 's-pace', label: 'paced rate (requests/s)', line: true }] : []),
    ...(['cut', 'ceiling', 'lift', 'noise', 'restore', 'raise'] as const).filter((k) => kinds.has(k)).map((k) => ({ cls: `s-${k}`, label: DECISION_WORDS[k], line: true })),
    ...(paused('throttled') > 0 ? [{ cls: 's-pause-throttled', label: 'everyone waits (Retry-After)' }] : []),
    ...(paused('service failing') > 0 ? [{ cls: 's-pause-service', label: 'service failing' }] : []),
  ])}${chart}<figcaption>${summary}</figcaption>${dataTable(t, layers, true)}</figure>`;
}

function retries(t: RunTimeline): Html {
  const causes = t.series.causes;
  const drawn = causes.slice(0, causes.length > CAUSES_DRAWN ? CAUSES_DRAWN - 1 : CAUSES_DRAWN);
  const rest = causes.slice(drawn.length);
  let retryColour = 0;
  let failColour = 0;
  const layers: Layer[] = drawn.map((key) => {
    const failed = key.startsWith('failed ');
    return {
      key, label: failed ? `failed: ${key.slice(7)}` : `retried: ${key.slice(6)}`, cls: failed ? `f${failColour++}` : `c${retryColour++}`,
      count: (i: Interval) => i.counts[key] ?? 0, total: sum(t, key),
    };
  });
  if (rest.length > 0) layers.push({ key: 'other', label: `${rest.length} other causes`, cls: 'c7', count: (i) => rest.reduce((s, k) => s + (i.counts[k] ?? 0), 0), total: rest.reduce((s, k) => s + sum(t, k), 0) });
  const retried = causes.filter((k) => k.startsWith('retry ')).reduce((s, k) => s + sum(t, k), 0);
  const failed = causes.filter((k) => k.startsWith('failed ')).reduce((s, k) => s + sum(t, k), 0);
  if (retried + failed === 0) return html`<p>No request was retried and no order failed.</p>`;
  const summary = `${int(retried)} requests were retried and ${int(failed)} orders failed (counted in the run where they failed). ` +
    `By cause: ${layers.map((l) => `${l.label} ${int(l.total)}`).join('; ')}.`;
  const chart = timeChart({ id: 'chart-retries', title: 'Retries and failures per second, stacked by cause', summary, unit: 'per second', layers, pacing: false }, t);
  return html`<figure>${legend(layers.map((l) => ({ cls: l.cls, label: l.label, total: int(l.total) })))}${chart}<figcaption>${summary}</figcaption>${dataTable(t, layers, false)}</figure>`;
}

function latency(t: RunTimeline): Html {
  const { latency: l } = t;
  if (!l.percentiles) return html`<p>No order has a duration (a dry run sends no DELETE).</p>`;
  const p = l.percentiles;
  const range = (from: number, to: number) => (to <= 500 ? `${int(from)}–${int(to)} ms` : `${num(from / 1000)}–${num(to / 1000)} s`);
  const histogram = barChart({
    id: 'chart-latency', title: 'Orders by time taken', unit: 'orders',
    summary: `The time from an order's first request to its outcome, retries and waits included, for ${int(l.orders)} orders: half took ${humanDuration(p.p50)} or less, 99% ${humanDuration(p.p99)} or less, the slowest ${humanDuration(p.max)}.`,
    bars: l.histogram.map((h) => ({ label: range(h.fromMs, h.toMs), value: h.orders, title: `${int(h.orders)} orders took ${humanDuration(h.fromMs)} to under ${humanDuration(h.toMs)}` })),
  });
  const attempts = barChart({
    id: 'chart-attempts', title: 'Orders by requests sent', unit: 'orders', height: 180, barClass: 'bar attempts',
    summary: `Requests sent per order: ${l.attempts.map((a) => `${int(a.orders)} took ${a.attempts}`).join(', ')}.`,
    bars: l.attempts.map((a) => ({ label: `${a.attempts}`, value: a.orders, title: `${int(a.orders)} orders took ${a.attempts} request${a.attempts === 1 ? '' : 's'}` })),
  });
  const percentiles: Array<[string, number]> = [['median', p.p50], ['90%', p.p90], ['99%', p.p99], ['slowest', p.max]];
  return html`<dl class="percentiles" id="percentiles">${percentiles.map(([k, v]) => html`<div><dt>${k}</dt><dd>${humanDuration(v)}</dd></div>`)}<div><dt>orders</dt><dd>${int(l.orders)}</dd></div></dl>
<figure>${histogram}<figcaption>The time from an order's first request to its outcome, retries and their waits included.</figcaption></figure>
<h3>Requests per order</h3><figure>${attempts}<figcaption>One request is an order deleted (or found absent) at once; more are retries.</figcaption></figure>`;
}

function failures(r: RunReport, context: PageContext): Html {
  return html`${failedOrders(r, context)}${absentOrders(r)}`;
}

/** Absent orders the page names: a page stays a page (all of them: report --json, the audit log). */
const ABSENT_LISTED = 10_000;

/** The listed orders that were not there (a typo in a list must not pass for a deletion). */
function absentOrders(r: RunReport): Html {
  if (r.absentOrders.length === 0) return html``;
  const dryRun = r.runs.every((run) => run.dryRun);
  const listed = r.absentOrders.slice(0, ABSENT_LISTED);
  return html`<details id="absent-orders"><summary>${int(r.absentOrders.length)} listed order${r.absentOrders.length === 1 ? ' was' : 's were'} ${dryRun ? 'not found' : 'already absent'}: not in Exsited when asked for${r.absentOrders.length > listed.length && ` (the first ${int(listed.length)} here; all in report --json)`}</summary>
<p class="mono">${join(listed.map((id) => html`${id}`), ', ')}</p></details>`;
}

function failedOrders(r: RunReport, context: PageContext): Html {
  if (r.failed === 0) return html`<p id="no-failures">No order failed.</p>`;
  const causes = failureCauses(r.failedOrders);
  const rest = causes.slice(CAUSES_LISTED);
  const rows = [
    ...causes.slice(0, CAUSES_LISTED).map((c) => html`<tr><td>${c.cause}</td><td class="n">${int(c.orders)}</td><td class="mono">${c.example.orderId}</td><td>${c.example.message}</td></tr>`),
    rest.length > 0 && html`<tr><td>${int(rest.length)} other causes</td><td class="n">${int(rest.reduce((n, c) => n + c.orders, 0))}</td><td></td><td>all in --failed-csv</td></tr>`,
  ];
  const listed = r.failedOrders.slice(0, FAILED_LISTED);
  const all = listed.map((f) => html`<tr><td class="mono">${f.orderId}</td><td class="n">${f.httpStatus ?? '—'}</td><td class="mono">${f.code}</td><td>${f.message}</td></tr>`);
  const csv = failedCsvCommand(context.command, r.auditLogs);
  return html`<table id="failure-causes"><thead><tr><th>cause</th><th class="n">orders</th><th>example</th><th>message</th></tr></thead><tbody>${rows}</tbody></table>
<details><summary>All ${int(r.failed)} failed orders${r.failed > listed.length && ` (the first ${int(listed.length)} here)`}</summary>
<table id="failed-orders"><thead><tr><th>order</th><th class="n">HTTP</th><th>code</th><th>message</th></tr></thead><tbody>${all}</tbody></table>
<p class="note">As CSV, usable as <code>--ids</code>: <code>${csv}</code></p></details>`;
}

function throttling(r: RunReport, t: RunTimeline): Html {
  const decisions = t.segments.flatMap((s, run) => s.throttles.map((m) => ({ ...m, run })));
  const pauses = t.segments.flatMap((s) => s.pauses.filter((p) => p.why === 'service failing'));
  const said = throttlingSentence(r.throttling);
  if (decisions.length === 0 && pauses.length === 0) return html`<p id="throttling-said">${said} The service never failed as a whole.</p>`;
  const rows = decisions.slice(0, DECISIONS_LISTED).map((d) => html`<tr>${[
    html`<td>${moment(d.atMs)}</td><td>${d.run === 0 ? 'run' : `resume ${d.run}`}</td><td>${DECISION_WORDS[d.kind]}</td>`,
    html`<td class="n">${rateText(d.rateBefore)}</td><td class="n">${rateText(d.rateAfter)}</td><td class="n">${num(d.share * 100)}%</td><td class="n">${d.pauseMs > 0 && humanDuration(d.pauseMs)}</td>`,
  ]}</tr>`);
  const outages = pauses.map((p) => html`<li>${moment(p.fromMs)}: the service was failing for ${humanDuration(p.toMs - p.fromMs)}; requests waited, one probe a second</li>`);
  return html`<p id="throttling-said">${said} ${int(decisions.length)} decision${decisions.length === 1 ? '' : 's'} of the rate controller.</p>${[
    rows.length > 0 && html`<table id="decisions"><thead><tr><th>when</th><th>run</th><th>decision</th><th class="n">rate before</th><th class="n">after</th><th class="n">throttled</th><th class="n">everyone waited</th></tr></thead><tbody>${rows}</tbody></table>`,
    decisions.length > DECISIONS_LISTED && html`<p class="note">The first ${DECISIONS_LISTED} of ${int(decisions.length)}; every one is a <code>throttle</code> line in the audit log.</p>`,
    outages.length > 0 && html`<ul id="outages">${outages}</ul>`,
  ]}`;
}

function footer(r: RunReport, t: RunTimeline, context: PageContext): Html {
  const logs = r.auditLogs.length === 1 ? 'log' : 'logs';
  return html`<p>${[
    html`Built by exsited-order-cleanup ${context.version} on ${moment(context.builtAt)} from ${join(r.auditLogs.map((l) => html`<code>${l}</code>`), ', ')}, `,
    html`in intervals of ${humanDuration(t.intervalMs)}. Rebuild it at any time from the ${logs}: `,
    html`<code>${context.command} report ${r.auditLogs.join(' ')} --html report.html</code>; the same series as CSV: <code>--timeline timeline.csv</code>.`,
  ]}</p>`;
}

/** The numbers behind a chart, per interval: the figure as real text. */
function dataTable(t: RunTimeline, layers: Layer[], pacing: boolean): Html {
  const head = html`<tr><th>interval from (UTC)</th><th>run</th>${layers.map((l) => html`<th class="n">${l.label}</th>`)}${pacing && html`<th class="n">paced at (req/s)</th><th class="n">paused</th>`}</tr>`;
  const rows = t.segments.flatMap((s, run) => s.intervals.map((i) => html`<tr><td>${clock(i.startMs)}</td><td>${run === 0 ? 'run' : `resume ${run}`}</td>${[
    layers.map((l) => html`<td class="n">${int(l.count(i))}</td>`),
    pacing && html`<td class="n">${i.paceRps !== null && num(i.paceRps)}</td><td class="n">${i.pausedMs > 0 && humanDuration(i.pausedMs)}</td>`,
  ]}</tr>`));
  return html`<details><summary>The numbers behind the chart (${int(rows.length)} intervals of ${humanDuration(t.intervalMs)}, counts per interval)</summary><table><thead>${head}</thead><tbody>${rows}</tbody></table></details>`;
}

function bestInterval(t: RunTimeline, value: (i: Interval) => number): { startMs: number; value: number } | undefined {
  let best: { startMs: number; value: number } | undefined;
  for (const s of t.segments) {
    // A run's last interval may be cut short by its end: it is left out of "at most".
    for (const i of s.intervals) if (i.startMs + t.intervalMs <= s.endMs && (!best || value(i) > best.value)) best = { startMs: i.startMs, value: value(i) };
  }
  return best;
}

function countBy<T>(values: T[]): Array<[T, number]> {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts];
}
