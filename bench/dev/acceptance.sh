#!/usr/bin/env bash
# The GPU checks issue #12 asks for, in the order that fails fastest, each under a hard limit (a
# hung kernel cannot outlive it: `timeout -s KILL` is on node itself). Run inside the device tool:
#   bash .devkit/gpu-run bash bench/dev/acceptance.sh "$OUT" [steps]
# steps (default all): smoke tests ci llama overhead. Logs and JSON go to OUT. Also, not in the
# default: tensor (the tensor-API GPU tests alone), ostore (O's two stores A/B at 1k and 2k),
# otma (the variant matrix's O-by-TMA variants), gpu1 and gpu2 (every GPU test file; gpu1a, gpu1b, gpu1c:
# gpu1 in three device calls), qbuf and qbufab (session 12's Q-buffer variants and A/B), cross and
# crossab (session 13's rotated tile loop: its matrix variants and A/B), ncusrc
# (per-instruction stall samples of the 1k and 8k kernels), peel (peelMasks A/B),
# ncu (profiles of the 1k configs next to cuDNN's), cifast (the gate's run on TMA loads with cuDNN
# as the only peer: what the floor needs, in a fraction of the time), wg3 (the matrix's three-consumer
# variants), m192 (hd64 at 192 query rows against 128; M192_KNOBS, M192_SHAPES, M192_LIMIT), leads
# (session 8's open leads), ab (this tree against a base build: AB_BASE, AB_SHAPES, AB_ROUNDS),
# abllama (the same over llama3-8b), breakpoints (the default kernel around each persistent length),
# variance (one config's spread between rounds, ours and cuDNN's, with clocks), ncu1k (ncu of the
# 1k non-causal kernel and cuDNN's only), kvlong (kvShare 2 at the long non-causal hd128 shapes),
# m192at2k (192 rows at hd128 2k on every scheduler), sweep (any tile_sweep: SWEEP_CFGS, SWEEP_BASE,
# SWEEP_ROUNDS, with cuDNN's rounds when CUDNN_SHAPE is set), problems (knob sets on general problems
# through the tensor API: PS_SHAPES, PS_SETS, PS_ROUNDS); the last four from session 14; otmadefault
# (session 15: the hd128 variants whose O leaves by TMA by default); tanh (session 16: the softcap's tanh forms,
# their GPU test and timings; TANH_SHAPES128, TANH_SHAPES256, TANH_ROUNDS, TANH_FORMS); varlen (session 16: O by TMA for packed
# sequences, its GPU tests and timings; VL_CASES, VL_SETS, VL_ROUNDS); cfgab (session 18: any configs at
# several shapes, bench/dev/cfg_ab.sh; AB_CFGS, AB_SHAPES, AB_ROUNDS, AB_CUDNN), lazytest (the lazyRescale GPU test);
# splittail and splitab (session 19: splitTail's GPU test, and its A/B at 1k-1.5k, bench/dev/split_ab.sh);
# checkgpu (session 20: the check's NaN count and row gather on the GPU, then a file of whole checks).
# The device tool returns at most 8 files from OUT (session 7 lost a step's JSON to that limit), so
# every log and JSON is written to a scratch folder and OUT receives one archive, results.tgz
# (`tar -xzf results.tgz -C DIR` here), updated after each step so a killed call keeps the steps
# that finished; the step tails are printed as they finish.
set -u
dest=${1:?usage: acceptance.sh OUT [steps...]}
shift
steps=${*:-smoke tests ci llama overhead}
mkdir -p "$dest"
out=$(mktemp -d)
archive() { tar -czf "$dest/results.tgz.part" -C "$out" . && mv "$dest/results.tgz.part" "$dest/results.tgz"; }
trap archive EXIT
nvidia-smi --query-gpu=name --format=csv,noheader | tee "$out/card.txt"
git rev-parse --short HEAD 2>/dev/null | tee "$out/commit.txt"
run() { # name limit_s command...
  local name=$1 limit=$2
  shift 2
  echo "== $name (limit ${limit}s)"
  timeout -s KILL "$limit" "$@" > "$out/$name.txt" 2>&1
  local rc=$?
  echo "== $name rc $rc"
  tail -5 "$out/$name.txt"
  archive
  return $rc
}
# The gate steps (ci, cifast): with FLOOR=1 they write the floor under OUT instead of gating.
floor=()
[ -n "${FLOOR:-}" ] && floor=(--update-floor --floor "$out/floor.json")
for step in $steps; do
  case $step in
    smoke) run smoke 120 node bench/dev/smoke_persistent.mjs || exit 1 ;;
    # The default persistent kernels and the persistent variants first, then everything.
    tests) run tests 420 env STAGEWISE_REQUIRE_GPU=1 npx vitest run test/api test/runtime ;;
    # 7 shapes x causal/not with torch cuDNN; with FLOOR=1 it writes the floor to OUT/floor.json
    # (copy it to bench/floor.json and commit it), else it gates against bench/floor.json.
    # Session 19 (H200): with both load kinds (84 configs) and every peer this ran past 560 s in its
    # second round; the preset now times TMA only (42 configs), which is not yet timed here either.
    ci)
      run ci "${CI_FULL_LIMIT:-560}" node dist/cli/main.js bench --preset ci --peers --rounds 3 --json "$out/bench-ci.json" "${floor[@]}" ;;
    llama) run llama "${LLAMA_LIMIT:-300}" node dist/cli/main.js bench --preset llama3-8b --peers --rounds "${LLAMA_ROUNDS:-1}" --json "$out/llama.json" ;;
    overhead) run overhead 120 node bench/dev/overhead.mjs 2000 ;;
    inq) run inq 200 env STAGEWISE_REQUIRE_GPU=1 npx vitest run test/api/attention.gpu.test.ts -t "O by TMA in Q" ;;
    # The default kernel on both sides of every persistent-length breakpoint (written in session 9, not yet run there).
    # How much one config moves between rounds, ours and cuDNN's, with clocks (VAR_SHAPE, VAR_CAUSAL, VAR_ROUNDS).
    variance) run variance "${VAR_LIMIT:-240}" bash bench/dev/variance.sh "$out/variance" "${VAR_SHAPE:-16,16,4096,128}" "${VAR_CAUSAL:-0}" "${VAR_ROUNDS:-6}" ;;
    ncu1k) run ncu1k 300 env NCU_ONLY="sw-1k-static cudnn-1k" bash bench/dev/ncu_1k.sh "$out" ;;
    # Where the 1k kernel's extra DRAM bytes go (session 10: 1.14 against cuDNN's 1.04 TB/s).
    ncubytes) run ncubytes 200 env NCU_ONLY="sw-1k-static cudnn-1k" \
      NCU_METRICS=gpu__time_duration.sum,sm__cycles_elapsed.max,dram__bytes_read.sum,dram__bytes_write.sum,lts__t_sectors_srcunit_tex_op_read.sum,lts__t_sectors_srcunit_tex_op_read_lookup_hit.sum,lts__t_sectors_srcunit_tex_op_write.sum,sm__inst_executed_pipe_lsu.sum,smsp__inst_executed_op_global_ld.sum,smsp__inst_executed_op_global_st.sum,smsp__inst_executed_op_shared_ld.sum,smsp__inst_executed_op_shared_st.sum \
      bash bench/dev/ncu_1k.sh "$out" ;;
    # The same two kernels at the card's own clock: L2 and tensor-pipe load against their peaks.
    ncul2) run ncul2 200 env NCU_ONLY="sw-1k-static cudnn-1k" NCU_EXTRA="--clock-control none" \
      NCU_METRICS=gpu__time_duration.sum,sm__cycles_elapsed.avg.per_second,lts__cycles_elapsed.avg.per_second,lts__t_sectors.avg.pct_of_peak_sustained_elapsed,lts__t_sectors_srcunit_tex.avg.pct_of_peak_sustained_elapsed,lts__d_sectors.avg.pct_of_peak_sustained_elapsed,sm__pipe_tensor_cycles_active.avg.pct_of_peak_sustained_elapsed,dram__throughput.avg.pct_of_peak_sustained_elapsed \
      bash bench/dev/ncu_1k.sh "$out" ;;
    # Session 10's control: the peers in one --serve child or a fresh child per round, with and without
    # --cooldown, at 1k and 2k (where cuDNN's rounds spread most), nvidia-smi sampled beside it.
    peerctl)
      nvidia-smi --query-gpu=timestamp,clocks.sm,power.draw,temperature.gpu,clocks_event_reasons.active --format=csv -lms 100 > "$out/peerctl-smi.csv" 2>&1 &
      smi=$!
      for mode in serve:0 fresh:0 serve:${PEERCTL_COOLDOWN:-500} fresh:${PEERCTL_COOLDOWN:-500}; do
        fresh=0; [ "${mode%%:*}" = fresh ] && fresh=1
        run "peerctl-${mode/:/-}" 150 env STAGEWISE_PEERS_FRESH=$fresh node dist/cli/main.js bench --shape 64,16,1024,128 --shape 32,16,2048,128 --causal both \
          --schedules baseline --loads tma --dtype f16 --peers --peer-list torch-cudnn --rounds 3 --cooldown "${mode#*:}" --json "$out/peerctl-${mode/:/-}.json"
      done
      kill $smi ;;
    # Where a check's seconds go (V8 profile of three 1k checks and three 8k checks).
    checkbench) run checkbench 150 node dist/cli/main.js bench --shape 64,16,1024,128 --schedules baseline --loads tma --dtype f16 --causal both --json "$out/checkbench.json" ;;
    checkprof) run checkprof 150 bash -c "node --cpu-prof --cpu-prof-dir '$out/cpuprof' bench/dev/check_profile.mjs '{\"batch\":64,\"heads\":16,\"seqLen\":1024,\"headDim\":128,\"causal\":false,\"schedule\":\"baseline\"}' 3 && node bench/dev/check_profile.mjs '{\"batch\":8,\"heads\":16,\"seqLen\":8192,\"headDim\":128,\"causal\":false,\"schedule\":\"baseline\"}' 3" ;;
    # Two CTAs sharing K/V (kvShare 2, session 11): its own GPU tests, then its matrix variants.
    kvshare) run kvshare 200 env STAGEWISE_REQUIRE_GPU=1 npx vitest run test/api/kv_share.gpu.test.ts ;;
    # Session 12: the Q-buffer variants of the matrix, then qBuffers 1 against 2 (bench/dev/qbuf_ab.sh).
    qbuf) run qbuf 300 env STAGEWISE_REQUIRE_GPU=1 STAGEWISE_VARIANTS="tiles" npx vitest run test/api/attention.gpu.test.ts ;;
    qbufab) run qbufab "${QBUF_LIMIT:-300}" bash bench/dev/qbuf_ab.sh ;;
    # Session 13: the rotated tile loop's matrix variants, then its A/B (bench/dev/cross_ab.sh).
    cross) run cross 300 env STAGEWISE_REQUIRE_GPU=1 STAGEWISE_VARIANTS="rotated tile loop" npx vitest run test/api/attention.gpu.test.ts ;;
    crossab) run crossab "${CROSS_LIMIT:-300}" bash bench/dev/cross_ab.sh ;;
    ncusrc) run ncusrc 300 bash bench/dev/ncu_source.sh "$out" ;;
    kvmatrix) run kvmatrix 250 env STAGEWISE_REQUIRE_GPU=1 STAGEWISE_VARIANTS="K/V shared" npx vitest run test/api/attention.gpu.test.ts ;;
    breakpoints) run breakpoints 240 env STAGEWISE_REQUIRE_GPU=1 npx vitest run test/api/attention.gpu.test.ts -t "persistent-length breakpoint" ;;
    otma) run otma 240 env STAGEWISE_REQUIRE_GPU=1 npx vitest run test/api/attention.gpu.test.ts -t "O by TMA" ;;
    # The hd128 tma-producer variants whose O store is TMA by default (their labels do not say so),
    # by exact label: with otma and STAGEWISE_VARIANTS="P in shared", every kernel that stages O or
    # P by stmatrix (bench/NOTES.md session 15).
    otmadefault) run otmadefault 240 env STAGEWISE_REQUIRE_GPU=1 \
      STAGEWISE_VARIANTS="=tma-producer, P in registers|=tma-producer, P in registers, ping-pong|=tma-producer, P in registers, ping-pong, static tiles|=tma-producer, P in registers, dynamic tiles|=tma-producer, P in registers, masks peeled|=tma-producer, blockM 192, P in registers, ping-pong" \
      npx vitest run test/api/attention.gpu.test.ts ;;
    # Session 16: the softcap's tanh forms (plan softcapTanh): their GPU test (errors printed per
    # case), then timed through the tensor API at hd128 (O by TMA) and at gemma2's hd256 shape.
    tanh)
      run tanhtest 240 env STAGEWISE_REQUIRE_GPU=1 npx vitest run test/api/attention_tensor.gpu.test.ts -t "softcapTanh"
      grep -o '\[softcapTanh\] [^:]*: relL2 [^,]*, LSE max err [^,]*' "$out/tanhtest.txt" | sed 's/\[softcapTanh\] //'
      t='{"schedule":"@S@","knobs":{"softcapTanh":"@T@"@O@}}'
      sets() { local o=$1 a=() s t2; for s in baseline secondDot; do for t2 in ${TANH_FORMS:-tanhf exp2 approx}; do a+=("$(echo "$t" | sed "s/@S@/$s/;s/@T@/$t2/;s/@O@/$o/")"); done; done; (IFS=,; echo "[${a[*]}]"); }
      s128='[{"batch":32,"headsQ":32,"headsKV":8,"seqQ":1024,"seqK":1024,"headDim":128,"causal":true,"softcap":30},{"batch":64,"headsQ":16,"headsKV":16,"seqQ":1024,"seqK":1024,"headDim":128,"causal":false,"softcap":30},{"batch":4,"headsQ":32,"headsKV":8,"seqQ":4096,"seqK":4096,"headDim":128,"causal":true,"softcap":30}]'
      s256='[{"batch":4,"headsQ":16,"headsKV":8,"seqQ":4096,"seqK":4096,"headDim":256,"causal":true,"window":[4096,0],"softcap":50}]'
      run tanh128 "${TANH_LIMIT:-200}" node bench/dev/problem_sweep.mjs "${TANH_SHAPES128:-$s128}" "$(sets ',"oStore":"tma"')" "${TANH_ROUNDS:-4}"
      run tanh256 "${TANH_LIMIT:-200}" node bench/dev/problem_sweep.mjs "${TANH_SHAPES256:-$s256}" "$(sets '')" "${TANH_ROUNDS:-4}" ;;
    # Session 16: O by TMA for packed sequences (oStore 'tma', OStoreTmaPacked): its GPU tests, then
    # timed against the register store on packed batches (bench/dev/varlen_sweep.mjs; VL_CASES, VL_ROUNDS).
    varlen)
      run varlentest 240 env STAGEWISE_REQUIRE_GPU=1 npx vitest run test/api/attention_tensor.gpu.test.ts -t "attentionVarlen"
      vl='[{"hq":32,"hkv":8,"headDim":128,"causal":true,"lengths":{"count":32,"min":256,"max":2048,"seed":1}},{"hq":32,"hkv":8,"headDim":128,"causal":true,"lengths":{"count":64,"min":128,"max":1024,"seed":2}},{"hq":16,"hkv":16,"headDim":128,"causal":false,"lengths":{"count":32,"min":512,"max":2048,"seed":3}}]'
      vs='[{"schedule":"baseline"},{"schedule":"baseline","knobs":{"oStore":"tma"}},{"schedule":"secondDot"},{"schedule":"secondDot","knobs":{"oStore":"tma"}}]'
      run varlensweep "${VL_LIMIT:-240}" node bench/dev/varlen_sweep.mjs "${VL_CASES:-$vl}" "${VL_SETS:-$vs}" "${VL_ROUNDS:-4}" ;;
    cifast)
      run cifast "${CI_LIMIT:-330}" node dist/cli/main.js bench --preset ci --loads tma --peer-list torch-cudnn --rounds "${CI_ROUNDS:-3}" --json "$out/bench-ci.json" "${floor[@]}" ;;
    # The GPU test files with skips failing, in two halves that each fit a call beside other steps
    # (H100, session 8: gpu1 280 s, attention_tensor alone 189 s). `vitest run` over every file also
    # runs the CPU model checks (minutes of device time for nothing the GPU adds: session 8 lost a
    # 560 s call to that), so the files are named.
    gpu1) run gpu1 "${GPU1_LIMIT:-400}" env STAGEWISE_REQUIRE_GPU=1 npx vitest run test/api/attention.gpu.test.ts test/api/tensor.gpu.test.ts ;;
    # The same in three parts (29 variants outgrew one device call in session 12): the matrix by
    # thirds of the variant list (STAGEWISE_VARIANT_SHARD), the third with tensor.gpu.test.
    # GPU1_SHARD_LIMIT: each third's limit (session 19: gpu1a outran 300 s on an H200 and printed
    # nothing, so the thirds report each test as it finishes).
    gpu1a) run gpu1a "${GPU1_SHARD_LIMIT:-300}" env STAGEWISE_REQUIRE_GPU=1 STAGEWISE_VARIANT_SHARD=0/3 npx vitest run --reporter=verbose test/api/attention.gpu.test.ts ;;
    gpu1b) run gpu1b "${GPU1_SHARD_LIMIT:-300}" env STAGEWISE_REQUIRE_GPU=1 STAGEWISE_VARIANT_SHARD=1/3 npx vitest run --reporter=verbose test/api/attention.gpu.test.ts ;;
    gpu1c) run gpu1c "${GPU1_SHARD_LIMIT:-300}" env STAGEWISE_REQUIRE_GPU=1 STAGEWISE_VARIANT_SHARD=2/3 npx vitest run --reporter=verbose test/api/attention.gpu.test.ts test/api/tensor.gpu.test.ts ;;
    gpu2) run gpu2 "${GPU2_LIMIT:-330}" env STAGEWISE_REQUIRE_GPU=1 npx vitest run test/api/attention_tensor.gpu.test.ts test/api/reference.gpu.test.ts \
      test/runtime/gpu.test.ts test/runtime/async.gpu.test.ts ;;
    suite) echo "acceptance: suite is now gpu1 and gpu2 (the GPU test files; CPU tests run in CI)"; exit 2 ;;
    # Masks peeled or not, causal 1k-4k (bench/NOTES.md session 7).
    peel) run peel 200 env PEELS=0,1 CAUSAL=1 SCHEDULES=baseline,secondDot SCHEDULERS=dynamic,grid \
      node bench/dev/sched_sweep.mjs 3 "$out/peel.json" "64,16,1024,128;32,16,2048,128;16,16,4096,128" ;;
    # KV tile widths beyond the default list (session 7): hd64 at 128/160/176, hd128 one CTA per tile at 128/144.
    blockn)
      run blockn64 150 env BLOCKNS=128,160,176 SCHEDULES=secondDot,baseline SCHEDULERS=default node bench/dev/sched_sweep.mjs 3 "$out/blockn64.json" "8,32,8192,64;16,32,2048,64"
      run blockn128 200 env BLOCKNS=128,144 SCHEDULES=secondDot,baseline SCHEDULERS=default node bench/dev/sched_sweep.mjs 3 "$out/blockn128.json" "16,16,4096,128;8,16,8192,128;2,16,16384,128" ;;
    # Persistent or one CTA per tile at 4k and 8k with the default (TMA) store of O (session 7).
    sched4k) run sched4k 200 env SCHEDULES=secondDot,baseline SCHEDULERS=grid,static,dynamic node bench/dev/sched_sweep.mjs 3 "$out/sched4k.json" "16,16,4096,128;8,16,8192,128" ;;
    # Session 14: K/V shared by two CTAs (static persistent) against the plan's default (one CTA per
    # tile past 2k) at the long non-causal hd128 shapes, where kvShare 2 was only timed once (session 11, H200).
    kvlong) run kvlong "${KVLONG_LIMIT:-240}" env SCHEDULES=baseline,secondDot SCHEDULERS=default,static KNOBS='[{},{"kvShare":2}]' CAUSAL=0 \
      node bench/dev/sched_sweep.mjs "${KVLONG_ROUNDS:-3}" "$out/kvlong.json" "${KVLONG_SHAPES:-16,16,4096,128;8,16,8192,128;2,16,16384,128}" ;;
    # Session 14: 192 query rows (P in shared memory, the long shapes' default) at 2k hd128, never
    # timed there: against the default 128-row static kernel with K/V shared.
    m192at2k) run m192at2k "${M2K_LIMIT:-300}" env SCHEDULES=baseline,secondDot SCHEDULERS=default,static,grid,dynamic KNOBS='[{},{"blockM":192,"pShared":true}]' \
      node bench/dev/sched_sweep.mjs "${M2K_ROUNDS:-3}" "$out/m192at2k.json" "${M2K_SHAPES:-32,16,2048,128}" ;;
    # Any tile_sweep (SWEEP_CFGS, SWEEP_BASE, SWEEP_ROUNDS; the bench's bursts and SWEEP_COOLDOWN_MS), then
    # cuDNN's rounds at the same shape when CUDNN_SHAPE="B H N D causal" is set.
    sweep) run sweep "${SWEEP_LIMIT:-300}" env SWEEP_ITER=30 SWEEP_WARMUP=10 SWEEP_COOLDOWN_MS="${SWEEP_COOLDOWN_MS:-300}" \
      node bench/dev/tile_sweep.mjs "${SWEEP_CFGS:?SWEEP_CFGS}" "${SWEEP_ROUNDS:-4}"
      [ -n "${CUDNN_SHAPE:-}" ] && run cudnn 120 env COOLDOWN_MS="${SWEEP_COOLDOWN_MS:-300}" python3 bench/dev/cudnn_rounds.py $CUDNN_SHAPE "${SWEEP_ROUNDS:-4}" ;;
    # Session 18: AB_CFGS at AB_SHAPES (B,H,N,D,causal ...), AB_ROUNDS interleaved rounds, cuDNN beside with AB_CUDNN=1.
    cfgab) run cfgab "${AB_LIMIT:-300}" bash bench/dev/cfg_ab.sh "$out/cfgab-table.txt" ${AB_SHAPES:?AB_SHAPES} ;;
    # Session 17-18: the conditional-rescaling GPU test (rows whose max jumps past the slack).
    persistdefault) run persistdefault 120 env STAGEWISE_REQUIRE_GPU=1 npx vitest run --reporter=verbose test/api/attention.gpu.test.ts -t "persistent by default" ;;
    # Session 19: splitTail's GPU test (every case splits its last round; twice each) and its A/B.
    # Session 20: the check's GPU passes (NaN count, row gather) against their CPU statement.
    checkprobe) run checkprobe 40 node bench/dev/check_probe.mjs ;;
    checkgpu) run checkgpu "${CHECKGPU_LIMIT:-120}" env STAGEWISE_REQUIRE_GPU=1 npx vitest run --no-file-parallelism --reporter=verbose test/api/check_gpu.gpu.test.ts ;;
    splittail) run splittail "${SPLITTAIL_LIMIT:-240}" env STAGEWISE_REQUIRE_GPU=1 npx vitest run --reporter=verbose test/api/split_tail.gpu.test.ts ;;
    splitab) run splitab "${AB_LIMIT:-300}" bash bench/dev/split_ab.sh "$out/splitab-table.txt" ${AB_SHAPES:-} ;;
    lazytest) run lazytest 240 env STAGEWISE_REQUIRE_GPU=1 npx vitest run test/api/attention_tensor.gpu.test.ts -t "lazyRescale" ;;
    # Knob sets on general problems through the tensor API (bench/dev/problem_sweep.mjs): PS_SHAPES, PS_SETS, PS_ROUNDS.
    problems) run problems "${PS_LIMIT:-300}" node bench/dev/problem_sweep.mjs "${PS_SHAPES:?PS_SHAPES}" "${PS_SETS:?PS_SETS}" "${PS_ROUNDS:-4}" ;;
    ncu) run ncu 560 bash bench/dev/ncu_1k.sh "$out" ;;
    tensor) run tensor 240 env STAGEWISE_REQUIRE_GPU=1 npx vitest run test/api/attention_tensor.gpu.test.ts ;;
    ostore) run ostore "${OSTORE_LIMIT:-300}" env OSTORES=registers,tma SCHEDULES=secondDot,baseline SCHEDULERS="${OSTORE_SCHEDULERS:-static,dynamic,grid}" \
      node bench/dev/sched_sweep.mjs 3 "$out/ostore.json" "${OSTORE_SHAPES:-64,16,1024,128}" ;;
    # Three consumer warpgroups (blockM 192): the variant matrix's cases, then hd64 against 128 rows.
    wg3) run wg3 300 env STAGEWISE_REQUIRE_GPU=1 npx vitest run test/api/attention.gpu.test.ts -t "blockM 192" ;;
    m192)
      # 128 rows spelled out: past 2048 tokens the default is 192 itself (session 8).
      knobs='[{"blockM":128},{"blockM":192},{"blockM":192,"pShared":true},{"blockM":192,"pingpong":false}]'
      run m192 "${M192_LIMIT:-300}" env KNOBS="${M192_KNOBS:-$knobs}" \
      SCHEDULES=secondDot,baseline SCHEDULERS=default node bench/dev/sched_sweep.mjs 3 "$out/m192.json" "${M192_SHAPES:-8,32,8192,64;16,32,4096,64;32,32,2048,64}" ;;
    # Session 8's open leads (bench/NOTES.md): 192 rows in the persistent kernel at hd64 1k and 2k,
    # and causal 4k at hd128 with 192 rows on one CTA per tile against the dynamic scheduler.
    leads)
      run leads64 200 env KNOBS='[{"blockM":128},{"blockM":192},{"blockM":192,"pShared":true}]' SCHEDULES=secondDot,baseline SCHEDULERS=default \
        node bench/dev/sched_sweep.mjs 3 "$out/leads64.json" "64,32,1024,64;32,32,2048,64"
      run leads4k 200 env KNOBS='[{"blockM":128},{"blockM":192}]' SCHEDULES=secondDot,baseline SCHEDULERS=grid,dynamic CAUSAL=1 \
        node bench/dev/sched_sweep.mjs 3 "$out/leads4k.json" "16,16,4096,128" ;;
    # A/B of this tree against a base build in AB_BASE (dist, kernels, build/Release, package.json of
    # the base commit, made by `bash bench/dev/ab_base.sh REV`; carry its ignored dist and build;
    # AB_C=DIR adds a third build, side c, to every pass),
    # interleaved passes (bench/dev/ab.sh), at the
    # shapes AB_SHAPES (default: the persistent lengths 1k and 2k), both masks, TMA loads.
    ab)
      shapes=()
      for s in ${AB_SHAPES:-64,16,1024,128 32,16,2048,128}; do shapes+=(--shape "$s"); done
      run ab "${AB_LIMIT:-300}" bash bench/dev/ab.sh "${AB_BASE:-abbase}" . "$out/ab" "${AB_ROUNDS:-3}" -- "${shapes[@]}" --dtype f16 --loads tma \
        --schedules "${AB_SCHEDULES:-baseline,secondDot}" --causal "${AB_CAUSAL:-both}"
      node bench/dev/ab_summary.mjs "$out/ab" > "$out/ab-summary.txt" 2>&1; cat "$out/ab-summary.txt"; archive ;;
    # The same A/B over the llama3-8b preset (tensor API, GQA, [B, N, H, D], causal), or AB_PRESET's.
    abllama)
      run abllama "${AB_LIMIT:-300}" bash bench/dev/ab.sh "${AB_BASE:-abbase}" . "$out/abllama" "${AB_ROUNDS:-3}" -- --preset "${AB_PRESET:-llama3-8b}" \
        --schedules "${AB_SCHEDULES:-baseline,secondDot}"
      node bench/dev/ab_summary.mjs "$out/abllama" > "$out/abllama-summary.txt" 2>&1; cat "$out/abllama-summary.txt"; archive ;;
    *) echo "acceptance: unknown step $step"; exit 2 ;;
  esac
done
