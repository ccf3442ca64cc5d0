#!/usr/bin/env bash
# Session 18: any set of configs (AB_CFGS, tile_sweep's format) at several shapes, through tile_sweep
# with the bench's bursts (30 launches, 10 warm-up, SWEEP_COOLDOWN_MS idle, default 300 ms), AB_ROUNDS
# interleaved rounds per shape (default 8); with AB_CUDNN=1, cuDNN's rounds at each shape after ours.
# usage: AB_CFGS='[...]' bash bench/dev/cfg_ab.sh OUT_FILE B,H,N,D,causal [...]
set -u
out=$1; shift
: "${AB_CFGS:?AB_CFGS: a JSON list of tile_sweep configs}"
for s in "$@"; do
  IFS=, read -r b h n d c <<<"$s"
  causal=$([ "$c" = 1 ] && echo true || echo false)
  echo "== ${b}x${h}x${n}x${d}$([ "$c" = 1 ] && echo ' causal')" >>"$out"
  SWEEP_ITER=30 SWEEP_WARMUP=10 SWEEP_COOLDOWN_MS=${SWEEP_COOLDOWN_MS:-300} \
    SWEEP_BASE="{\"batch\":$b,\"heads\":$h,\"seqLen\":$n,\"headDim\":$d,\"causal\":$causal}" \
    node bench/dev/tile_sweep.mjs "$AB_CFGS" "${AB_ROUNDS:-8}" >>"$out" 2>&1
  if [ "${AB_CUDNN:-0}" = 1 ]; then
    COOLDOWN_MS=${SWEEP_COOLDOWN_MS:-300} python3 bench/dev/cudnn_rounds.py "$b" "$h" "$n" "$d" "$c" "${AB_ROUNDS:-8}" >>"$out" 2>&1
  fi
done
