import { nice, ticks } from 'd3-array';
import { area, curveStepAfter } from 'd3-shape';
import { humanDuration } from '../../common/durations.js';
import type { Interval, RunTimeline, Segment } from '../run-timeline.js';
import { html, type Html } from './html.js';
import { decisionText } from '../../engine/decision-words.js';
import { clock, int, num } from './markup.js';

/**
 * The report's charts as inline SVG, drawn once when the report is built: no script runs in the page, so
 * it opens the same from a CI artifact, a mail client or a print-out, and its text is real text. d3-array
 * picks the axes' round numbers and d3-shape draws the stacked step areas; the colours are CSS classes
 * (the page's style sheet has a light and a dark set).
 */
export const W = 960;
const H = 300;
export const M = { top: 30, right: 16, bottom: 34, left: 58 };
const GAP = 14;
const PLOT_H = H - M.top - M.bottom;

/** A stacked series of a time chart: its CSS class, its words, its count in an interval (drawn per second), its total. */
export interface Layer {
  key: string;
  label: string;
  cls: string;
  count: (interval: Interval) => number;
  total: number;
}

export interface TimeChart {
  id: string;
  title: string;
  /** What the chart shows, in a sentence or two: the figure's text for those who cannot see it. */
  summary: string;
  unit: string;
  layers: Layer[];
  /** Draw the paced rate, the rate controller's decisions and the pauses. */
  pacing: boolean;
}

interface Placed {
  segment: Segment;
  index: number;
  x0: number;
  width: number;
  x: (ms: number) => number;
}

/** The runs side by side, each as wide as its share of the working time (the hours between runs left out). */
function place(segments: Segment[], intervalMs: number): Placed[] {
  const inner = W - M.left - M.right - GAP * (segments.length - 1);
  const minWidth = Math.min(48, inner / segments.length);
  const durations = segments.map((s) => Math.max(intervalMs, s.endMs - s.startMs));
  const total = durations.reduce((a, b) => a + b, 0);
  const small = durations.map((d) => (d / total) * inner < minWidth);
  const largeTotal = durations.reduce((sum, d, i) => sum + (small[i] ? 0 : d), 0);
  const rest = inner - minWidth * small.filter(Boolean).length;
  let x0 = M.left;
  return segments.map((segment, index) => {
    const duration = durations[index] as number;
    const width = small[index] ? minWidth : (duration / largeTotal) * rest;
    const left = x0;
    x0 += width + GAP;
    return { segment, index, x0: left, width, x: (ms: number) => left + (Math.min(Math.max(ms - segment.startMs, 0), duration) / duration) * width };
  });
}

/** `count` per second of the interval: the last interval of a run covers only up to its end. */
function perSecond(segment: Segment, interval: Interval, intervalMs: number, count: number): number {
  const covered = Math.min(interval.startMs + intervalMs, segment.endMs) - interval.startMs;
  return count / (Math.max(covered, intervalMs / 4) / 1000);
}

export const f = (n: number) => num(n, 1);

/** The value axis of a chart `height` high, from 0 to `top`: grid lines, their figures, and the unit along the side. */
export function valueAxis(top: number, count: number, unit: string, height: number, format: (n: number) => string): { y: (v: number) => number; parts: Html[] } {
  const plotH = height - M.top - M.bottom;
  const y = (v: number) => M.top + plotH - (Math.min(v, top) / top) * plotH;
  const parts = ticks(0, top, count).flatMap((tick) => [
    html`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${f(y(tick))}" y2="${f(y(tick))}"/>`,
    html`<text class="tick" x="${M.left - 6}" y="${f(y(tick) + 4)}" text-anchor="end">${format(tick)}</text>`,
  ]);
  parts.push(html`<text class="axis-label" x="14" y="${M.top + plotH / 2}" transform="rotate(-90 14 ${M.top + plotH / 2})" text-anchor="middle">${unit}</text>`);
  return { y, parts };
}

