#!/usr/bin/env bash
# npm test (and test:fast, with TEST_TIER=fast): the build and the layering check side by side — one core
# each — then knip (nothing unused), then Jest; arguments go to Jest (`npm test -- test/e2e/guards.test.ts`).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run lint:layers --silent &
layers=$!
npm run build --silent
wait "$layers"
npm run lint:unused --silent
NODE_OPTIONS=--experimental-vm-modules exec node_modules/.bin/jest "$@"
