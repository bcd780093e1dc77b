import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, linkSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The uid and gid of `nobody`: what a test runs as to meet permission errors (root meets none). */
export const NOBODY = { uid: 65534, gid: 65534 };

/** The copy of the Node.js binary and built CLI that nobody can reach; undefined when none was made (not root, or nobody reaches this checkout). */
export function nobodysCli(): { node: string; cli: string } | undefined {
  const { EOC_TEST_NOBODY_NODE: node, EOC_TEST_NOBODY_CLI: cli } = process.env;
  return node && cli ? { node, cli } : undefined;
}

/**
 * Some tests run the built CLI as `nobody`, to meet permission errors (root meets none). A checkout inside
 * a folder only its owner may enter (`git clone … "$(mktemp -d)/p"`) is out of nobody's reach, and so is
 * a Node.js binary kept there (test:matrix's .cache/node): those tests failed for where the checkout lives.
 * When nobody cannot run this checkout's CLI, a copy is made once per Jest run in a world-readable
 * temporary folder: the built JavaScript, the package's data and its production dependencies, and the
 * Node.js binary when nobody cannot run the one under test. test/helpers/cli.ts finds it through the
 * environment (nobodysCli); test/global-teardown.ts removes it. (Jest loads this file with Node's own
 * resolver: it imports no test module.)
 */
export default function globalSetup(): void {
  if (process.getuid?.() !== 0) return; // only root can start a process as another user
  const cli = join(ROOT, 'dist', 'cli.js');
  if (canRead(process.execPath, cli)) return;
  const copy = mkdtempSync(join(tmpdir(), 'eoc-cli-for-nobody-'));
  chmodSync(copy, 0o755);
  for (const path of ['package.json', 'dist', 'fixtures', 'jobs', ...productionPackages()]) cpSync(join(ROOT, path), join(copy, path), { recursive: true });
  process.env.EOC_TEST_NOBODY_CLI = join(copy, 'dist', 'cli.js');
  process.env.EOC_TEST_NOBODY_NODE = canRead(process.execPath, copy) ? process.execPath : linkedNode(copy);
}

/** Whether nobody can start `node` and read `path` with it. */
const canRead = (node: string, path: string) =>
  spawnSync(node, ['-e', `require('node:fs').accessSync(${JSON.stringify(path)}, require('node:fs').constants.R_OK)`], NOBODY).status === 0;

/** The top-level folders of the lock file's production packages (their own dependencies nest inside). */
function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith('node_modules/') && !path.includes('/node_modules/', 'node_modules/'.length) && !entry.dev)
    .map(([path]) => path);
}

/** This Node.js binary in `folder`: a link to it where the file system allows, else a copy. */
function linkedNode(folder: string): string {
  const node = join(folder, 'bin', 'node');
  mkdirSync(dirname(node));
  try {
    linkSync(process.execPath, node);
  } catch {
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
  }
  return node;
}
