// The pipelined machine for one query block, at tile granularity. Its state is what the GPU
// kernel holds: K and V rings in shared memory, S and P register tiles, one alpha register,
// the running max m, sum l and the accumulator. Every slot starts as NaN, so an op that reads
// a slot nobody has written (consumer before producer) poisons the output, and a slot that
// is overwritten too early hands the consumer another iteration's tile (a wrong answer).
import type { OpName } from './ops.js';
import { isMasked, type AttentionProblem } from './attention.js';

export interface MachineShape {
  blockN: number;
  kBuffers: number;
  vBuffers: number;
  sTiles: number;
  pTiles: number;
  /** Conditional rescaling as the kernel does it (plan lazyRescale); absent: MUL every iteration. */
  lazyRescale?: LazyRescale;
}

/**
 * The kernel's conditional rescaling (kernels/attention.cuh RESCALE_SLACK_LOG2): a row keeps its
 * running max unless a tile's max exceeds it by more than `slackLog2` (or it is still -inf), and
 * MUL(j) skips a warp's rows when `vote` over their "moved" flags says none moved. Rows are grouped
 * into warps of `warpRows` from the block's first row (16 in the kernel: a warp's quarter of a
 * warpgroup's 64). The kernel's vote is `any`; a model test passes a wrong one as its negative control.
 */
export interface LazyRescale {
  slackLog2: number;
  warpRows: number;
  vote: (moved: readonly boolean[]) => boolean;
}

/** The kernel's rule: 2^8 of slack, 16 rows a warp, a warp rescales when any of its rows moved. */
export const KERNEL_LAZY_RESCALE: LazyRescale = { slackLog2: 8, warpRows: 16, vote: (moved) => moved.some(Boolean) };

const LOG2E = Math.LOG2E;

/** Ring of tiles: the one place where iteration j maps to slot j % n. */
class Ring {
  private readonly slots: Float64Array[];
  constructor(n: number, size: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`a ring needs a positive integer slot count, got ${n}`);
    this.slots = Array.from({ length: n }, () => new Float64Array(size).fill(NaN));
  }
  at(j: number): Float64Array {
    return this.slots[j % this.slots.length];
  }
}

export class Machine {
  private readonly D: number;
  private readonly rows: number;
  private readonly q: Float64Array;
  private readonly k: Ring;
  private readonly v: Ring;
  private readonly s: Ring;
  private readonly p: Ring;
  private readonly alpha: Float64Array;
  /** Per row: whether Softmax moved its max (lazyRescale); MUL reads it with alpha. */
  private readonly moved: boolean[];
  readonly m: Float64Array;
  readonly l: Float64Array;
  readonly acc: Float64Array;

  constructor(private readonly prob: AttentionProblem, private readonly shape: MachineShape, private readonly row0: number, rowEnd: number) {
    const D = (this.D = prob.headDim);
    const rows = (this.rows = rowEnd - row0);
    const N = shape.blockN;
    this.q = Float64Array.from(prob.q.subarray(row0 * D, rowEnd * D));
    this.k = new Ring(shape.kBuffers, N * D);
    this.v = new Ring(shape.vBuffers, N * D);
    this.s = new Ring(shape.sTiles, rows * N);
    this.p = new Ring(shape.pTiles, rows * N);
    this.alpha = new Float64Array(rows).fill(NaN);
    this.moved = new Array<boolean>(rows).fill(true);
    this.m = new Float64Array(rows).fill(-Infinity);
    this.l = new Float64Array(rows);
    this.acc = new Float64Array(rows * D);
  }

  run(op: OpName, j: number): void {
    this[op](j);
  }

  // Rows past seqK come back as zeros, as a TMA load out of bounds does.
  private copyTile(src: Float32Array, dst: Float64Array, j: number): void {
    const { D } = this;
    for (let r = 0; r < this.shape.blockN; r++) {
      const col = j * this.shape.blockN + r;
      for (let d = 0; d < D; d++) dst[r * D + d] = col < this.prob.seqK ? src[col * D + d] : 0;
    }
  }

  private loadK(j: number): void { this.copyTile(this.prob.k, this.k.at(j), j); }
  private loadV(j: number): void { this.copyTile(this.prob.v, this.v.at(j), j); }

  private MMA0(j: number): void {
    const { D, rows, q } = this;
    const N = this.shape.blockN;
    const K = this.k.at(j);
    const S = this.s.at(j);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < N; c++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[r * D + d] * K[c * D + d];
        S[r * N + c] = dot;
      }
    }
  }

  // Online softmax in the exp2 domain: m is kept as max(S * scale * log2e).
  private Softmax(j: number): void {
    const N = this.shape.blockN;
    const S = this.s.at(j);
    const P = this.p.at(j);
    const k = this.prob.scale * LOG2E;
    for (let r = 0; r < this.rows; r++) {
      const row = this.row0 + r;
      const x = (c: number) => (isMasked(this.prob, row, j * N + c) ? -Infinity : S[r * N + c] * k);
      let mTile = -Infinity;
      for (let c = 0; c < N; c++) mTile = Math.max(mTile, x(c));
      // lazyRescale: the old max stays (alpha exactly 1) unless the tile's exceeds it by more than
      // the slack; a row whose max is -inf always moves.
      const lazy = this.shape.lazyRescale;
      const keep = lazy !== undefined && this.m[r] > -Infinity && mTile <= this.m[r] + lazy.slackLog2;
      const mNew = keep ? this.m[r] : Math.max(this.m[r], mTile);
      // A row with nothing visible yet keeps m = -inf; exp2(-inf - -inf) would be NaN.
      const finite = mNew !== -Infinity;
      let sum = 0;
      for (let c = 0; c < N; c++) {
        P[r * N + c] = finite ? 2 ** (x(c) - mNew) : 0;
        sum += P[r * N + c];
      }
      this.moved[r] = !keep;
      this.alpha[r] = keep ? 1 : finite ? 2 ** (this.m[r] - mNew) : 1;
      this.l[r] = this.l[r] * this.alpha[r] + sum;
      this.m[r] = mNew;
    }
  }

  private MUL(_j: number): void {
    const { D } = this;
    const lazy = this.shape.lazyRescale;
    const warpRows = lazy?.warpRows ?? this.rows;
    for (let w0 = 0; w0 < this.rows; w0 += warpRows) {
      const w1 = Math.min(this.rows, w0 + warpRows);
      // lazyRescale: a warp none of whose rows moved skips its rescale (the kernel's vote).
      if (lazy !== undefined && !lazy.vote(this.moved.slice(w0, w1))) continue;
      for (let r = w0; r < w1; r++) for (let d = 0; d < D; d++) this.acc[r * D + d] *= this.alpha[r];
    }
  }

  private MMA1(j: number): void {
    const { D } = this;
    const N = this.shape.blockN;
    const P = this.p.at(j);
    const V = this.v.at(j);
    for (let r = 0; r < this.rows; r++) {
      for (let c = 0; c < N; c++) {
        const w = P[r * N + c];
        for (let d = 0; d < D; d++) this.acc[r * D + d] += w * V[c * D + d];
      }
    }
  }
}
