#!/usr/bin/env bash
# npm run test:container — builds the real Dockerfile with buildah (no Docker engine needed) and runs
# the image: the demo must exit 0 inside it, and a SIGTERM to the container's main process mid-run must
# give exit 143 and an audit log that a resume in the same image finishes.
#
# No image registry is reachable here, so the base image is a stand-in made from the image's own Node.js
# line — the official Node.js 26 binary, from the npm registry (scripts/node-line.sh) — and this machine's
# npm: the node binary with its shared libraries, npm, /bin/sh and the CA bundle
# (NODE_EXTRA_CA_CERTS) so that `npm ci` in the build reaches the npm registry as the host does — and
# nothing else, so the Dockerfile cannot come to rely on tools a minimal Node image lacks. It is tagged and passed as NODE_IMAGE with --pull=never.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$SECONDS
say() { printf '[container test %3ss] %s\n' $((SECONDS - started)) "$*"; }
buildah() { command buildah --storage-driver vfs "$@"; }
export BUILDAH_ISOLATION=chroot

NODE_LINE=26 # the Dockerfile's: keep them together
node_bin=$(bash scripts/node-line.sh "$NODE_LINE")
BASE=localhost/eoc-node-standin:$NODE_LINE
IMAGE=localhost/exsited-order-cleanup:test
work=$(mktemp -d)
containers=()
fake_pid=
cleanup() {
  [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null || true
  for c in "${containers[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

say "making the stand-in base image from $node_bin ($("$node_bin" --version)) and npm $(npm --version)"
root=$work/rootfs
mkdir -p "$root/tmp" "$root/etc/ssl/certs" "$root/home/node" "$root/root"
chmod 1777 "$root/tmp"
with_libs() {
  for file in "$@"; do
    cp -L --parents "$file" "$root"
    ldd "$file" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do cp -L --parents "$lib" "$root"; done
  done
}
mkdir -p "$root/usr/local/bin" "$root/usr/bin"
cp "$node_bin" "$root/usr/local/bin/node"
ldd "$node_bin" | grep -o '/[^ ]*' | while read -r lib; do cp -L --parents "$lib" "$root"; done
with_libs /bin/sh
npm_root=$(npm root -g)/npm
mkdir -p "$root$(dirname "$npm_root")"
cp -a "$npm_root" "$root$(dirname "$npm_root")/"
for tool in npm npx; do # wrappers rather than the usual symlinks, whose `#!/usr/bin/env node` would need env
  printf '#!/bin/sh\nexec node %s "$@"\n' "$npm_root/bin/$tool-cli.js" > "$root/usr/bin/$tool"
  chmod 755 "$root/usr/bin/$tool"
done
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' > "$root/etc/group"
chown 1000:1000 "$root/home/node"
base=$(buildah from scratch)
containers+=("$base")
buildah copy "$base" "$root" / >/dev/null
buildah config --env PATH=/usr/local/bin:/usr/bin:/bin --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
  --env HOME=/root --env npm_config_update_notifier=false --cmd node "$base"
buildah commit --quiet "$base" "$BASE" >/dev/null

say "building the Dockerfile against it"
buildah bud --quiet --pull=never --network host --build-arg NODE_IMAGE="$BASE" -t "$IMAGE" . > "$work/build.out" 2>&1 \
  || { cat "$work/build.out"; echo "the image did not build"; exit 1; }

entrypoint=$(buildah inspect --type image --format '{{.OCIv1.Config.Entrypoint}}' "$IMAGE")
command_=$(buildah inspect --type image --format '{{.OCIv1.Config.Cmd}}' "$IMAGE")
user_=$(buildah inspect --type image --format '{{.OCIv1.Config.User}}' "$IMAGE")
say "image built: entrypoint $entrypoint, command $command_, user $user_"
[ "$entrypoint" = '[node /app/dist/cli.js]' ] || { echo "unexpected entrypoint"; exit 1; }
[ "$command_" = '[run --job /app/jobs/nightly-cleanup.json]' ] || { echo "unexpected default command"; exit 1; }
[ "$user_" = '1000:1000' ] || { echo "the image must not run as root"; exit 1; }

data=$work/data
mkdir -p "$data"
chown 1000:1000 "$data"
ctr=$(buildah from --pull=never "$IMAGE")
containers+=("$ctr")
# (buildah keeps a declared VOLUME to itself, so the host folder is mounted beside it, at /mnt/io)
in_image() { buildah run --network host --user 1000:1000 --workingdir /data -v "$data:/mnt/io" "$@"; }

image_node=$(in_image "$ctr" -- node --version)
say "the image runs Node.js $image_node"
case "$image_node" in v$NODE_LINE.*) ;; *) echo "the image runs Node.js $image_node, not $NODE_LINE"; exit 1 ;; esac

