// Shared test fixtures: seeded data, problems sized for a trip count, and the comparison.
import { expect } from 'vitest';
import {
  expand, interpret, kvTileCount, referenceAttention, resources,
  type AttentionProblem, type AttentionResult, type ExpandedOp, type InterpretOptions, type Schedule,
} from '../../src/schedule/index.js';

import { seededRandom as rng } from '../../src/api/random.js';

/** mulberry32: small, seeded, good enough for test data (the library's one copy). */
export { rng };

export const HEAD_DIM = 8;
export const BLOCK_N = 4;

/**
 * A problem whose single query block visits exactly T KV tiles. The last tile is partial
 * (seqK = T * blockN - 1) so the out-of-bounds mask is exercised too; causal problems have
 * seqQ = seqK so that the last row sees every column.
 */
export function problem(T: number, causal: boolean, seed = T, monotone = false): AttentionProblem {
  const seqK = T * BLOCK_N - (T > 1 ? 1 : 0);
  const seqQ = causal ? seqK : 5;
  const r = rng(seed * 7919 + (causal ? 1 : 0));
  const fill = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
  // monotone: every key tile scores higher than the last by more than the noise, by a step
  // that differs from tile to tile. So the running max rises at every tile for every row and
  // alpha(j) differs for every j (no hazard hides behind alpha == 1 or two equal alphas),
  // while the steps stay small enough that early tiles still weigh in the output.
  const q = fill(seqQ * HEAD_DIM, () => (monotone ? 0.5 + r() : r() * 2 - 1));
  const k = fill(seqK * HEAD_DIM, (i) => (monotone ? keyLevel(Math.floor(i / HEAD_DIM / BLOCK_N)) + 0.01 * r() : r() * 2 - 1));
  const v = fill(seqK * HEAD_DIM, () => r() * 2 - 1);
  const p: AttentionProblem = { q, k, v, seqQ, seqK, headDim: HEAD_DIM, causal, scale: 1 / Math.sqrt(HEAD_DIM) };
  expect(kvTileCount(p, BLOCK_N, seqQ - 1)).toBe(T);
  return p;
}

function keyLevel(tile: number): number {
  let level = 0;
  for (let t = 0; t < tile; t++) level += 0.05 + (0.1 / 3) * ((7 * t) % 4);
  return level;
}

export function options(s: Schedule, p: AttentionProblem, extra: Partial<InterpretOptions> = {}): InterpretOptions {
  const { kBuffers, vBuffers, sTiles, pTiles } = resources(s);
  return { ...p, blockN: BLOCK_N, kBuffers, vBuffers, sTiles, pTiles, ...extra };
}

export function maxAbsError(a: AttentionResult, b: AttentionResult): number {
  let worst = 0;
  const diff = (x: Float32Array, y: Float32Array) => {
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Number.isNaN(x[i] - y[i]) ? Infinity : Math.abs(x[i] - y[i]));
  };
  diff(a.o, b.o);
  diff(a.lse, b.lse);
  return worst;
}

/** Interpreter error against the reference for schedule s run with T tiles. */
export function errorFor(s: Schedule, T: number, causal: boolean, seed?: number): number {
  const p = problem(T, causal, seed);
  return maxAbsError(interpret(expand(s, T), options(s, p)), referenceAttention(p));
}

/** True when running `ops` gives a wrong answer, NaN, or throws: a hazard was caught. */
export function isBroken(s: Schedule, ops: readonly ExpandedOp[], p: AttentionProblem, extra: Partial<InterpretOptions> = {}): boolean {
  try {
    return !(maxAbsError(interpret(ops, options(s, p, extra)), referenceAttention(p)) < 1e-4);
  } catch {
    return true;
  }
}

export function indexOf(ops: readonly ExpandedOp[], op: string, iter: number): number {
  const i = ops.findIndex((e) => e.op === op && e.iter === iter);
  if (i < 0) throw new Error(`no ${op}(${iter}) in the expansion`);
  return i;
}

/** Moves the entry (op, iter) to just before the entry (beforeOp, beforeIter). */
export function moveBefore(ops: readonly ExpandedOp[], op: string, iter: number, beforeOp: string, beforeIter: number): ExpandedOp[] {
  const out = [...ops];
  const [moved] = out.splice(indexOf(out, op, iter), 1);
  out.splice(indexOf(out, beforeOp, beforeIter), 0, moved);
  return out;
}
