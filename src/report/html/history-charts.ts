import { nice } from 'd3-array';
import type { Night } from '../history-nights.js';
import { f, M, svg, valueAxis, W } from './charts.js';
import { html, type Html } from './html.js';

/** A stacked part of a night's bar: its CSS class, its words, its value in a night. */
interface NightLayer {
  key: string;
  label: string;
  cls: string;
  value: (night: Night) => number;
}

export interface NightChart {
  id: string;
  title: string;
  /** What the chart shows, in a sentence or two: the figure's text for those who cannot see it. */
  summary: string;
  unit: string;
  layers: NightLayer[];
  /** How a value reads on the axis and in the hover text. */
  format: (value: number) => string;
}

const HEIGHT = 240;
const PLOT_H = HEIGHT - M.top - M.bottom;

/**
 * Bars over the nights, oldest first, each stacked from its layers. A failed night (or one with a crashed
 * run) has a red mark above its bar, a night stopped early (halted, interrupted, killed) an amber one; a
 * missed night (--expect-every) is an empty dashed slot marked "missed", so a gap is seen, not inferred.
 */
export function nightChart(chart: NightChart, nights: Night[]): Html {
  const totals = nights.map((night) => chart.layers.reduce((sum, layer) => sum + layer.value(night), 0));
  const [, top] = nice(0, totals.reduce((a, b) => Math.max(a, b), 1), 4);
  const { y, parts } = valueAxis(top, 4, chart.unit, HEIGHT, chart.format);
  const band = (W - M.left - M.right) / Math.max(1, nights.length);
  const labelEvery = Math.max(1, Math.ceil(nights.length / Math.floor((W - M.left - M.right) / 70)));
  nights.forEach((night, i) => {
    const x = M.left + i * band;
    const width = Math.min(48, Math.max(1, band * 0.76));
    const left = x + (band - width) / 2;
    if (night.tone === 'missed') {
      parts.push(html`<g class="night-missed" data-night="${night.label}"><title>${night.label}: missed (no run started in this period)</title>`,
        html`<rect x="${f(left)}" y="${M.top}" width="${f(width)}" height="${PLOT_H}"/>`,
        html`${band >= 14 && html`<text class="tick" x="${f(x + band / 2)}" y="${M.top + 12}" text-anchor="middle">missed</text>`}</g>`);
    } else {
      let base = 0;
      const values = chart.layers.map((layer) => ({ layer, value: layer.value(night) }));
      const words = values.map(({ layer, value }) => `${layer.label} ${chart.format(value)}`).join(', ');
      const how = `${night.runs > 1 ? ` (${night.runs} runs)` : ''}${night.tone === 'bad' ? ' — failed' : night.tone === 'warn' ? ' — stopped early' : ''}`;
      parts.push(html`<g class="night tone-${night.tone}" data-night="${night.label}" data-total="${totals[i] as number}"><title>${night.label}: ${words}${how}</title>`);
      for (const { layer, value } of values) {
        if (value <= 0) continue;
        parts.push(html`<rect class="${layer.cls}" data-series="${layer.key}" x="${f(left)}" y="${f(y(base + value))}" width="${f(width)}" height="${f(y(base) - y(base + value))}"/>`);
        base += value;
      }
      if (night.tone !== 'ok') {
        const cx = x + band / 2;
        parts.push(html`<path class="tone-${night.tone}" d="M${f(cx)},${f(y(base) - 3)}l-4,-7h8z"/>`);
      }
      parts.push(html`</g>`);
    }
    if (i % labelEvery === 0) parts.push(html`<text class="tick" x="${f(x + band / 2)}" y="${M.top + PLOT_H + 16}" text-anchor="middle">${night.label.slice(5)}</text>`);
  });
  return svg(chart.id, chart.title, chart.summary, parts, HEIGHT);
}
