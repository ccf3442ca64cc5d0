#!/usr/bin/env bash
# Builds the base side of an on-device A/B (acceptance.sh ab / abllama): the TypeScript of REV,
# its kernels/ and package.json, and this tree's native addon (the addon is unchanged across the
# kernel work; rebuild it at REV by hand if native/ changed) in DIR (default abbase/, untracked).
# Carry its ignored parts to the device: run's carry list gets "DIR/dist" and "DIR/build".
# usage: bash bench/dev/ab_base.sh REV [DIR]
set -euo pipefail
rev=${1:?usage: ab_base.sh REV [DIR]}
dir=${2:-abbase}
root=$(git rev-parse --show-toplevel)
cd "$root"
if ! git diff --quiet "$rev" HEAD -- native binding.gyp CMakeLists.txt 2>/dev/null; then
  echo "ab_base: native/ differs between $rev and HEAD; this tree's addon would not be $rev's" >&2
  exit 1
fi
wt=$(mktemp -d)
trap 'git worktree remove --force "$wt" >/dev/null 2>&1 || true' EXIT
git worktree add --detach "$wt" "$rev" >/dev/null
ln -s "$root/node_modules" "$wt/node_modules"
(cd "$wt" && npx tsc -p tsconfig.json)
rm -rf "$dir"
mkdir -p "$dir/build/Release"
cp -r "$wt/dist" "$dir/dist"
cp -r "$wt/kernels" "$dir/kernels"
cp "$wt/package.json" "$dir/"
cp build/Release/stagewise.node "$dir/build/Release/"
echo "ab_base: $dir holds $rev's dist and kernels; carry \"$dir/dist\" and \"$dir/build\""
