// Numerics on the GPU: every named schedule, both load kinds, head dims 64/128/256, causal and
// not, f16 and bf16, against the fp32 reference on fresh random inputs with poisoned outputs.
// Sequence lengths cover T < stages (64), a non-multiple of every tile (300) and several tiles.
import { afterAll, describe, expect, it } from 'vitest';
import { attention, prepareAttention, REL_L2_TOLERANCE, type AttentionConfig } from '../../src/api/index.js';
import { generate } from '../../src/codegen/index.js';
import { DeviceBuffer } from '../../src/runtime/index.js';
import { enumerate, type Schedule } from '../../src/schedule/index.js';
import { describeGpu } from '../gpu.js';

const SCHEDULES = ['baseline', 'firstDot', 'secondDot'] as const;
const LOADS = ['tma', 'cp.async'] as const;
const HEAD_DIMS = [64, 128, 256] as const;
const SEQ_LENS = [64, 300, 512];

describeGpu('attention matches the fp32 reference', () => {
  for (const schedule of SCHEDULES) {
    for (const load of LOADS) {
      for (const headDim of HEAD_DIMS) {
        for (const causal of [false, true]) {
          for (const dtype of ['f16', 'bf16'] as const) {
            const name = `${schedule}/${load} hd${headDim} ${dtype}${causal ? ' causal' : ''}`;
            it(name, async () => {
              for (const seqLen of SEQ_LENS) {
                const cfg: AttentionConfig = { batch: 2, heads: 2, seqLen, headDim, dtype, causal, schedule, load };
                const p = await prepareAttention(cfg);
                try {
                  const r = await p.check();
                  expect(r.unwritten, `${name} N=${seqLen}: unwritten/NaN outputs`).toBe(0);
                  expect(r.relL2, `${name} N=${seqLen}`).toBeLessThan(REL_L2_TOLERANCE);
                  expect(r.relL2, `${name} N=${seqLen}: suspiciously exact`).toBeGreaterThan(0);
                  expect(r.ok, r.message).toBe(true);
                } finally {
                  p.dispose();
                }
              }
            });
          }
        }
      }
    }
  }

  it('a long sequence across many tiles and heads (secondDot/tma, 4 x 4 x 4096 x 128)', async () => {
    const p = await prepareAttention({ batch: 4, heads: 4, seqLen: 4096, headDim: 128, dtype: 'f16', causal: false, schedule: 'secondDot', load: 'tma' });
    try {
      const r = await p.check();
      expect(r.ok, r.message).toBe(true);
      const times = await p.time({ warmup: 2, iterations: 5 });
      expect(times).toHaveLength(5);
      for (const t of times) expect(t).toBeGreaterThan(0);
    } finally {
      p.dispose();
    }
  });

  it('a custom schedule from the enumeration runs and matches', async () => {
    const custom = { ops: { loadK: { stage: 0, cluster: 0 }, loadV: { stage: 0, cluster: 1 }, MMA0: { stage: 1, cluster: 2 },
      Softmax: { stage: 1, cluster: 3 }, MUL: { stage: 1, cluster: 4 }, MMA1: { stage: 1, cluster: 5 } } };
    const p = await prepareAttention({ batch: 1, heads: 3, seqLen: 777, headDim: 64, dtype: 'bf16', causal: true, schedule: custom, load: 'tma' });
    try {
      const r = await p.check();
      expect(r.ok, r.message).toBe(true);
    } finally {
      p.dispose();
    }
  });
});

/** Random legal schedules the generator accepts (some keep more register tiles live than it supports). */
function randomSchedules(count: number): Schedule[] {
  const all = [...enumerate({ maxStages: 3 })].filter((s) => {
    try {
      generate(s, { headDim: 64 });
      return true;
    } catch {
      return false;
    }
  });
  return Array.from({ length: count }, () => all[Math.floor(Math.random() * all.length)]);
}

describeGpu('random legal schedules match the reference', () => {
  // STAGEWISE_RANDOM_SCHEDULES widens the sample (default 8) for a longer soak on the GPU.
  for (const [i, s] of randomSchedules(Number(process.env.STAGEWISE_RANDOM_SCHEDULES ?? 8)).entries()) {
    const load = i % 2 ? 'tma' : 'cp.async';
    it(`#${i} ${JSON.stringify(s.ops)} ${load}`, async () => {
      const p = await prepareAttention({ batch: 1, heads: 2, seqLen: 333, headDim: 64, dtype: 'f16', causal: i % 3 === 0, schedule: s, load });
      try {
        const r = await p.check();
        expect(r.ok, r.message).toBe(true);
      } finally {
        p.dispose();
      }
    });
  }
});

describeGpu('attention() on caller buffers', () => {
  const made: DeviceBuffer[] = [];
  afterAll(() => made.forEach((b) => b.dispose()));
  it('rejects a buffer that is too small before launching', async () => {
    const cfg: AttentionConfig = { batch: 1, heads: 1, seqLen: 128, headDim: 64, dtype: 'f16', causal: false, schedule: 'baseline', load: 'tma' };
    const ok = DeviceBuffer.alloc(128 * 64 * 2);
    const small = DeviceBuffer.alloc(64);
    made.push(ok, small);
    await expect(attention({ q: ok, k: ok, v: ok, o: small }, cfg)).rejects.toThrow(/o holds 64 bytes; this shape needs 16384/);
  });
});
