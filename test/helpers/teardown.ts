/**
 * What the helpers start on a test's behalf, ended by test/setup.ts whether or not the test ended it: a
 * test that timed out (or forgot) must not leave a run going into the next test, nor hold the Jest worker
 * open. Runs — CLI children, in-process runs, terminal sessions — end after each test; servers — fakes,
 * gateways, proxies — after each file, as a file may share one between its tests.
 */
type Scope = 'test' | 'file';
type End = () => unknown;

const pending: Record<Scope, Set<End>> = { test: new Set(), file: new Set() };

/** Registers `end` to be called at the end of the test or file; returns what unregisters it (once it ended on its own). */
export function endAfter(scope: Scope, end: End): () => void {
  pending[scope].add(end);
  return () => void pending[scope].delete(end);
}

export async function endPending(scope: Scope): Promise<void> {
  const ends = [...pending[scope]];
  pending[scope].clear();
  await Promise.allSettled(ends.map(async (end) => end()));
}
