// Development tools' shared timing loop: every config's burst in turn, ROUNDS times, so clock drift
// spreads over every config; an idle before each burst (the power limiter; bench/NOTES.md session 10).
import { median, tflops } from '../../dist/bench/stats.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * runs: [{ ok, p: { time({ warmup, iterations }) }, flops, samples: [], perRound: [] }]; a run not ok
 * is skipped. Pools each run's samples and keeps each round's TFLOP/s (median of its burst).
 */
export async function interleavedRounds(runs, { rounds, cooldownMs, warmup, iterations }) {
  for (let r = 0; r < rounds; r++) {
    for (const run of runs) {
      if (!run.ok) continue;
      if (cooldownMs > 0) await sleep(cooldownMs);
      const t = await run.p.time({ warmup, iterations });
      run.samples.push(...t);
      run.perRound.push(tflops(run.flops, median(t)).toFixed(1));
    }
  }
}

/** "X TFLOP/s pooled (rounds a / b / ...)" for a timed run. */
export function pooled(run) {
  return `${tflops(run.flops, median(run.samples)).toFixed(1)} TFLOP/s pooled (rounds ${run.perRound.join(' / ')})`;
}
