#!/usr/bin/env bash
# Session 17: conditional rescaling (lazyRescale) against eager, baseline and secondDot, at each
# shape of issue #12 through tile_sweep (the bench's bursts: 30 launches, 10 warm-up, 300 ms idle),
# LAZY_ROUNDS interleaved rounds. usage: bash bench/dev/lazy_ab.sh OUT_FILE [shapes as B,H,N,D,causal ...]
set -u
out=$1; shift
shapes=${*:-"64,16,1024,128,0 64,16,1024,128,1 32,16,2048,128,0 32,16,2048,128,1 16,16,4096,128,0 16,16,4096,128,1 8,16,8192,128,0 8,16,8192,128,1 2,16,16384,128,1 8,32,8192,64,0 4,16,8192,256,0 4,16,8192,256,1"}
cfgs='[{"schedule":"baseline"},{"schedule":"baseline","lazyRescale":true},{"schedule":"secondDot"},{"schedule":"secondDot","lazyRescale":true}]'
for s in $shapes; do
  IFS=, read -r b h n d c <<<"$s"
  causal=$([ "$c" = 1 ] && echo true || echo false)
  echo "== ${b}x${h}x${n}x${d}$([ "$c" = 1 ] && echo ' causal')" >>"$out"
  SWEEP_ITER=30 SWEEP_WARMUP=10 SWEEP_COOLDOWN_MS=${SWEEP_COOLDOWN_MS:-300} \
    SWEEP_BASE="{\"batch\":$b,\"heads\":$h,\"seqLen\":$n,\"headDim\":$d,\"causal\":$causal}" \
    node bench/dev/tile_sweep.mjs "$cfgs" "${LAZY_ROUNDS:-8}" >>"$out" 2>&1
done
