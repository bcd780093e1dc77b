#!/usr/bin/env bash
# npm run test:matrix — the fast tier of the suite (jest.config.js: units, in-process compositions, time on
# simulated time, and the main path, signals, kills and resumes through the built CLI) on every supported
# Node.js line besides this machine's: 22 (maintenance), 24 and 26 (LTS), each a pinned official binary from
# the npm registry, cached in .cache/node/. `npm test` runs the whole suite once, on this machine's line. The
# build is made once (only if its inputs changed since the last: scripts/build.mjs --if-stale); jest, the CLI the tests spawn and everything under them run on the line being tested
# (the tests spawn process.execPath). TEST_TIER=all runs the whole suite on each line. Says which line
# failed, and exits 1 if any did.
set -uo pipefail
cd "$(dirname "$0")/.."
lines=${MATRIX_LINES:-"22 24 26"}
node scripts/build.mjs --if-stale || exit 1 # built once: after npm test (CI), nothing is built again
npm run lint:layers --silent || exit 1
failed=()
summary=()
for major in $lines; do
  node_bin=$(bash scripts/node-line.sh "$major") || { failed+=("$major (no binary)"); continue; }
  version=$("$node_bin" --version)
  started=$SECONDS
  echo "=== Node.js $version: the ${TEST_TIER:-fast} tier"
  if PATH="$(dirname "$node_bin"):$PATH" TEST_TIER=${TEST_TIER:-fast} NODE_OPTIONS=--experimental-vm-modules "$node_bin" node_modules/jest/bin/jest.js; then
    summary+=("Node.js $version: passed in $((SECONDS - started)) s")
  else
    summary+=("Node.js $version: FAILED after $((SECONDS - started)) s")
    failed+=("$version")
  fi
done
printf '%s\n' "=== test:matrix" "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "test:matrix failed on Node.js ${failed[*]}"
  exit 1
fi
