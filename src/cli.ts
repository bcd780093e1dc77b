#!/usr/bin/env node
import { basename, relative } from 'node:path';
import { shellQuote } from './common/text.js';
import { main } from './program.js';

/** How the person started this tool, for the commands it prints: npx, the installed command, or node and a path. */
function invocation(): string {
  if (process.env.npm_command === 'exec') return 'npx exsited-order-cleanup';
  const script = process.argv[1] ?? '';
  if (basename(script) === 'exsited-order-cleanup') return 'exsited-order-cleanup';
  return `node ${shellQuote(relative(process.cwd(), script) || script)}`;
}

// The process's glue: its own streams and environment in, its exit code out.
process.exit(await main(process.argv.slice(2), {
  command: invocation(), env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr,
}));
