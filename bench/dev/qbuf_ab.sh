#!/usr/bin/env bash
# Session 12 (bench/NOTES.md): the persistent kernel with two Q buffers (O staged in the current one)
# against one, at the shapes whose tiles are short, through tile_sweep's interleaved rounds with the
# bench's bursts and a cool-down before each. QBUF_ROUNDS (default 4), QBUF_SHAPES (names below).
set -u
rounds=${QBUF_ROUNDS:-4}
export SWEEP_ITER=30 SWEEP_WARMUP=10 SWEEP_COOLDOWN_MS=${QBUF_COOLDOWN:-300}
for shape in ${QBUF_SHAPES:-1k 1kc 2k 2kc 4kc}; do
  case $shape in
    1k) base='{"batch":64,"seqLen":1024}' ;;
    1kc) base='{"batch":64,"seqLen":1024,"causal":true}' ;;
    2k) base='{"batch":32,"seqLen":2048}' ;;
    2kc) base='{"batch":32,"seqLen":2048,"causal":true}' ;;
    4kc) base='{"batch":16,"seqLen":4096,"causal":true}' ;;
    *) echo "qbuf_ab: unknown shape $shape"; exit 2 ;;
  esac
  echo "== $shape $base"
  SWEEP_BASE=$base node bench/dev/tile_sweep.mjs \
    '[{"schedule":"baseline"},{"schedule":"baseline","qBuffers":1},{"schedule":"secondDot"},{"schedule":"secondDot","qBuffers":1}]' "$rounds"
done
