#!/usr/bin/env bash
# A/B of two builds of stagewise on one machine, interleaved: pass r runs build A then build B over
# the same config list, ROUNDS times, so clock and temperature drift fall on both alike. Each pass
# writes its JSON; bench/dev/ab_summary.mjs pools them per build and config. With AB_C=DIR_C a third
# build runs after B in every pass (side c).
# usage: [AB_C=DIR_C] bench/dev/ab.sh DIR_A DIR_B OUT ROUNDS -- <stagewise bench flags>
set -euo pipefail
a=$1 b=$2 out=$3 rounds=$4
shift 4
[ "${1:-}" = "--" ] && shift
mkdir -p "$out"
for r in $(seq 1 "$rounds"); do
  for side in a b ${AB_C:+c}; do
    dir=$a; [ "$side" = b ] && dir=$b; [ "$side" = c ] && dir=$AB_C
    (cd "$dir" && node dist/cli/main.js bench "$@" --json "$out/$side-$r.json" > "$out/$side-$r.txt" 2>&1) || echo "ab: $side pass $r exited $?"
    echo "ab: $side pass $r done"
  done
done
