#!/usr/bin/env bash
# Development tool (GPU): ncu of stagewise's best 1k configs next to torch cuDNN's kernel.
# usage: bash bench/dev/ncu_1k.sh OUT
set -u
out=${1:?usage: ncu_1k.sh OUT}
mkdir -p "$out"
# NCU_METRICS="a,b,...": those metrics instead of the sections (e.g. DRAM bytes read and written)
secs=(--section SpeedOfLight --section LaunchStats --section Occupancy --section WarpStateStats --section SchedulerStats --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis --section InstructionStats)
[ -n "${NCU_METRICS:-}" ] && secs=(--metrics "$NCU_METRICS")
prof() { # name "ncu filter args" command...
  local name=$1 filter=$2
  shift 2
  # NCU_ONLY="name ...": profile only these
  if [ -n "${NCU_ONLY:-}" ] && [[ " $NCU_ONLY " != *" $name "* ]]; then return 0; fi
  # NCU_EXTRA: more ncu flags, e.g. "--clock-control none" (the card's own clocks, not ncu's base clock)
  timeout -s KILL 150 ncu $filter ${NCU_EXTRA:-} --launch-count 1 "${secs[@]}" --print-details all "$@" > "$out/ncu-$name.txt" 2>&1
  echo "== ncu $name rc $?"; grep -E "Duration|Compute \(SM\) Throughput|Issue Slots Busy|Registers Per|Executed Ipc A" "$out/ncu-$name.txt" | head -8
}
prof sw-1k-static "--kernel-name stagewise_attn_fwd --launch-skip 2" node bench/dev/ncu_target.mjs '{"batch":64,"heads":16,"seqLen":1024,"headDim":128,"causal":false,"schedule":"baseline","scheduler":"static"}'
prof sw-1k-kv1 "--kernel-name stagewise_attn_fwd --launch-skip 2" node bench/dev/ncu_target.mjs '{"batch":64,"heads":16,"seqLen":1024,"headDim":128,"causal":false,"schedule":"baseline","scheduler":"static","kvShare":1}'
prof sw-1k-causal-dynamic "--kernel-name stagewise_attn_fwd --launch-skip 2" node bench/dev/ncu_target.mjs '{"batch":64,"heads":16,"seqLen":1024,"headDim":128,"causal":true,"schedule":"baseline","scheduler":"dynamic"}'
# torch: 3 randn launches, then 5 SDPA calls (the 3rd is profiled)
prof cudnn-1k "--launch-skip 5" python3 bench/dev/ncu_cudnn.py 64 16 1024 128 0
prof cudnn-1k-causal "--launch-skip 5" python3 bench/dev/ncu_cudnn.py 64 16 1024 128 1
