#!/usr/bin/env bash
# Session 13 (bench/NOTES.md): the rotated tile loop (crossTile: each tile's first QK^T issued before
# the previous tile's epilogue ends) against the default persistent kernel, at the non-causal shapes
# whose tiles are short, through tile_sweep's interleaved rounds with the bench's bursts and a
# cool-down before each. Controls: two Q buffers without the rotation (the cost crossTile must win
# back), and K/V not shared (the default at 1k shares it between two CTAs). CROSS_ROUNDS (default 4),
# CROSS_SHAPES (names below).
set -u
rounds=${CROSS_ROUNDS:-4}
export SWEEP_ITER=30 SWEEP_WARMUP=10 SWEEP_COOLDOWN_MS=${CROSS_COOLDOWN:-300}
for shape in ${CROSS_SHAPES:-1k 2k}; do
  case $shape in
    1k) base='{"batch":64,"seqLen":1024}' ;;
    2k) base='{"batch":32,"seqLen":2048}' ;;
    1k64) base='{"batch":128,"seqLen":1024,"headDim":64}' ;;
    *) echo "cross_ab: unknown shape $shape"; exit 2 ;;
  esac
  echo "== $shape $base"
  SWEEP_BASE=$base node bench/dev/tile_sweep.mjs '[
    {"schedule":"baseline"},
    {"schedule":"baseline","qBuffers":2,"crossTile":true},
    {"schedule":"baseline","qBuffers":2},
    {"schedule":"baseline","kvShare":1},
    {"schedule":"baseline","qBuffers":2,"crossTile":true,"kvShare":1},
    {"schedule":"secondDot"}]' "$rounds"
done
