#!/usr/bin/env bash
# npm run test:package — the tool as users install it: `npm pack`, then the tarball installed into empty
# folders, globally (npm install -g --prefix) and as a project's dependency, and run from there: the demo,
# and a real run against the fake API that the installed package serves. Also checks what the package
# holds: the built code, the README, the demo's fixtures and the shipped jobs; no tests, sources, bench or
# source maps.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
say() { printf '[package test %3ss] %s\n' $((SECONDS - started)) "$*"; }
work=$(mktemp -d)
fake_pid=
cleanup() {
  # The fake runs in a session of its own: npx's node child goes with it (killing npx alone left it running).
  [ -n "$fake_pid" ] && kill -- "-$fake_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
quiet=(--no-audit --no-fund --loglevel=error)

tgz=$(npm pack --silent --pack-destination "$work" | tail -1)
say "packed $tgz ($(du -h "$work/$tgz" | cut -f1))"
tar tzf "$work/$tgz" | sed 's|^package/||' | sort > "$work/contents"
for wanted in package.json README.md dist/cli.js dist/program.js dist/report/html/template.html dist/report/html/style.css fixtures/demo-orders.csv jobs/nightly-cleanup.json; do
  grep -qx "$wanted" "$work/contents" || { echo "the package lacks $wanted"; exit 1; }
done
if grep -E '^(test|bench|src|scripts|\.ci|\.cache|node_modules)/|\.map$|\.ts$' "$work/contents"; then
  echo "the package holds files it should not (above)"; exit 1
fi
say "contents: $(wc -l < "$work/contents") files: $(cut -d/ -f1 "$work/contents" | sort | uniq -c | awk '{printf "%s %s, ", $2, $1}')"

say "installing it globally into an empty prefix"
npm install -g --prefix "$work/global" "${quiet[@]}" "$work/$tgz"
mkdir "$work/g" && cd "$work/g"
"$work/global/bin/exsited-order-cleanup" --version
"$work/global/bin/exsited-order-cleanup" demo > demo.out 2>&1 || { cat demo.out; echo "the demo failed, installed globally"; exit 1; }
grep -q '<svg id="chart-throughput"' runs/demo-report.html || { echo "the demo's HTML report is missing or has no chart, installed globally"; exit 1; }
say "the demo ran from the global install, and wrote its HTML report"

say "installing it as a project's dependency"
mkdir "$work/project" && cd "$work/project"
npm init -y >/dev/null
npm install "${quiet[@]}" "$work/$tgz"
npx --no-install exsited-order-cleanup demo > demo.out 2>&1 || { cat demo.out; echo "the demo failed, installed in a project"; exit 1; }
say "the demo ran from the project"

setsid npx --no-install exsited-order-cleanup fake-api --port 0 --orders 60 --write-ids ids.csv > fake.out 2>&1 &
fake_pid=$!
for _ in $(seq 50); do grep -q '^  export ' fake.out 2>/dev/null && break; sleep 0.2; done
exports=$(grep '^  export ' fake.out) || { cat fake.out; echo "the fake API did not start"; exit 1; }
eval "$exports"
npx --no-install exsited-order-cleanup run --ids ids.csv --yes --audit-log run.ndjson > run.out 2>&1 || { cat run.out; echo "the real run failed"; exit 1; }
deleted=$(grep -c '"outcome":"deleted"' run.ndjson)
[ "$deleted" = 60 ] || { echo "the real run deleted $deleted orders, not 60"; exit 1; }
say "a real run from the project deleted 60 of 60 orders on the fake API it served"
npx --no-install exsited-order-cleanup report run.ndjson --html page.html --timeline timeline.csv > report.out 2>&1 || { cat report.out; echo "report --html failed"; exit 1; }
grep -q 'data-total="deleted">60<' page.html || { echo "the HTML report does not say 60 deleted"; exit 1; }
say "report --html and --timeline from the project"
