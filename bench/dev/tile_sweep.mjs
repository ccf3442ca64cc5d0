// Development tool (GPU): check and time kernel configs through the library's own path
// (prepareAttention), by default at the headline shape 8x16x8192x128 f16 non-causal. Every config is
// prepared and checked once, then timed in ROUNDS interleaved rounds of a few launches each, so clock
// drift spreads over every config; the reported number pools every sample of a config.
// usage: node bench/dev/tile_sweep.mjs '[{"schedule":"baseline","blockN":144}, ...]' [ROUNDS=3]
// SWEEP_BASE='{"batch":64,"seqLen":1024}' overrides fields of the base shape.
// Any AttentionConfig field may appear in a config (schedule, blockN, pingpong, pShared, headDim, ...).
import { flops, prepareAttention } from '../../dist/api/index.js';
import { planSummary } from '../../dist/codegen/index.js';
import { interleavedRounds, pooled } from './rounds.mjs';

const cfgs = JSON.parse(process.argv[2]);
const rounds = Number(process.argv[3] ?? 3);
// SWEEP_COOLDOWN_MS: idle before every timed burst (the power limiter; bench/NOTES.md session 10).
const cooldown = Number(process.env.SWEEP_COOLDOWN_MS ?? 0);
// SWEEP_ITER / SWEEP_WARMUP: launches per timed burst (default 10 / 3; the bench's are 30 / 10).
const iterations = Number(process.env.SWEEP_ITER ?? 10);
const warmup = Number(process.env.SWEEP_WARMUP ?? 3);
const base = { batch: 8, heads: 16, seqLen: 8192, headDim: 128, dtype: 'f16', causal: false, load: 'tma', ...JSON.parse(process.env.SWEEP_BASE ?? '{}') };

const runs = [];
try {
  for (const c of cfgs) {
    const cfg = { ...base, ...c };
    const p = await prepareAttention(cfg);
    runs.push({ c, cfg, p, ok: (await p.check()).ok, flops: flops(cfg), samples: [], perRound: [] });
  }
  await interleavedRounds(runs, { rounds, cooldownMs: cooldown, warmup, iterations });
  for (const run of runs) {
    const { c, p, ok } = run;
    const k = p.compiled.kernel;
    const tile = `n${k.config.blockN} k${k.plan.pipeline.kBuffers}v${k.plan.pipeline.vBuffers}${k.config.pingpong ? ' pp' : ''}${k.config.warpSpecialized ? ' ws' : ''}${k.config.pShared ? ' ps' : ''}`;
    const result = ok ? pooled(run) : 'FAIL (check)';
    console.log(`${JSON.stringify(c)}  ${tile} [${planSummary(k.plan)}, ${k.sharedMemBytes} B]  ${result}`);
  }
} finally {
  for (const run of runs) run.p.dispose();
}
