import { relative, sep } from 'node:path';
import { humanDuration } from '../../common/durations.js';
import type { History, HistoryRun } from '../history.js';
import { nightsByTone, standingOut, toneOf, type Night } from '../history-nights.js';
import { causesOf } from '../history-outputs.js';
import { nightChart, type NightChart } from './history-charts.js';
import { html, join, type Html } from './html.js';
import { int, moment, num } from './markup.js';
import { legend } from './page.js';
import { STYLE, STYLE_SOURCE } from './style.js';

export interface HistoryPageContext {
  version: string;
  /** The folder the page is written to: its links to the runs' pages are relative to it. */
  pageDir: string;
}

/**
 * `report <folder> --html`: the nights of an audit folder on one self-contained page, by the run page's
 * rules (report/html/page): styles and charts inline, no script, a Content-Security-Policy that allows no
 * request, light, dark and print. A row per run, newest first, failed and stopped nights marked, missed ones
 * shown as gaps; charts over the nights; each chart's numbers in a table below it.
 */
export function historyPage(h: History, context: HistoryPageContext): string {
  const counts = tally(h);
  const title = `Order cleanup history: ${h.folder}`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${STYLE_SOURCE}; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="exsited-order-cleanup ${context.version}">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${title} <span class="badge ${counts.tone}" id="verdict">${counts.verdict}</span></h1>
<p class="lede">${lede(h)}</p>
${cards(h)}
</header>
<main>
<section id="nights" aria-labelledby="nights-h">
<h2 id="nights-h">Over the nights</h2>
${charts(h)}
</section>
<section id="runs" aria-labelledby="runs-h">
<h2 id="runs-h">Every run, newest first</h2>
${runsTable(h, context)}
</section>
${h.skipped.length > 0 && html`<section id="skipped" aria-labelledby="skipped-h"><h2 id="skipped-h">Logs not read</h2>
<ul>${h.skipped.map(({ path, problem }) => html`<li><code>${path}</code>: ${problem}</li>`)}</ul></section>`}
</main>
<footer>
<p>Made by exsited-order-cleanup ${context.version} at ${moment(h.builtAt)} from the audit logs in <code>${h.folder}</code>
(each run by its own lines: an order a resume finished counts in the resume's row). Times are UTC.
${h.unreadableLines > 0 && html` ${int(h.unreadableLines)} unreadable line(s) were skipped (writes torn by a kill, or edits).`}</p>
</footer>
</body>
</html>
`.toString();
}

function tally(h: History): { tone: 'ok' | 'warn' | 'bad'; verdict: string } {
  const counts = nightsByTone(h.nights);
  const { bad, warn, missed } = counts;
  const words = standingOut(counts);
  if (h.runs.length === 0) return { tone: 'warn', verdict: 'no runs' };
  const latest = h.nights.at(-1);
  return { tone: bad > 0 || latest?.tone === 'missed' ? 'bad' : warn + missed > 0 ? 'warn' : 'ok', verdict: words.length > 0 ? words.join(', ') : 'every night well' };
}

function lede(h: History): Html {
  const logs = new Set(h.runs.map((run) => run.auditLog)).size;
  const first = h.nights[0]?.label;
  const last = h.nights.at(-1)?.label;
  const span = first === undefined ? '' : first === last ? `on ${first}` : `from ${first} to ${last}`;
  const expected = h.expectEveryMs ? `, a run expected every ${humanDuration(h.expectEveryMs)}` : ', by UTC day';
  // Those not read are said too, as the text listing says them (red team: "3 runs in 1 audit log" beside "4 audit logs … (3 not read)").
  const notRead = h.skipped.length > 0 ? html` (and ${int(h.skipped.length)} not read: below)` : '';
  return html`${int(h.runs.length)} run${h.runs.length === 1 ? '' : 's'} in ${int(logs)} audit log${logs === 1 ? '' : 's'}${notRead}, ${int(h.nights.length)} night${h.nights.length === 1 ? '' : 's'} ${span}${expected}.`;
}

function cards(h: History): Html {
  const total = (key: keyof HistoryRun['counts']) => h.runs.reduce((sum, run) => sum + run.counts[key], 0);
  const nights = nightsByTone(h.nights);
  const items: Array<[string, string, string, boolean]> = [
    ['deleted', 'deleted', int(total('deleted')), false],
    ['alreadyAbsent', 'already absent', int(total('alreadyAbsent')), false],
    ['failed', 'failed', int(total('failed')), total('failed') > 0],
    ['nightsBad', 'failed nights', int(nights.bad), nights.bad > 0],
    ['nightsWarn', 'stopped early', int(nights.warn), false],
    ['nightsMissed', 'missed nights', h.expectEveryMs ? int(nights.missed) : '—', nights.missed > 0],
    ['durationMs', 'working time', humanDuration(h.runs.reduce((sum, run) => sum + run.durationMs, 0)), false],
    ['throttledMs', 'everyone waited', humanDuration(h.runs.reduce((sum, run) => sum + run.throttledMs, 0)), false],
  ];
  return html`<ul class="cards">${items.map(([key, label, value, bad]) =>
    html`<li class="${key}${bad && ' bad'}"><span class="label">${label}</span><span class="value" data-total="${key}">${value}</span></li>`)}</ul>
<p class="note">Each run counts its own outcomes: an order that failed in one run and was deleted by a later resume counts in both (its log's report tells each order once, by its latest outcome).</p>`;
}

function charts(h: History): Html {
  if (h.nights.length === 0) return html`<p class="note">No runs in this folder yet.</p>`;
  const marks = 'A red mark above a bar: a night that failed; amber: one stopped early (halted, interrupted or killed); a dashed empty slot: a missed night.';
  const outcomes: NightChart = {
    id: 'chart-outcomes', title: 'Orders per night', unit: 'orders', format: int,
    summary: `Orders deleted, already absent and failed each night. ${marks}`,
    layers: [
      { key: 'deleted', label: 'deleted', cls: 's-deleted', value: (n) => n.deleted },
      { key: 'alreadyAbsent', label: 'already absent', cls: 's-alreadyAbsent', value: (n) => n.alreadyAbsent },
      { key: 'failed', label: 'failed', cls: 's-failed', value: (n) => n.failed },
    ],
  };
  const time = timeUnit(h.nights.reduce((longest, n) => Math.max(longest, n.durationMs, n.throttledMs), 0));
  const duration: NightChart = {
    id: 'chart-duration', title: 'Working time per night', unit: time.unit, format: time.format,
    summary: `How long the night's runs worked, added up (the time at a confirmation left out). ${marks}`,
    layers: [{ key: 'duration', label: 'working', cls: 's-duration', value: (n) => n.durationMs / time.ms }],
  };
  const throttled: NightChart = {
    id: 'chart-throttled', title: 'Time throttled per night', unit: time.unit, format: time.format,
    summary: `How long everyone waited out the server's 429s (Retry-After) each night. ${marks}`,
    layers: [{ key: 'throttled', label: 'everyone waited', cls: 's-throttled', value: (n) => n.throttledMs / time.ms }],
  };
  return html`${[outcomes, duration, throttled].map((chart) => figure(chart, h.nights))}`;
}

/** The unit the time charts are drawn in: one that keeps the longest night's figure readable. */
function timeUnit(longestMs: number): { unit: string; ms: number; format: (value: number) => string } {
  const [unit, ms] = longestMs >= 3 * 3_600_000 ? ['hours', 3_600_000] as const : longestMs >= 120_000 ? ['minutes', 60_000] as const : ['seconds', 1000] as const;
  return { unit, ms, format: (value) => num(value, 2) };
}

function figure(chart: NightChart, nights: Night[]): Html {
  const rows = nights.map((night) => html`<tr class="tone-${night.tone}"><td>${night.label}</td><td>${night.tone === 'missed' ? 'missed' : night.runs}</td>${
    chart.layers.map((l) => html`<td class="n">${night.tone === 'missed' ? '—' : chart.format(l.value(night))}</td>`)}</tr>`);
  return html`<figure><h3>${chart.title}</h3>${legend(chart.layers)}${nightChart(chart, nights)}<figcaption>${chart.summary}</figcaption>
<details><summary>The numbers (${chart.unit})</summary><table><thead><tr><th>night</th><th>runs</th>${chart.layers.map((l) => html`<th class="n">${l.label}</th>`)}</tr></thead>
<tbody>${rows}</tbody></table></details></figure>`;
}

function runsTable(h: History, context: HistoryPageContext): Html {
  type Item = { at: number; row: Html };
  const runs: Item[] = h.runs.map((run) => ({ at: Date.parse(run.startedAt), row: runRow(run, context) }));
  const missed: Item[] = h.nights.filter((night) => night.tone === 'missed').map((night) => ({
    at: night.startMs, row: html`<tr class="tone-missed" data-missed="${night.label}"><td>${night.label}</td><td colspan="13">missed: no run started between ${moment(night.startMs)} and ${moment(night.endMs)}</td></tr>`,
  }));
  const rows = [...runs, ...missed].sort((a, b) => b.at - a.at).map((item) => item.row);
  const head = ['started (UTC)', 'status', '#exit', 'mode', '#selected', '#deleted', '#already absent', '#failed', '#time', '#throttled', '#tokens', 'stopped because', 'page', 'log']
    .map((name) => (name.startsWith('#') ? html`<th class="n">${name.slice(1)}</th>` : html`<th>${name}</th>`));
  return html`<table class="history"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

function runRow(run: HistoryRun, context: HistoryPageContext): Html {
  const causes = causesOf(run);
  const failed = html`${int(run.counts.failed)}${causes.length > 0 && html`<br><span class="note">${join(causes.map((c) => `${c.cause}: ${int(c.orders)}`), html`<br>`)}</span>`}`;
  const page = run.page ? html`<a href="${hrefTo(run.page, context.pageDir)}">page</a>` : '—';
  const status = run.status ?? (run.running ? 'running (its log is locked)' : 'no run.end (killed)');
  const log = run.auditLog.split(/[\\/]/).at(-1) ?? run.auditLog;
  return html`<tr class="tone-${toneOf(run)}" data-run="${run.runId}">${[
    html`<td>${run.startedAt.slice(0, 16).replace('T', ' ')}</td><td>${status}</td><td class="n">${run.exitCode ?? '—'}</td>`,
    html`<td>${run.dryRun ? 'dry run' : 'deleting'}${run.resume && ', resume'}</td><td class="n">${int(run.selected)}</td>`,
    html`<td class="n">${int(run.dryRun ? run.counts.wouldDelete : run.counts.deleted)}${run.dryRun && ' would be'}</td><td class="n">${int(run.counts.alreadyAbsent)}</td><td class="n">${failed}</td>`,
    html`<td class="n">${humanDuration(run.durationMs)}</td><td class="n">${humanDuration(run.throttledMs)}</td><td class="n">${run.tokens.obtained} / ${run.tokens.shared}</td>`,
    html`<td>${run.reason ?? ''}</td><td>${page}</td><td class="mono log">${log}</td>`,
  ]}</tr>`;
}

/** A link from the page's folder to a run's page: relative (the folder can be copied whole), each part URL-encoded. */
function hrefTo(page: string, pageDir: string): string {
  return relative(pageDir, page).split(sep).map(encodeURIComponent).join('/');
}
