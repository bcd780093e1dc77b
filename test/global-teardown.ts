import { rmSync } from 'node:fs';
import { dirname } from 'node:path';

/** Removes the copy of the CLI that test/global-setup.ts made for nobody (Jest loads this with Node's resolver: no test module imported). */
export default function globalTeardown(): void {
  const cli = process.env.EOC_TEST_NOBODY_CLI;
  if (cli) rmSync(dirname(dirname(cli)), { recursive: true, force: true });
}
