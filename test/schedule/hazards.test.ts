// A broken expansion must fail in the interpreter: for every dependence, and every ring,
// we break the expansion of a legal schedule exactly there and expect a wrong answer, NaN or
// a throw. Problems are "monotone" (see helpers.ts) so that no hazard hides behind alpha == 1.
import { describe, it, expect } from 'vitest';
import {
  DEPENDENCES, NAMED, bodyOrder, enumerate, expand, findViolation, interpret, referenceAttention, resources, schedule,
  type BuiltSchedule, type ExpandedOp,
} from '../../src/schedule/index.js';
import { BLOCK_N, indexOf, isBroken, maxAbsError, moveBefore, problem, rng } from './helpers.js';

const T = 6;
const ITERS = [1, 3, T - 1];

function schedulesUnderTest(): BuiltSchedule[] {
  const all = [...enumerate({ maxStages: 4 })];
  const r = rng(7);
  return [...Object.values(NAMED), ...Array.from({ length: 30 }, () => all[Math.floor(r() * all.length)])];
}

describe('a broken expansion fails', () => {
  const schedules = schedulesUnderTest();

  it('the unbroken expansions pass (the control)', () => {
    for (const s of schedules) expect(isBroken(s, expand(s, T), problem(T, false, 5, true)), s.describe()).toBe(false);
  });

  it('when a consumer runs before its producer, for every dependence', () => {
    for (const s of schedules) {
      const ops = expand(s, T);
      for (const dep of DEPENDENCES.filter((d) => d.producer !== d.consumer)) {
        // MUL(0) rescales an acc that is still zero, so which alpha it reads cannot show:
        // the alpha overwrite is only observable from Softmax(2) before MUL(1) on.
        for (const j of ITERS.filter((i) => !(dep.overwrites && i - dep.distance === 0))) {
          // consumer(j) moved to just before producer(j - distance): it reads what is not yet there.
          const broken = moveBefore(ops, dep.consumer, j, dep.producer, j - dep.distance);
          const label = `${s.describe()}: ${dep.consumer}(${j}) before ${dep.producer}(${j - dep.distance})`;
          expect(isBroken(s, broken, problem(T, false, j, true)), label).toBe(true);
        }
      }
    }
  });

  it('when a producer overwrites a ring slot its consumer still needs', () => {
    const rings = [
      { producer: 'loadK', consumer: 'MMA0', slots: 'kBuffers' },
      { producer: 'loadV', consumer: 'MMA1', slots: 'vBuffers' },
      { producer: 'MMA0', consumer: 'Softmax', slots: 'sTiles' },
      { producer: 'Softmax', consumer: 'MMA1', slots: 'pTiles' },
    ] as const;
    for (const s of schedules) {
      const ops = expand(s, T);
      for (const ring of rings) {
        const n = resources(s)[ring.slots];
        for (const j of [0, 1].filter((i) => i + n < T)) {
          const broken = moveBefore(ops, ring.producer, j + n, ring.consumer, j);
          expect(isBroken(s, broken, problem(T, false, j, true)), `${s.describe()}: ${ring.producer}(${j + n}) before ${ring.consumer}(${j})`).toBe(true);
        }
      }
    }
  });

  it('when two dependent ops swap, an op is dropped, or the loop is cut short', () => {
    const p = problem(T, false, 9, true);
    for (const s of Object.values(NAMED)) {
      const ops = expand(s, T);
      const swapped = [...ops];
      const a = indexOf(ops, 'MUL', 2);
      const b = indexOf(ops, 'MMA1', 2);
      [swapped[a], swapped[b]] = [swapped[b], swapped[a]];
      expect(isBroken(s, swapped, p), `${s.name}: swap MUL(2) and MMA1(2)`).toBe(true);
      const dropped = ops.filter((e, i) => i !== indexOf(ops, 'MUL', 3));
      expect(isBroken(s, dropped, p), `${s.name}: drop MUL(3)`).toBe(true);
      const short: ExpandedOp[] = expand(s, T - 1);
      expect(isBroken(s, short, p), `${s.name}: T - 1`).toBe(true);
    }
  });

  it('when an op is moved one iteration early or late past a dependence (named schedules)', () => {
    const p = problem(T, false, 11, true);
    for (const s of Object.values(NAMED)) {
      const ops = expand(s, T);
      for (const op of ['Softmax', 'MUL', 'MMA1'] as const) {
        for (const j of [2, 3]) {
          // op(j) one iteration early: just before op(j-1); one late: just after op(j+1).
          const early = moveBefore(ops, op, j, op, j - 1);
          const late = [...ops];
          const [moved] = late.splice(indexOf(late, op, j), 1);
          late.splice(indexOf(late, op, j + 1) + 1, 0, moved);
          expect(isBroken(s, early, p), `${s.name}: ${op}(${j}) one early`).toBe(true);
          expect(isBroken(s, late, p), `${s.name}: ${op}(${j}) one late`).toBe(true);
        }
      }
    }
  });
});

describe('the alpha rule (MUL(j-1) before Softmax(j)) is needed', () => {
  it('a schedule that breaks only that rule computes a wrong answer when run anyway', () => {
    const s = schedule({ loadK: [0, 0], loadV: [0, 1], MMA0: [0, 2], Softmax: [0, 3], MUL: [1, 4], MMA1: [1, 5] });
    expect(findViolation(s)?.message).toMatch(/overwrites alpha/);
    // expand() refuses it, so write the expansion out by the step semantics.
    const ops: ExpandedOp[] = [];
    for (let step = 0; step <= T; step++) {
      for (const op of bodyOrder(s)) {
        const iter = step - s.ops[op].stage;
        if (iter >= 0 && iter < T) ops.push({ op, iter, step, phase: 'steady' });
      }
    }
    // Buffers by the resources() formulas, which do not depend on the alpha rule.
    const shape = { kBuffers: 1, vBuffers: 2, sTiles: 1, pTiles: 2 };
    const p = problem(T, false, 4, true);
    const got = interpret(ops, { ...p, blockN: BLOCK_N, ...shape });
    expect(maxAbsError(got, referenceAttention(p))).toBeGreaterThan(1e-2);
  });
});
