// Conditional rescaling (plan lazyRescale, kernels/attention.cuh RESCALE_SLACK_LOG2) on the CPU
// model: a row keeps its running max until a tile's max exceeds it by more than the slack, and MUL
// skips a warp none of whose rows moved. The claim is that the output is the reference's for every
// legal schedule, with rows that move and rows that do not in one warp. Negative controls: a vote
// that reads one row of the warp, and a MUL that never runs, both give wrong answers on the same
// problems; and the problems do make rows move past the slack (else the test could not fail).
import { describe, expect, it } from 'vitest';
import {
  NAMED, enumerate, expand, interpret, kvTileCount, referenceAttention, KERNEL_LAZY_RESCALE,
  type AttentionProblem, type BuiltSchedule, type LazyRescale, type Schedule,
} from '../../src/schedule/index.js';
import { BLOCK_N, HEAD_DIM, maxAbsError, options, rng } from './helpers.js';

const ROWS = 12;

/**
 * Scores that jump: key tile t sits at a level that rises by JUMP at every tile where (5t) % 3 == 0
 * (about 3 x 4.1 = 12 in the log2 domain for a row of positive q, past the slack of 8) and drifts by
 * less than a quarter of that between jumps. Rows come in pairs: even pairs have positive q (their max
 * jumps), odd pairs negative q (their scores fall, so they keep their max), so a warp of 2 or 4 rows
 * holds rows that move next to rows that do not.
 */
function jumpy(T: number, causal: boolean, seed: number): AttentionProblem {
  const seqK = T * BLOCK_N - (T > 1 ? 1 : 0);
  const seqQ = causal ? seqK : ROWS;
  const r = rng(seed);
  const level: number[] = [];
  for (let t = 0, l = 0; t < T; t++) {
    l += (5 * t) % 3 === 0 ? 3 : 0.2 * r();
    level.push(l);
  }
  const q = Float32Array.from({ length: seqQ * HEAD_DIM }, (_, i) => (Math.floor(i / HEAD_DIM / 2) % 2 === 0 ? 1 : -1) * (0.5 + r()));
  const k = Float32Array.from({ length: seqK * HEAD_DIM }, (_, i) => level[Math.floor(i / HEAD_DIM / BLOCK_N)] + 0.3 * (r() * 2 - 1));
  const v = Float32Array.from({ length: seqK * HEAD_DIM }, () => r() * 2 - 1);
  const p: AttentionProblem = { q, k, v, seqQ, seqK, headDim: HEAD_DIM, causal, scale: 1 / Math.sqrt(HEAD_DIM) };
  expect(kvTileCount(p, BLOCK_N, seqQ - 1)).toBe(T);
  return p;
}

/** Largest rise of any row's running max at one tile, log2 domain (the reference's view). */
function largestRise(p: AttentionProblem): number {
  let rise = 0;
  const c = p.scale * Math.LOG2E;
  for (let i = 0; i < p.seqQ; i++) {
    let m = -Infinity;
    for (let t = 0; t * BLOCK_N < p.seqK; t++) {
      let tile = -Infinity;
      for (let j = t * BLOCK_N; j < Math.min(p.seqK, (t + 1) * BLOCK_N); j++) {
        if (p.causal && j > i + p.seqK - p.seqQ) continue;
        let dot = 0;
        for (let d = 0; d < HEAD_DIM; d++) dot += p.q[i * HEAD_DIM + d] * p.k[j * HEAD_DIM + d];
        tile = Math.max(tile, dot * c);
      }
      if (m > -Infinity && tile > m) rise = Math.max(rise, tile - m);
      m = Math.max(m, tile);
    }
  }
  return rise;
}

function errorWith(s: Schedule, p: AttentionProblem, lazy: LazyRescale, T: number): number {
  return maxAbsError(interpret(expand(s, T), options(s, p, { lazyRescale: lazy })), referenceAttention(p));
}

function sampleLegal(count: number, seed: number): BuiltSchedule[] {
  const all = [...enumerate({ maxStages: 4 })];
  const r = rng(seed);
  return Array.from({ length: count }, () => all[Math.floor(r() * all.length)]);
}

// The kernel's rule with warps of 2 and 4 rows (the model's rows are few; the mechanism does not
// depend on the warp's size) and of the kernel's 16.
const RULES: Array<[string, LazyRescale]> = [
  ['warps of 2 rows', { ...KERNEL_LAZY_RESCALE, warpRows: 2 }],
  ['warps of 4 rows', { ...KERNEL_LAZY_RESCALE, warpRows: 4 }],
  ['the kernel\'s 16-row warps', KERNEL_LAZY_RESCALE],
];

describe('lazyRescale on the CPU model', () => {
  it('the problems make some rows move past the slack and others keep their max', () => {
    for (const causal of [false, true]) {
      const p = jumpy(8, causal, 7);
      expect(largestRise(p), `causal ${causal}`).toBeGreaterThan(KERNEL_LAZY_RESCALE.slackLog2 + 1);
    }
  });

  it('matches the reference for every named schedule, T = 1..12, causal and not, every warp size', () => {
    for (const s of Object.values(NAMED)) {
      for (let T = 1; T <= 12; T++) {
        for (const causal of [false, true]) {
          const p = jumpy(T, causal, 31 * T + (causal ? 1 : 0));
          for (const [name, rule] of RULES) expect(errorWith(s, p, rule, T), `${s.name} T=${T} causal=${causal} ${name}`).toBeLessThan(1e-4);
        }
      }
    }
  });

  it('matches the reference for random legal schedules from the enumeration', () => {
    for (const s of sampleLegal(24, 4049)) {
      for (const T of [1, 2, 3, 5, 8, 11]) {
        for (const causal of [false, true]) {
          const p = jumpy(T, causal, 101 + T);
          expect(errorWith(s, p, RULES[0][1], T), `${s.describe()} T=${T} causal=${causal}`).toBeLessThan(1e-4);
        }
      }
    }
  });

  it('negative control: a vote that reads only the warp\'s first row gives wrong answers', () => {
    const firstRow: LazyRescale = { ...KERNEL_LAZY_RESCALE, warpRows: 4, vote: (moved) => moved[0] };
    // Rows 0-1 of each warp of 4 have positive q (they move at the jumps), rows 2-3 negative: shift
    // the pairing so the first row keeps its max while the third moves.
    for (const s of Object.values(NAMED)) {
      const p = jumpy(8, false, 5);
      const shifted = { ...p, q: Float32Array.from(p.q, (x, i) => (Math.floor(i / HEAD_DIM) % 4 < 2 ? -Math.abs(x) : Math.abs(x))) };
      expect(errorWith(s, shifted, KERNEL_LAZY_RESCALE, 8), `${s.name} with the kernel's vote`).toBeLessThan(1e-4);
      expect(errorWith(s, shifted, firstRow, 8), `${s.name} with a first-row vote`).toBeGreaterThan(1e-2);
    }
  });

  it('negative control: skipping every MUL gives wrong answers (so the moves are real)', () => {
    const never: LazyRescale = { ...KERNEL_LAZY_RESCALE, vote: () => false };
    for (const s of Object.values(NAMED)) {
      const p = jumpy(8, false, 9);
      expect(errorWith(s, p, never, 8), s.name).toBeGreaterThan(1e-2);
    }
  });
});
