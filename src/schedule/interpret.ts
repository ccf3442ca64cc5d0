// Runs an expanded loop on the CPU model of the pipelined machine (machine.ts) and returns
// what the kernel would: O and the natural-log LSE. A correct expansion reproduces
// referenceAttention(); a broken one reads poisoned or foreign slots and does not.
import { kvTileCount, type AttentionProblem, type AttentionResult } from './attention.js';
import type { ExpandedOp } from './expand.js';
import { Machine, type MachineShape } from './machine.js';

export interface InterpretOptions extends AttentionProblem, MachineShape {
  /** Query rows per block; default seqQ (a single block). */
  blockM?: number;
}

/** The expansion for one query block: a fixed list, or one made for that block's trip count. */
export type Expansion = readonly ExpandedOp[] | ((T: number) => readonly ExpandedOp[]);

export function interpret(expanded: Expansion, opts: InterpretOptions): AttentionResult {
  const { seqQ, headDim: D } = opts;
  const blockM = opts.blockM ?? seqQ;
  if (!Number.isInteger(blockM) || blockM < 1) throw new RangeError(`blockM must be a positive integer, got ${blockM}`);
  const o = new Float32Array(seqQ * D);
  const lse = new Float32Array(seqQ);
  for (let row0 = 0; row0 < seqQ; row0 += blockM) {
    const rowEnd = Math.min(seqQ, row0 + blockM);
    const T = kvTileCount(opts, opts.blockN, rowEnd - 1);
    const ops = typeof expanded === 'function' ? expanded(T) : expanded;
    checkTripCount(ops, T, row0, rowEnd);
    const machine = new Machine(opts, opts, row0, rowEnd);
    for (const { op, iter } of ops) {
      if (!Number.isInteger(iter) || iter < 0 || iter >= T) {
        throw new RangeError(`${op}(${iter}) is outside the loop: query rows ${row0}..${rowEnd - 1} visit KV tiles 0..${T - 1}`);
      }
      machine.run(op, iter);
    }
    for (let r = 0; r < rowEnd - row0; r++) {
      for (let d = 0; d < D; d++) o[(row0 + r) * D + d] = machine.acc[r * D + d] / machine.l[r];
      lse[row0 + r] = machine.m[r] * Math.LN2 + Math.log(machine.l[r]);
    }
  }
  return { o, lse };
}

function checkTripCount(ops: readonly ExpandedOp[], T: number, row0: number, rowEnd: number): void {
  const covered = ops.reduce((n, e) => Math.max(n, e.iter + 1), 0);
  if (covered !== T) {
    throw new RangeError(
      `the expansion covers ${covered} KV tiles but query rows ${row0}..${rowEnd - 1} need T = ${T}: expand the schedule with that trip count`,
    );
  }
}