/** A chart over time: stacked areas per run, the runs side by side, with its axes, marks and hover text. */
export function timeChart(chart: TimeChart, timeline: RunTimeline): Html {
  const placed = place(timeline.segments, timeline.intervalMs);
  const rate = (segment: Segment, interval: Interval, layer: Layer) => perSecond(segment, interval, timeline.intervalMs, layer.count(interval));
  const stackTop = Math.max(0, ...timeline.segments.flatMap((s) => s.intervals.map((i) => chart.layers.reduce((sum, l) => sum + rate(s, i, l), 0))));
  const paceTop = chart.pacing ? Math.max(0, ...timeline.segments.flatMap((s) => s.paces.map((p) => p.rps ?? 0))) : 0;
  // The pace is drawn to scale unless it is far above what was delivered (an --rps cap of 10,000): then it runs along the top.
  const [, top] = nice(0, Math.max(1, stackTop, paceTop <= 2 * stackTop || stackTop === 0 ? paceTop : 0), 5);
  const { y, parts } = valueAxis(top, 5, chart.unit, H, (tick) => num(tick, 2));

  for (const p of placed) {
    const { segment } = p;
    const label = p.index === 0 ? `run ${segment.runId}` : `resume ${p.index} (${segment.runId})`;
    const status = segment.status ?? 'killed';
    const text = p.width > 260 ? `${label} · ${clock(segment.startMs)} · ${status}` : p.width > 120 ? label : p.width > 40 ? (p.index === 0 ? 'run' : `r${p.index}`) : '';
    parts.push(html`<g class="segment" data-run="${segment.runId}"><title>${label}, started ${clock(segment.startMs)} UTC, ${status}, ${humanDuration(segment.workMs ?? Math.max(0, segment.endMs - segment.startMs - segment.consentWaitMs))} working</title>`,
      html`<rect class="segment-bg" x="${f(p.x0)}" y="${M.top}" width="${f(p.width)}" height="${PLOT_H}"/>`,
      html`<text class="segment-label" x="${f(p.x0 + 2)}" y="${M.top - 8}">${text}</text></g>`);

    for (const pause of chart.pacing ? segment.pauses : []) {
      const x1 = p.x(pause.fromMs);
      const x2 = Math.max(p.x(pause.toMs), x1 + 1);
      const why = pause.why === 'throttled' ? 'throttled by the server: everyone waited' : 'the service was failing: a probe a second';
      parts.push(html`<rect class="pause pause-${pause.why === 'throttled' ? 'throttled' : 'service'}" x="${f(x1)}" y="${M.top}" width="${f(x2 - x1)}" height="${PLOT_H}">`,
        html`<title>${clock(pause.fromMs)}\u2013${clock(pause.toMs)}: ${why} (${humanDuration(pause.toMs - pause.fromMs)})</title></rect>`);
    }

    // Stacked step areas: each interval's value held until the next; the last one to the run's end.
    const points = segment.intervals.map((interval) => ({ interval, x: p.x(interval.startMs) }));
    points.push({ interval: segment.intervals.at(-1) as Interval, x: p.x(segment.endMs) });
    const base = points.map(() => 0);
    for (const layer of chart.layers) {
      const values = points.map(({ interval }) => rate(segment, interval, layer));
      const path = area<number>().curve(curveStepAfter)
        .x((i) => (points[i] as { x: number }).x).y0((i) => y(base[i] as number)).y1((i) => y((base[i] as number) + (values[i] as number)))
        .digits(1)(points.map((_, i) => i));
      values.forEach((v, i) => void (base[i] = (base[i] as number) + v));
      if (layer.total > 0 && path) parts.push(html`<path class="layer ${layer.cls}" data-series="${layer.key}" d="${path}"/>`);
    }

    if (chart.pacing) {
      let d = '';
      let current: number | null = null;
      for (const pace of segment.paces) {
        const x = f(p.x(pace.atMs));
        if (current !== null) d += `H${x}`;
        if (pace.rps !== null) d += current === null ? `M${x},${f(y(pace.rps))}` : `V${f(y(pace.rps))}`;
        current = pace.rps;
      }
      if (current !== null) d += `H${f(p.x(segment.endMs))}`;
      if (d) parts.push(html`<path class="pace" data-series="pace" d="${d}"><title>the paced rate (requests/s)</title></path>`);
      for (const mark of segment.throttles) {
        const x = f(p.x(mark.atMs));
        const waited = mark.pauseMs > 0 && `, everyone waited ${humanDuration(mark.pauseMs)}`;
        parts.push(html`<g class="mark mark-${mark.kind}" data-kind="${mark.kind}">`,
          html`<title>${clock(mark.atMs)} ${decisionText(mark)}, ${num(mark.share * 100)}% of the window throttled${waited}</title>`,
          html`<line x1="${x}" x2="${x}" y1="${M.top}" y2="${M.top + PLOT_H}"/><path d="M${x},${M.top}l-4,-6h8z"/></g>`);
      }
    }

    // Hover text per interval, and the time axis of the run (time since it started).
    for (const { interval, x } of points.slice(0, -1)) {
      const next = p.x(Math.min(interval.startMs + timeline.intervalMs, segment.endMs));
      const values = chart.layers.filter((l) => l.total > 0).map((l) => `${l.label} ${num(rate(segment, interval, l))}`);
      const pace = chart.pacing && interval.paceRps !== null ? [`paced at ${num(interval.paceRps)}/s`] : [];
      const paused = interval.pausedMs > 0 ? [`paused ${humanDuration(interval.pausedMs)}`] : [];
      parts.push(html`<rect class="hover" x="${f(x)}" y="${M.top}" width="${f(Math.max(1, next - x))}" height="${PLOT_H}"><title>${clock(interval.startMs)}: ${[...values, ...pace, ...paused].join(', ')} (${chart.unit})</title></rect>`);
    }
    const duration = Math.max(timeline.intervalMs, segment.endMs - segment.startMs);
    for (const t of timeTicks(duration / 1000, Math.max(1, Math.floor(p.width / 90)))) {
      const at = p.x(segment.startMs + t * 1000);
      const x = f(at);
      const anchor = t === 0 ? 'start' : at > p.x0 + p.width - 24 ? 'end' : 'middle';
      parts.push(html`<line class="tick-mark" x1="${x}" x2="${x}" y1="${M.top + PLOT_H}" y2="${M.top + PLOT_H + 4}"/>`,
        html`<text class="tick" x="${x}" y="${M.top + PLOT_H + 17}" text-anchor="${anchor}">${t === 0 ? (p.index === 0 ? '0 s' : '') : `+${humanDuration(t * 1000)}`}</text>`);
    }
  }
  parts.push(html`<text class="axis-label" x="${W - M.right}" y="${H - 4}" text-anchor="end">time since each run started</text>`);
  return svg(chart.id, chart.title, chart.summary, parts);
}

