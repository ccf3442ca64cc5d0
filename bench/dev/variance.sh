#!/usr/bin/env bash
# Development tool (GPU): how much one config's median moves between rounds, ours and cuDNN's,
# with the SM clock, power and temperature sampled every 100 ms beside it.
# usage: bash bench/dev/variance.sh OUT [B,H,N,D] [causal 0|1] [rounds]
set -u
out=${1:?usage: variance.sh OUT [B,H,N,D] [causal] [rounds]}
shape=${2:-16,16,4096,128}
causal=${3:-0}
rounds=${4:-6}
mkdir -p "$out"
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu,clocks_event_reasons.active --format=csv -lms 100 > "$out/smi.csv" 2>&1 &
smi=$!
c=no; [ "$causal" = 1 ] && c=yes
for pass in 1 2; do
  node dist/cli/main.js bench --shape "$shape" --schedules baseline,secondDot --loads tma --dtype f16 --causal $c --rounds "$rounds" 2>&1 | grep -E "round|TFLOP" | while read -r l; do echo "$(date +%H:%M:%S) $l"; done
  python3 bench/dev/cudnn_rounds.py ${shape//,/ } "$causal" "$rounds"
done
kill $smi
# clock summary: min / median / max SM clock and power over the whole run
python3 - "$out/smi.csv" <<'PY'
import sys, csv
rows = [r for r in csv.reader(open(sys.argv[1])) if r and r[0][:1].isdigit()]
def col(i, f=float):
    xs = []
    for r in rows:
        try: xs.append(f(r[i].split()[0]))
        except Exception: pass
    return sorted(xs)
for name, i in (("sm MHz", 1), ("power W", 3), ("temp C", 4)):
    xs = col(i)
    if xs: print(f"{name}: min {xs[0]} median {xs[len(xs)//2]} max {xs[-1]} ({len(xs)} samples)")
reasons = {}
for r in rows:
    if len(r) > 5: reasons[r[5].strip()] = reasons.get(r[5].strip(), 0) + 1
print("event reasons:", reasons)
PY
