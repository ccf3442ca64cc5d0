import { describe, expect, it } from 'vitest';
import { attentionPlan, bf16ToFloat, buildAttention, f16ToFloat, flops, prepareAttention, referenceRows, resolveSchedule } from '../../src/api/index.js';
import { NAMED, referenceAttention } from '../../src/schedule/index.js';

const base = { batch: 1, heads: 1, seqLen: 128, headDim: 64 as const, dtype: 'f16' as const, causal: false, schedule: 'baseline', load: 'tma' as const };

describe('prepareAttention argument checks (before any device work)', () => {
  it.each([
    [{ batch: 0 }, /batch must be an integer in 1\.\./],
    [{ heads: 1.5 }, /heads must be an integer/],
    [{ seqLen: -4 }, /seqLen must be an integer/],
    [{ scale: 0 }, /scale must be a positive finite number/],
    [{ batch: 300, heads: 300 }, /batch \* heads must be at most 65535/],
  ])('%o', async (patch, message) => {
    await expect(prepareAttention({ ...base, ...patch })).rejects.toThrow(message);
  });
  it('passes the kernel knobs through to the generator, which checks them before compiling', async () => {
    await expect(buildAttention({ ...base, pShared: 'yes' as never })).rejects.toThrow(/pShared must be a boolean/);
    await expect(buildAttention({ ...base, warpSpecialized: 1 as never })).rejects.toThrow(/warpSpecialized must be a boolean/);
    await expect(buildAttention({ ...base, load: 'cp.async', pingpong: true })).rejects.toThrow(/pingpong needs load 'tma'/);
    await expect(buildAttention({ ...base, load: 'cp.async', blockM: 192 })).rejects.toThrow(/blockM 192 needs load 'tma' with the producer warpgroup/);
    await expect(buildAttention({ ...base, blockM: 96 as never })).rejects.toThrow(/blockM must be one of 64, 128, 192/);
  });
  it('picks 192 query rows past 2048 tokens at hd64 and hd128, 128 up to it but where 192 rows pad hd128 little from 1536', () => {
    for (const [seqLen, headDim, rows] of [[8192, 64, 192], [4096, 128, 192], [2049, 64, 192], [2048, 64, 128], [2048, 128, 192], [1792, 128, 128], [1536, 128, 192], [1024, 64, 128], [8192, 256, 128]] as const) {
      expect(attentionPlan({ ...base, seqLen, headDim }).blockM, `seqLen ${seqLen} hd${headDim}`).toBe(rows);
    }
  });
  it('names the schedule rule', () => {
    expect(() => resolveSchedule('fastest')).toThrow(/schedule must be 'auto', one of baseline, firstDot, secondDot/);
    expect(resolveSchedule('secondDot')).toBe(NAMED.secondDot);
  });
});

describe('host helpers', () => {
  it('converts 16-bit floats', () => {
    expect(f16ToFloat(0x3c00)).toBe(1);
    expect(f16ToFloat(0xc000)).toBe(-2);
    expect(f16ToFloat(0x0001)).toBe(2 ** -24);
    expect(f16ToFloat(0x7c00)).toBe(Infinity);
    expect(f16ToFloat(0x7e00)).toBeNaN();
    expect(bf16ToFloat(0x3f80)).toBe(1);
    expect(bf16ToFloat(0xc040)).toBe(-3);
    expect(bf16ToFloat(0x7fc0)).toBeNaN();
  });

  it('counts FLOPs as 4 B H N^2 D, halved for causal', () => {
    expect(flops({ batch: 8, heads: 16, seqLen: 8192, headDim: 128, causal: false })).toBe(4 * 8 * 16 * 8192 * 8192 * 128);
    expect(flops({ batch: 1, heads: 1, seqLen: 2, headDim: 1, causal: true })).toBe(8);
  });

  it('the row reference agrees with the schedule package reference, causal too', () => {
    const n = 37, d = 8;
    const rand = (len: number) => Float32Array.from({ length: len }, () => Math.random() * 2 - 1);
    const q = rand(n * d), k = rand(n * d), v = rand(n * d);
    for (const causal of [false, true]) {
      const full = referenceAttention({ q, k, v, seqQ: n, seqK: n, headDim: d, causal, scale: 0.3 });
      const rows = [0, 5, 36];
      const qRows = new Float32Array(rows.length * d);
      rows.forEach((r, i) => qRows.set(q.subarray(r * d, (r + 1) * d), i * d));
      const mine = referenceRows({ q: qRows, k, v, rows, n, d, causal, scale: 0.3 });
      rows.forEach((r, i) => {
        expect(mine.lse[i]).toBeCloseTo(full.lse[r], 4);
        for (let x = 0; x < d; x++) expect(mine.o[i * d + x]).toBeCloseTo(full.o[r * d + x], 4);
      });
    }
  });
});