/** Steps a time axis is marked at, s: the round spans of a clock (never 8 min 20 s). */
const TIME_STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400];

/** Ticks from 0 to `seconds`, about `count` of them, on a round step. */
function timeTicks(seconds: number, count: number): number[] {
  const step = TIME_STEPS.find((s) => seconds / s <= count) ?? (TIME_STEPS.at(-1) as number);
  return Array.from({ length: Math.floor(seconds / step + 1e-9) + 1 }, (_, i) => Number((i * step).toFixed(3)));
}

interface Bar {
  label: string;
  value: number;
  /** Hover text. */
  title: string;
}

/** A chart of bars over categories (a histogram): its words as a time chart's, its height, the bars' CSS class. */
export interface BarChart extends Pick<TimeChart, 'id' | 'title' | 'summary' | 'unit'> {
  bars: Bar[];
  height?: number;
  barClass?: string;
}

/** Bars over categories (a histogram): one bar each, labelled below. */
export function barChart({ id, title, summary, unit, bars, height = 220, barClass = 'bar' }: BarChart): Html {
  const plotH = height - M.top - M.bottom;
  const [, top] = nice(0, Math.max(1, ...bars.map((b) => b.value)), 4);
  const { y, parts } = valueAxis(top, 4, unit, height, int);
  const band = (W - M.left - M.right) / Math.max(1, bars.length);
  bars.forEach((bar, i) => {
    const x = M.left + i * band;
    parts.push(html`<g class="${barClass}" data-value="${bar.value}"><title>${bar.title}</title>`,
      html`<rect x="${f(x + band * 0.12)}" y="${f(y(bar.value))}" width="${f(band * 0.76)}" height="${f(M.top + plotH - y(bar.value))}"/>`,
      html`<text class="tick" x="${f(x + band / 2)}" y="${M.top + plotH + 16}" text-anchor="middle">${bar.label}</text></g>`);
  });
  return svg(id, title, summary, parts, height);
}

export function svg(id: string, title: string, summary: string, parts: Html[], height = H): Html {
  const open = html`<svg id="${id}" class="chart" viewBox="0 0 ${W} ${height}" role="img" aria-labelledby="${id}-title ${id}-desc" preserveAspectRatio="xMidYMid meet">`;
  return html`${open}<title id="${id}-title">${title}</title><desc id="${id}-desc">${summary}</desc>${parts}</svg>`;
}
