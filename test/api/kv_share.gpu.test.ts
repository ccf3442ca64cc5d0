// kvShare 2 (work in progress, session 10; never run on a GPU when written): two CTAs of a
// cluster share each K/V tile by TMA multicast. Correctness first: the bench's check (fresh random
// inputs, poisoned outputs, every element scanned, sampled rows against the GPU fp32 reference)
// at lengths whose query blocks pair up, on many and on few CTAs, with the hang trap on.
import { describe, expect, it } from 'vitest';
import { prepareAttention, type AttentionConfig } from '../../src/api/attention.js';
import { describeGpu } from '../gpu.js';

const cases: Array<{ name: string; cfg: AttentionConfig }> = [];
for (const schedule of ['baseline', 'secondDot'] as const) {
  for (const [batch, heads, seqLen] of [[2, 3, 256], [1, 4, 1024], [2, 2, 2048], [1, 2, 4096 + 256]] as const) {
    for (const ctas of [undefined, 2, 4]) {
      cases.push({
        name: `${schedule} ${batch}x${heads}x${seqLen}x128${ctas ? ` on ${ctas} CTAs` : ''}`,
        cfg: { batch, heads, seqLen, headDim: 128, dtype: 'f16', causal: false, schedule, load: 'tma', scheduler: 'static', kvShare: 2, hangTrap: true, ...(ctas ? { persistentCtas: ctas } : {}) },
      });
    }
  }
}

describeGpu('kvShare 2: two CTAs of a cluster share each K/V tile (multicast)', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const p = await prepareAttention(c.cfg);
      try {
        const r = await p.check();
        expect(r.ok, r.message).toBe(true);
        expect(r.unwritten).toBe(0);
      } finally {
        p.dispose();
      }
    });
  }

  it('an odd number of query blocks per head is refused before any launch, naming the rule', async () => {
    const p = await prepareAttention({ batch: 1, heads: 2, seqLen: 3 * 128, headDim: 128, dtype: 'f16', causal: false, schedule: 'baseline', load: 'tma', scheduler: 'static', kvShare: 2 });
    try {
      await expect(p.check()).rejects.toThrow(/kvShare 2 needs an even number of query blocks per head; seqQ 384 makes 3 of 128 rows/);
    } finally {
      p.dispose();
    }
  });
});

describe('kvShare 2 on the CPU', () => {
  it('is a plan field only where both CTAs visit the same K/V tiles', async () => {
    const { choose } = await import('../../src/codegen/index.js');
    const { NAMED } = await import('../../src/schedule/index.js');
    const ok = choose(NAMED.baseline, { headDim: 128, seqQ: 1024 }, { scheduler: 'static', kvShare: 2 });
    expect(ok.kvShare).toBe(2);
    expect(choose(NAMED.baseline, { headDim: 128, seqQ: 1024 }).kvShare).toBe(1);
    for (const [problem, knobs] of [
      [{ headDim: 128, causal: true }, { scheduler: 'static' }],
      [{ headDim: 128, window: true }, { scheduler: 'static' }],
      [{ headDim: 128, varlen: true }, { scheduler: 'static' }],
      [{ headDim: 128 }, { scheduler: 'grid' }],
      [{ headDim: 128 }, { scheduler: 'dynamic' }],
      [{ headDim: 128 }, { scheduler: 'static', load: 'cp.async' }],
    ] as const) {
      expect(() => choose(NAMED.baseline, problem, { ...knobs, kvShare: 2 }), JSON.stringify([problem, knobs])).toThrow(/kvShare 2 needs scheduler 'static'/);
    }
    expect(() => choose(NAMED.baseline, { headDim: 128 }, { scheduler: 'static', kvShare: 3 as never })).toThrow(/kvShare must be 1 or 2, got 3/);
  });

  it('the two-CTA deadlock model: every schedule runs through with shared empty barriers; with local ones a producer overwrites its peer\'s slot (negative control)', async () => {
    const { choose, deadlockModel, persistentTrips } = await import('../../src/codegen/index.js');
    const { NAMED } = await import('../../src/schedule/index.js');
    for (const name of ['baseline', 'firstDot', 'secondDot'] as const) {
      const plan = choose(NAMED[name], { headDim: 128, seqQ: 1024 }, { scheduler: 'static', kvShare: 2 });
      for (const seq of persistentTrips([1, 2, 3, 4, 5, 8])) expect(deadlockModel(plan, seq), `${name} ${seq}`).toEqual([]);
      expect(deadlockModel(plan, [4, 4], { sharedEmpty: false }).join('\n'), name).toMatch(/hazard with kvShare 2: CTA \d writes its half of [KV]\(\d+\) into CTA \d's slot/);
      expect(deadlockModel(plan, [3, 3], { releaseLastV: false }).join('\n'), name).toMatch(/deadlock at tiles T = 3, 3 .*CTA 0 warpgroup 0/);
    }
  });

  it('pairs tiles 2p and 2p + 1 on one head and adjacent query blocks, every tile once (decodePairTile mirror)', () => {
    // kernels/tiles.cuh decodePairTile, in TS: pair p decoded as a tile of half as many query blocks.
    const decode = (numTiles: number, batchHeads: number, qBlocks: number, headGroup: number, t: number) => {
      const sectionTiles = headGroup * qBlocks;
      const section = Math.floor(t / sectionTiles), r = t - section * sectionTiles;
      const heads = Math.min(headGroup, batchHeads - section * headGroup);
      const i = Math.floor(r / heads);
      return { bh: section * headGroup + (r - i * heads), qBlock: i };
    };
    for (const [batchHeads, qBlocks, headGroup] of [[6, 8, 4], [5, 2, 2], [3, 16, 3], [7, 4, 8]] as const) {
      const numTiles = batchHeads * qBlocks;
      const seen = new Set<string>();
      for (let t = 0; t < numTiles; t++) {
        const p = decode(numTiles / 2, batchHeads, qBlocks / 2, headGroup, t >> 1);
        const tile = { bh: p.bh, qBlock: 2 * p.qBlock + (t & 1) };
        seen.add(`${tile.bh}/${tile.qBlock}`);
        if (t & 1) {
          const q = decode(numTiles / 2, batchHeads, qBlocks / 2, headGroup, (t - 1) >> 1);
          expect(q.bh).toBe(tile.bh); // the pair's other half: same head, so the same K/V
        }
      }
      expect(seen.size).toBe(numTiles);
    }
  });
});
