#!/usr/bin/env bash
# Session 17: conditional rescaling (lazyRescale) against eager, baseline and secondDot, at each
# shape of issue #12 through tile_sweep (the bench's bursts: 30 launches, 10 warm-up, 300 ms idle),
# LAZY_ROUNDS interleaved rounds: bench/dev/cfg_ab.sh with these configs.
# usage: bash bench/dev/lazy_ab.sh OUT_FILE [shapes as B,H,N,D,causal ...]
set -u
out=$1; shift
shapes=${*:-"64,16,1024,128,0 64,16,1024,128,1 32,16,2048,128,0 32,16,2048,128,1 16,16,4096,128,0 16,16,4096,128,1 8,16,8192,128,0 8,16,8192,128,1 2,16,16384,128,1 8,32,8192,64,0 4,16,8192,256,0 4,16,8192,256,1"}
# shellcheck disable=SC2086 # one argument per shape
AB_CFGS='[{"schedule":"baseline"},{"schedule":"baseline","lazyRescale":true},{"schedule":"secondDot"},{"schedule":"secondDot","lazyRescale":true}]' \
  AB_ROUNDS=${LAZY_ROUNDS:-8} AB_CUDNN=0 bash "$(dirname "$0")/cfg_ab.sh" "$out" $shapes
