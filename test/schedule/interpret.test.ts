import { describe, it, expect } from 'vitest';
import {
  NAMED, enumerate, expand, interpret, referenceAttention, resources, kvTileCount, type BuiltSchedule,
} from '../../src/schedule/index.js';
import { BLOCK_N, errorFor, maxAbsError, options, problem, rng } from './helpers.js';

/** A fixed, seeded sample of legal schedules with up to four stages. */
function sampleLegal(count: number, seed: number): BuiltSchedule[] {
  const all = [...enumerate({ maxStages: 4 })];
  const r = rng(seed);
  return Array.from({ length: count }, () => all[Math.floor(r() * all.length)]);
}

describe('referenceAttention', () => {
  it('is a softmax-weighted average with a natural-log LSE', () => {
    // One query row, two keys: scores 0 and ln 3 give weights 1/4 and 3/4.
    const p = {
      q: Float32Array.from([1]), k: Float32Array.from([0, Math.log(3)]), v: Float32Array.from([4, 8]),
      seqQ: 1, seqK: 2, headDim: 1, causal: false, scale: 1,
    };
    const { o, lse } = referenceAttention(p);
    expect(o[0]).toBeCloseTo(7, 5);
    expect(lse[0]).toBeCloseTo(Math.log(4), 5);
    // Causal top-left: row 0 sees only column 0.
    expect(referenceAttention({ ...p, causal: true }).o[0]).toBeCloseTo(4, 5);
  });
});

describe('interpret', () => {
  it('matches the reference for every named schedule, T = 1..12, with and without causal masking', () => {
    for (const s of Object.values(NAMED)) {
      for (let T = 1; T <= 12; T++) {
        for (const causal of [false, true]) expect(errorFor(s, T, causal), `${s.name} T=${T} causal=${causal}`).toBeLessThan(1e-4);
      }
    }
  });

  it('matches the reference for random legal schedules from the enumeration', () => {
    for (const s of sampleLegal(24, 2024)) {
      for (let T = 1; T <= 12; T++) {
        for (const causal of [false, true]) expect(errorFor(s, T, causal, 100 + T), `${s.describe()} T=${T}`).toBeLessThan(1e-4);
      }
    }
  });

  it('loops over query blocks, each with its own causal trip count', () => {
    const T = 5;
    const p = problem(T, true);
    const blockM = 6;
    // Rows 0..5 visit 2 tiles, 6..11 visit 3, ... : a fixed list cannot serve them all.
    expect(kvTileCount(p, BLOCK_N, blockM - 1)).toBe(2);
    for (const s of Object.values(NAMED)) {
      const got = interpret((t) => expand(s, t), options(s, p, { blockM }));
      expect(maxAbsError(got, referenceAttention(p))).toBeLessThan(1e-4);
      expect(() => interpret(expand(s, T), options(s, p, { blockM }))).toThrow(/covers 5 KV tiles but query rows 0\.\.5 need T = 2/);
    }
  });

  it('uses a fixed list for every block when the trip count does not vary (non-causal)', () => {
    const p = problem(4, false);
    const s = NAMED.firstDot;
    const got = interpret(expand(s, 4), options(s, { ...p }, { blockM: 2 }));
    expect(maxAbsError(got, referenceAttention(p))).toBeLessThan(1e-4);
  });

  it('needs exactly the buffers resources() derives: one S tile too few breaks firstDot', () => {
    const p = problem(6, false, 1, true);
    const s = NAMED.firstDot;
    expect(resources(s).sTiles).toBe(2);
    const got = interpret(expand(s, 6), options(s, p, { sTiles: 1 }));
    expect(maxAbsError(got, referenceAttention(p))).toBeGreaterThan(1e-2);
  });

  it('rejects an expansion that names an iteration outside the loop', () => {
    const p = problem(3, false);
    const s = NAMED.baseline;
    const ops = expand(s, 3).map((e) => (e.op === 'MUL' && e.iter === 2 ? { ...e, iter: 3 } : e));
    expect(() => interpret(ops, options(s, p))).toThrow(RangeError);
  });
});
