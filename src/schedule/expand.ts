// The expander executes a schedule; it never decides one. Every placement comes from the
// (validated) schedule, and the step semantics below are the whole of the mechanism.
import type { OpName } from './ops.js';
import { bodyOrder, lastStage, type Schedule } from './schedule.js';
import { validate } from './validate.js';

export type Phase = 'prologue' | 'steady' | 'epilogue';

export interface ExpandedOp {
  op: OpName;
  iter: number;
  step: number;
  phase: Phase;
}

export interface LoopNest {
  /** S, the largest stage: the prologue and the epilogue are S steps each. */
  numStages: number;
  body: Array<{ op: OpName; stage: number; cluster: number }>;
}

/**
 * The loop as an explicit ordered list, for trip count T >= 1 (any T, also T < S).
 *
 * At step k = 0 .. T-1+S, the ops of the body run in body order, an op of stage s running
 * iteration k - s when 0 <= k - s < T. A 3-stage example (S = 2): A in stage 0, B in
 * stage 1, C in stage 2, clusters ordering the body C, B, A; T = 5. Cell = the iteration
 * the op runs at that step.
 *
 *   step k       0    1    2    3    4    5    6
 *   A (s0)       0    1    2    3    4    .    .
 *   B (s1)       .    0    1    2    3    4    .
 *   C (s2)       .    .    0    1    2    3    4
 *              |prologue||----steady---||epilogue|
 *               k < S     S <= k < T     k >= max(S, T)
 *
 * The prologue fills the pipeline (stage s starts at step s), the steady state runs every
 * op once per step (the body `C(i) B(i+1) A(i+2)` for i = k - S), the epilogue drains it.
 * When T < S there is no steady state: the prologue's later steps already drain, and
 * steps T..S-1 stay labelled prologue (k < S) because codegen emits them there.
 */
export function expand(s: Schedule, T: number): ExpandedOp[] {
  if (!Number.isInteger(T) || T < 1) throw new RangeError(`trip count T must be a positive integer, got ${T}`);
  validate(s);
  const S = lastStage(s);
  const body = bodyOrder(s);
  const out: ExpandedOp[] = [];
  for (let step = 0; step <= T - 1 + S; step++) {
    const phase = phaseOf(step, S, T);
    for (const op of body) {
      const iter = step - s.ops[op].stage;
      if (iter >= 0 && iter < T) out.push({ op, iter, step, phase });
    }
  }
  return out;
}

export function phaseOf(step: number, S: number, T: number): Phase {
  if (step < S) return 'prologue';
  return step < T ? 'steady' : 'epilogue';
}

/** What codegen consumes: S and the body in body order; it emits the three phases with a run-time T. */
export function loopNest(s: Schedule): LoopNest {
  validate(s);
  return {
    numStages: lastStage(s),
    body: bodyOrder(s).map((op) => ({ op, stage: s.ops[op].stage, cluster: s.ops[op].cluster })),
  };
}
