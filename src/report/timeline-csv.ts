import { stringify } from 'csv-stringify/sync';
import { spreadsheetSafe } from '../common/text.js';
import type { RunTimeline, SeriesKey } from './run-timeline.js';

const OUTCOME_COLUMNS: Array<[SeriesKey, string]> = [['deleted', 'deleted'], ['alreadyAbsent', 'already_absent'], ['failed', 'failed'], ['wouldDelete', 'would_delete']];

/**
 * `report --timeline`: the report's per-interval series as CSV, one row per interval of each run, for
 * people who chart elsewhere. Fixed columns first, then one per cause (`retry HTTP 429`, `failed HTTP 409
 * ORDER_LOCKED`), the largest first. Causes carry the server's words: a header cannot become a formula.
 */
export function timelineCsv(timeline: RunTimeline): string {
  const { causes } = timeline.series;
  const retryCauses = causes.filter((key) => key.startsWith('retry '));
  const header = ['interval_start', 'interval_s', 'run', 'run_id', 'seconds_into_run', ...OUTCOME_COLUMNS.map(([, name]) => name),
    'retries', 'pace_rps', 'paused_s', ...causes.map((cause) => spreadsheetSafe(cause))];
  const rows: Array<Array<string | number>> = [header];
  timeline.segments.forEach((segment, index) => {
    for (const interval of segment.intervals) {
      const count = (key: SeriesKey) => interval.counts[key] ?? 0;
      rows.push([
        new Date(interval.startMs).toISOString(), timeline.intervalMs / 1000, index + 1, segment.runId, (interval.startMs - segment.startMs) / 1000,
        ...OUTCOME_COLUMNS.map(([key]) => count(key)),
        retryCauses.reduce((sum, key) => sum + count(key), 0),
        interval.paceRps === null ? '' : interval.paceRps, interval.pausedMs / 1000,
        ...causes.map(count),
      ]);
    }
  });
  return stringify(rows);
}
