import { join } from 'node:path';
import { fileEnds } from '../common/files.js';

/** How much of a page is read for its runs: the meta element is its head's second line (a chain of thousands of resumes fits). */
const HEAD_BYTES = 64 * 1024;
/** The element a run's page names its runs in (report/html/template.html): run IDs, space-separated. */
const RUNS_META = /<meta name="exsited-order-cleanup-runs" content="([0-9A-Za-z_ -]*)">/;

/**
 * The run pages among `names` (the listing of `folder`: `run --html-report`, `report --html`), by the runs each tells: a page names
 * its runs in its head, so a run is linked only to a page that tells it — never to `last-run.html` once a
 * later night has replaced it. Where two pages tell a run, the newer one. Pages made before pages named
 * their runs, and files that only look like pages, link nothing.
 */
export function runPagesAmong(folder: string, names: string[]): Map<string, string> {
  const pages = new Map<string, { path: string; mtimeMs: number }>();
  for (const name of names.filter((entry) => entry.endsWith('.html'))) {
    const path = join(folder, name);
    const head = headOf(path);
    const runs = head && RUNS_META.exec(head.text)?.[1];
    if (!head || !runs) continue;
    for (const runId of runs.split(' ').filter(Boolean)) {
      const known = pages.get(runId);
      if (!known || known.mtimeMs < head.mtimeMs) pages.set(runId, { path, mtimeMs: head.mtimeMs });
    }
  }
  return new Map([...pages].map(([runId, { path }]) => [runId, path]));
}

/** The head of a regular file (common/files' fileEnds: never a FIFO's wait), and when it changed; none for anything else. */
function headOf(path: string): { text: string; mtimeMs: number } | undefined {
  try {
    const { head, stats } = fileEnds(path, HEAD_BYTES, false);
    return { text: head, mtimeMs: stats.mtimeMs };
  } catch {
    return undefined;
  }
}
