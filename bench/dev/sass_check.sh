#!/usr/bin/env bash
# SASS check of the default hd128 and hd256 kernels (run on the GPU machine, which has cuobjdump):
# HGMMA for both matmuls, UTMALDG for TMA loads, and no local-memory traffic (LDL/STL).
# usage: bash bench/dev/sass_check.sh DIR   (DIR from bench/dev/dump_cubins.mjs)
set -euo pipefail
for f in "$1"/*.cubin; do
  sass=$(cuobjdump --dump-sass "$f")
  printf '%-40s HGMMA %3d (tnspB %2d)  UTMALDG %2d  LDGSTS %3d  LDL/STL %d  DEPBAR %3d\n' "$(basename "$f" .cubin)" \
    "$(grep -c 'HGMMA' <<<"$sass")" "$(grep -c 'HGMMA.*tnspB' <<<"$sass")" "$(grep -c 'UTMALDG' <<<"$sass")" \
    "$(grep -c 'LDGSTS' <<<"$sass")" "$(grep -cE '\bLDL\b|\bSTL\b' <<<"$sass")" "$(grep -c 'WARPGROUP.DEPBAR' <<<"$sass")"
done
