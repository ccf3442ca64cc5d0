// Development tool (GPU): time kernel knobs on general problems (GQA, Nq != Nkv, masks) through the
// tensor API, the way --preset does (bench/preset_gpu.ts: checked once against the fp32 GPU reference
// on sampled rows, then CUDA-event timed launches), in interleaved rounds with an idle before each
// burst. Session 14: chunked prefill (a 1-2k query chunk over a long K/V) where the default picks
// the kernel by the query length alone.
// usage: node bench/dev/problem_sweep.mjs SHAPES KNOBSETS [ROUNDS=4]
//   SHAPES: [{"batch":8,"headsQ":32,"headsKV":8,"seqQ":2048,"seqK":16384,"headDim":128,"causal":true}, ...]
//   KNOBSETS: [{"schedule":"baseline"}, {"schedule":"secondDot","knobs":{"blockM":192,"scheduler":"grid"}}, ...]
// env: PS_ITER / PS_WARMUP (default 30 / 10, the bench's), PS_COOLDOWN_MS (default 500).
import { preparePreset } from '../../dist/bench/preset_gpu.js';
import { presetFlops } from '../../dist/bench/presets.js';
import { interleavedRounds, pooled } from './rounds.mjs';

const shapes = JSON.parse(process.argv[2]);
const sets = JSON.parse(process.argv[3]);
const rounds = Number(process.argv[4] ?? 4);
const iterations = Number(process.env.PS_ITER ?? 30);
const warmup = Number(process.env.PS_WARMUP ?? 10);
const cooldown = Number(process.env.PS_COOLDOWN_MS ?? 500);

for (const sh of shapes) {
  const shape = { preset: 'dev', dtype: 'f16', window: null, softcap: 0, layout: 'bnhd', ...sh };
  const label = `${shape.batch}x${shape.headsQ}/${shape.headsKV}x${shape.seqQ}/${shape.seqK}x${shape.headDim}${shape.causal ? ' causal' : ''}` +
    `${shape.window ? ` window [${shape.window}]` : ''}${shape.softcap ? ` softcap ${shape.softcap}` : ''}`;
  const runs = [];
  try {
    for (const ks of sets) {
      const config = { ...shape, ...ks };
      const p = await preparePreset(config);
      let ok = false;
      let why = '';
      let err = '';
      try {
        const r = await p.check();
        ok = r.ok;
        why = r.message ?? '';
        err = `relL2 ${r.relL2?.toExponential(2)} max ${r.maxAbs?.toExponential(2)}`;
      } catch (e) {
        why = String(e?.message ?? e).slice(0, 200);
      }
      runs.push({ ks, config, p, ok, why, err, flops: presetFlops(config), samples: [], perRound: [] });
    }
    await interleavedRounds(runs, { rounds, cooldownMs: cooldown, warmup, iterations });
    for (const run of runs) {
      const res = run.ok ? pooled(run) : `FAIL ${run.why}`;
      console.log(`${label}  ${JSON.stringify(run.ks)}  ${res}  (check: ${run.err})`);
    }
  } finally {
    for (const run of runs) run.p.dispose();
  }
}
