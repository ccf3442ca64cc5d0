// splitTail (plan.ts): the static persistent kernel's partial last round split along the keys, the
// last piece of each split tile merging the others' partial O, m and l (kernels/attention.cuh
// mergeTail). Each case is one whose launch does split (asserted from the launch's own tailShift, so
// no case passes by running whole tiles), checked twice in a row (the arrival counters must be back at
// zero for the second launch) with the bench's check: fresh random inputs, poisoned outputs, every
// element scanned, sampled rows of every head against the GPU fp32 reference; with the hang trap.
// Lengths include partial last KV tiles and KV tile counts that do not divide by the pieces.
import { describe, expect, it } from 'vitest';
import { prepareAttention, type AttentionConfig } from '../../src/api/attention.js';
import { persistentGrid, tailArgs, tileSpace } from '../../src/codegen/index.js';
import { describeGpu } from '../gpu.js';

/** The launch's split as launch_args computes it (tailArgs over the static grid of `ctas`). */
function splitOf(cfg: AttentionConfig): { tailFull: number; tailShift: number; numTiles: number } {
  const kv = (cfg.kvShare ?? 1) as 1 | 2;
  const s = tileSpace({ batch: cfg.batch, headsQ: cfg.heads, headsKV: cfg.heads, headDim: cfg.headDim, seqQ: cfg.seqLen, seqK: cfg.seqLen, blockM: 128, masked: false, l2Bytes: 50 << 20, ctas: cfg.persistentCtas!, kvShare: kv });
  return { ...tailArgs(s, persistentGrid(s.numTiles, cfg.persistentCtas!, kv), Math.ceil(cfg.seqLen / 128), kv, true), numTiles: s.numTiles };
}

const cases: Array<{ name: string; cfg: AttentionConfig }> = [];
for (const schedule of ['baseline', 'secondDot'] as const) {
  for (const [batch, heads, seqLen, headDim, kvShare, ctas] of [
    // Two pieces and four; K/V shared (pairs) and not; 777, 1300, 300, 1000, 2047: partial last KV tiles.
    [1, 3, 1024, 128, 1, 10], [1, 3, 1024, 128, 2, 10], [1, 3, 1024, 128, 1, 20], [1, 3, 1024, 128, 2, 20], [2, 5, 777, 128, 1, 17],
    [2, 5, 777, 128, 2, 6], [1, 7, 1300, 128, 2, 16], [3, 2, 300, 128, 1, 4], [1, 3, 1000, 64, 1, 11], [2, 3, 2047, 64, 1, 5],
  ] as const) {
    cases.push({
      name: `${schedule} ${batch}x${heads}x${seqLen}x${headDim} kvShare ${kvShare} on ${ctas} CTAs`,
      cfg: { batch, heads, seqLen, headDim, dtype: 'bf16', causal: false, schedule, load: 'tma', scheduler: 'static', kvShare, splitTail: true, hangTrap: true, persistentCtas: ctas },
    });
  }
}

describeGpu('splitTail: the last round split along the keys, merged by its last piece', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const p = await prepareAttention(c.cfg);
      try {
        expect(p.compiled.kernel.plan.splitTail).toBe(true);
        expect(p.compiled.kernel.plan.blockN).toBe(128);
        for (let rep = 0; rep < 2; rep++) {
          const r = await p.check();
          expect(r.ok, `${c.name}, launch ${rep + 1}: ${r.message}`).toBe(true);
          expect(r.unwritten, `unwritten/NaN outputs (seed ${r.seed})`).toBe(0);
        }
      } finally {
        p.dispose();
      }
    });
  }
});

describe('splitTail GPU cases on the CPU', () => {
  it('every case splits its last round (no case passes on whole tiles alone)', () => {
    for (const c of cases) {
      const sp = splitOf(c.cfg);
      expect(sp.tailShift, c.name).toBeGreaterThanOrEqual(1);
      expect(sp.tailFull, c.name).toBeLessThan(sp.numTiles);
    }
  });
});
