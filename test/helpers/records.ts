import type { RunEndFields, RunStartFields, SourceRecord } from '../../src/common/records.js';

/** Whole records for tests that write through the journal: its types take nothing less. */
export const SOURCE: SourceRecord = { kind: 'text', path: 'ids.txt', sha256: 'a'.repeat(64), count: 1 };

export const runStartFields = (extra: Partial<RunStartFields> = {}): RunStartFields => ({ version: '1', baseUrl: 'http://x', source: SOURCE, options: {}, ...extra });

export const runEndFields = (extra: Partial<RunEndFields> = {}): RunEndFields => ({
  status: 'completed', exitCode: 0, durationMs: 1, resources: { maxRssMb: 1, cpuMs: 1 },
  summary: { selected: 0, deleted: 0, alreadyAbsent: 0, failed: 0, skipped: 0, wouldDelete: 0, pending: 0, retries: 0, throttledMs: 0, ratePerSecond: 0 },
  ...extra,
});
