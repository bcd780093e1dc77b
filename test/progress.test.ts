import { PassThrough } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import { Console } from '../src/report/console.js';
import { progressText, SmoothedRate, withBar } from '../src/report/progress.js';

/** A terminal of `columns` columns whose output is kept. */
function terminal(columns: number) {
  let text = '';
  const stream = Object.assign(new PassThrough().on('data', (chunk: Buffer) => (text += chunk.toString())), { isTTY: true, columns });
  return { console: new Console('human', stream, stream), text: () => text };
}

describe('the progress line', () => {
  test('says the count, the share, the rate, an ETA, failures, retries and what holds the run back', () => {
    expect(progressText({ done: 120, total: 400, rate: 85.24, failed: 2, retries: 14, state: 'throttled by the server' }))
      .toBe('120/400 (30%), 85.2 orders/s, ETA 4 s, 2 failed, 14 retries, throttled by the server');
    expect(progressText({ done: 0, total: 10, rate: 0, failed: 0, retries: 0, state: '' })).toBe('0/10 (0%), 0.0 orders/s, ETA -, 0 failed, 0 retries');
  });

  test.each([[7, '7 s'], [6.2, '7 s'], [125, '2 min 5 s'], [4800, '1 h 20 min']])('an ETA of %s s reads %s, in whole seconds, as every duration reads', (seconds, shown) => {
    expect(progressText({ done: 0, total: seconds, rate: 1, failed: 0, retries: 0, state: '' })).toContain(`ETA ${shown},`);
  });

  test('a bar takes the room the terminal leaves, at most 40 columns, none when there is too little', () => {
    const text = '30/100 (30%), 5.0 orders/s';
    expect(withBar(text, 30, 100, 200)).toBe(`[${'#'.repeat(12)}${'.'.repeat(28)}] ${text}`);
    expect(withBar(text, 30, 100, 45).length).toBeLessThanOrEqual(44);
    expect(withBar(text, 30, 100, 30)).toBe(text);
  });

  test('on an 80-column terminal the live line never wraps, other lines are printed above it, and it is cleared at the end', () => {
    const { console, text } = terminal(80);
    console.live(`[${'#'.repeat(40)}] ${'x'.repeat(100)}`);
    console.say('a warning');
    console.clearLive();
    const rows = text().split('\n');
    for (const row of rows) {
      const drawn = row.split('\r').at(-1)?.replace(/\u001b\[K/g, '') ?? '';
      expect(drawn.length).toBeLessThan(80);
    }
    expect(text()).toContain('\r\u001b[Ka warning\n\r[');
    expect(text().endsWith('\r\u001b[K')).toBe(true);
  });

  test('the rate is smoothed: a stall or a burst moves it part of the way, not all of it', () => {
    let clock = 0;
    const meter = new SmoothedRate(() => clock);
    // Orders finished by the end of each second: 200 a second, then a two-second stall, then a burst of 600.
    const rates = [200, 400, 400, 400, 1000].map((finished) => {
      clock += 1000;
      return meter.sample(finished);
    });
    expect(rates[0]).toBe(200);
    expect(rates[1]).toBe(200);
    expect(rates[2]).toBeCloseTo(150); // a second with nothing done: a quarter of the way down
    expect(rates[3]).toBeCloseTo(112.5);
    expect(rates[4]).toBeCloseTo(234.4, 1); // a burst: a quarter of the way up
  });
});