say "the demo inside the image"
in_image "$ctr" -- node /app/dist/cli.js demo > "$work/demo.out" 2>&1 || { cat "$work/demo.out"; echo "the demo failed in the image"; exit 1; }
grep -q 'completed' "$work/demo.out" || { cat "$work/demo.out"; exit 1; }

say "SIGTERM to the container's main process mid-run"
port=$((20000 + RANDOM % 20000))
node dist/cli.js fake-api --port "$port" --orders 400 --seed 3 --latency-ms 40 > "$work/fake.out" 2>&1 &
fake_pid=$!
for _ in $(seq 50); do grep -q 'Fake Exsited API' "$work/fake.out" && break; sleep 0.1; done
node --input-type=module -e "
  import { generateOrders } from './dist/fake-exsited/order-store.js';
  console.log(generateOrders(400, 3).map((o) => o.id).join('\n'));" > "$data/ids.txt"
creds=(-e EXSITED_BASE_URL="http://127.0.0.1:$port" -e EXSITED_CLIENT_ID=demo-client -e EXSITED_CLIENT_SECRET=demo-secret-7f3a9c1e5b
  -e EXSITED_REDIRECT_URI=http://localhost/callback)
set +e
in_image "${creds[@]}" "$ctr" -- node /app/dist/cli.js run --ids /mnt/io/ids.txt --audit-log /mnt/io/term.ndjson --concurrency 2 --yes \
  > "$work/term.out" 2>&1 &
runner=$!
for _ in $(seq 100); do [ -s "$data/term.ndjson" ] && [ "$(grep -c '"event":"order"' "$data/term.ndjson")" -ge 20 ] && break; sleep 0.1; done
main=$(pgrep -f -n 'cli.js run --ids /mnt/io/ids.txt')
signalled=$SECONDS
kill -TERM "$main"
wait "$runner"
code=$?
set -e
cat "$work/term.out" | tail -4
[ "$code" = 143 ] || { echo "expected exit 143 after SIGTERM, got $code"; exit 1; }
say "exit 143 within $((SECONDS - signalled)) s of the signal; run.end: $(tail -1 "$data/term.ndjson" | grep -o '"status":"[a-z]*"')"
grep -q '"status":"interrupted"' "$data/term.ndjson"

say "the resume, in the image"
in_image "${creds[@]}" "$ctr" -- node /app/dist/cli.js run --resume --audit-log /mnt/io/term.ndjson --yes --html-report /mnt/io/term.html > "$work/resume.out" 2>&1 \
  || { cat "$work/resume.out"; echo "the resume failed"; exit 1; }
grep -q '<svg id="chart-throughput"' "$data/term.html" || { cat "$work/resume.out"; echo "the image made no HTML report (its template and style sheet missing?)"; exit 1; }
remaining=$(curl -s "http://127.0.0.1:$port/__fake/state?deleted=false" | grep -o '"remaining":[0-9]*')
[ "$remaining" = '"remaining":0' ] || { echo "orders left on the fake API: $remaining"; exit 1; }
say "passed: the demo ran in the image, SIGTERM gave 143, the resume finished every order and made its HTML report"
