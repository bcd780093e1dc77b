#!/usr/bin/env node
import { basename, relative } from 'node:path';
import { shellQuote } from './common/text.js';
import { closeSync, openSync } from 'node:fs';
import { isatty } from 'node:tty';
import { main } from './program.js';

/** How the person started this tool, for the commands it prints: npx, the installed command, or node and a path. */
function invocation(): string {
  if (process.env.npm_command === 'exec') return 'npx exsited-order-cleanup';
  const script = process.argv[1] ?? '';
  if (basename(script) === 'exsited-order-cleanup') return 'exsited-order-cleanup';
  return `node ${shellQuote(relative(process.cwd(), script) || script)}`;
}

// The descriptors that are terminals as the process starts: Node restores their settings as it exits. One that
// hung up meanwhile (closed, an SSH session lost) is no longer a terminal: on any way out, it is given /dev/null
// in its place (closed, then opened again: the same number), which Node's exit passes over as a file the program
// reopened. Restoring the settings of a terminal that is gone, Node 20 aborted with a native stack trace and
// exit 134 in place of the run's own code (red team).
const terminals = [0, 1, 2].filter((fd) => isatty(fd));
process.on('exit', () => {
  for (const fd of terminals.filter((terminal) => !isatty(terminal))) {
    closeSync(fd);
    openSync('/dev/null', fd === 0 ? 'r' : 'w');
  }
});

// A reader that goes away (`run --help | head`, a closed terminal) ends what is written there, never the
// process: a run goes on and records its end; no stack trace of an unhandled EPIPE reaches anyone.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

// The process's glue: its own streams and environment in, its exit code out.
const code = await main(process.argv.slice(2), {
  command: invocation(), env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr,
});
// A pipe takes what is written as its reader reads it: exit once stdout and stderr handed everything over (a
// `report --json | jq` of megabytes was cut at 64 KiB), or after 30 s of a reader that takes nothing.
const flushed = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write('', () => resolve()));
await Promise.race([Promise.all([flushed(process.stdout), flushed(process.stderr)]), new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
process.exit(code);
