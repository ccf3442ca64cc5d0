#!/usr/bin/env bash
# Development tool (GPU): where the 1k kernels' warps stall, per SASS instruction (ncu's warp-state
# sampling), for the per-tile overhead question (bench/NOTES.md session 12). Writes OUT/src-NAME.csv
# (ncu --page source: one row per instruction with its stall samples) and OUT/src-NAME.txt.
# usage: bash bench/dev/ncu_source.sh OUT
set -u
out=${1:?usage: ncu_source.sh OUT}
mkdir -p "$out"
prof() { # name config-json
  local name=$1 cfg=$2
  if [ -n "${NCU_ONLY:-}" ] && [[ " $NCU_ONLY " != *" $name "* ]]; then return 0; fi
  timeout -s KILL 150 ncu --kernel-name stagewise_attn_fwd --launch-skip 2 --launch-count 1 \
    --section SourceCounters --section WarpStateStats --warp-sampling-interval 0 --import-source no \
    -o "$out/src-$name" -f node bench/dev/ncu_target.mjs "$cfg" > "$out/src-$name.txt" 2>&1
  echo "== ncu source $name rc $?"
  ncu --import "$out/src-$name.ncu-rep" --page source --csv --print-source sass > "$out/src-$name.csv" 2>>"$out/src-$name.txt"
  ncu --import "$out/src-$name.ncu-rep" --page details --section WarpStateStats >> "$out/src-$name.txt" 2>&1
  rm -f "$out/src-$name.ncu-rep"
  wc -l "$out/src-$name.csv"
}
prof sw-1k "{\"batch\":64,\"heads\":16,\"seqLen\":1024,\"headDim\":128,\"causal\":false,\"schedule\":\"baseline\"}"
# Session 13: the rotated tile loop (crossTile) at 1k, against sw-1k.
prof sw-1k-x "{\"batch\":64,\"heads\":16,\"seqLen\":1024,\"headDim\":128,\"causal\":false,\"schedule\":\"baseline\",\"qBuffers\":2,\"crossTile\":true}"
prof sw-1k-q2 "{\"batch\":64,\"heads\":16,\"seqLen\":1024,\"headDim\":128,\"causal\":false,\"schedule\":\"baseline\",\"qBuffers\":2}"
prof sw-1k-causal "{\"batch\":64,\"heads\":16,\"seqLen\":1024,\"headDim\":128,\"causal\":true,\"schedule\":\"baseline\"}"
prof sw-8k "{\"batch\":8,\"heads\":16,\"seqLen\":8192,\"headDim\":128,\"causal\":false,\"schedule\":\"baseline\",\"scheduler\":\"static\"}"
