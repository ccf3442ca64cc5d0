#!/usr/bin/env bash
# Session 19: splitTail (the static kernel's last round split along the keys) against the default at
# the 1k-1.5k non-causal hd128 shapes, baseline (K/V shared by default) and with kvShare 1, through
# cfg_ab.sh (the bench's bursts, AB_ROUNDS interleaved rounds, cuDNN beside with AB_CUDNN=1).
# usage: bash bench/dev/split_ab.sh OUT_FILE [shapes as B,H,N,D,causal ...]
set -u
out=$1; shift
shapes=${*:-64,16,1024,128,0 40,16,1536,128,0 48,16,1280,128,0}
AB_CFGS='[{"schedule":"baseline"},{"schedule":"baseline","splitTail":true},{"schedule":"baseline","kvShare":1},{"schedule":"baseline","kvShare":1,"splitTail":true}]' \
  bash "$(dirname "$0")/cfg_ab.sh" "$out" $shapes
