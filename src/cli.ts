#!/usr/bin/env node
import { main } from './program.js';

// The process's glue: its own streams and environment in, its exit code out.
process.exit(await main(process.argv.slice(2), { env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }));
