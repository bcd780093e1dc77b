#!/usr/bin/env bash
# npm test (and test:fast, with TEST_TIER=fast): the build beside the static checks (the layering, knip:
# nothing unused, and the size of functions and files) — one core each — then Jest; arguments go to Jest
# (`npm test -- test/e2e/guards.test.ts`).
set -euo pipefail
cd "$(dirname "$0")/.."
# The checks look at the whole suite, whichever tier runs (knip reads jest.config.js's testMatch).
{ npm run lint:layers --silent && env -u TEST_TIER npm run lint:unused --silent && npm run lint:size --silent; } &
checks=$!
npm run build --silent
wait "$checks"
NODE_OPTIONS=--experimental-vm-modules exec node_modules/.bin/jest "$@"
