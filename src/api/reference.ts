// The fp32 reference for a slice of rows of one head: plain, unpipelined softmax(Q K^T * scale) V.
import type { AttentionProblem } from './problem.js';

export interface HeadSlice {
  /** Query rows (rows.length x d), keys and values (n x d), all fp32. */
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  rows: number[];
  n: number;
  d: number;
  causal: boolean;
  scale: number;
}

/** O rows (rows.length x d) and natural-log LSE per row, accumulated in float64. */
export function referenceRows(s: HeadSlice): { o: Float32Array; lse: Float32Array } {
  const { q, k, v, rows, n, d } = s;
  const o = new Float32Array(rows.length * d);
  const lse = new Float32Array(rows.length);
  const scores = new Float64Array(n);
  const acc = new Float64Array(d);
  rows.forEach((row, r) => {
    const cols = s.causal ? Math.min(n, row + 1) : n;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) {
      let dot = 0;
      for (let x = 0; x < d; x++) dot += q[r * d + x] * k[c * d + x];
      scores[c] = dot * s.scale;
      if (scores[c] > max) max = scores[c];
    }
    let sum = 0;
    acc.fill(0);
    for (let c = 0; c < cols; c++) {
      const p = Math.exp(scores[c] - max);
      sum += p;
      for (let x = 0; x < d; x++) acc[x] += p * v[c * d + x];
    }
    for (let x = 0; x < d; x++) o[r * d + x] = acc[x] / sum;
    lse[r] = max + Math.log(sum);
  });
  return { o, lse };
}

// The general reference: FlashAttention's semantics over strided host arrays, for every shape the
// tensor API takes (both layouts, GQA/MQA, Nq != Nk, packed batches, causal, windows, softcap).
// The GPU twin (attention_reference_general in reference_gpu.ts) computes the same rows the same
// way; a GPU test holds the two against each other.

/** One operand in host memory, fp32. Element x of (batch b, row, head) sits at
 * offset + b * batchStride + row * rowStride + head * headStride + x; in a packed batch the row
 * is the token cuSeqlens[b] + row and batchStride is not used. */
export interface HostOperand {
  data: Float32Array;
  batchStride: number;
  rowStride: number;
  headStride: number;
  /** Default 0. */
  offset?: number;
}

/** Which keys a query row sees; FlashAttention's conventions. */
export interface Mask {
  causal: boolean;
  /** [left, right], -1 = unbounded on that side; null = no window. */
  window: readonly [number, number] | null;
}

export interface GeneralCase extends Mask {
  q: HostOperand;
  k: HostOperand;
  v: HostOperand;
  batch: number;
  headsQ: number;
  headsKV: number;
  headDim: number;
  /** Lengths of every batch element; not used where cuSeqlens are given. */
  seqQ: number;
  seqK: number;
  /** Both or neither: a packed batch, sequence b = tokens cu[b] .. cu[b + 1] - 1 (B + 1 entries). */
  cuSeqlensQ?: ArrayLike<number>;
  cuSeqlensK?: ArrayLike<number>;
  /** softcap * tanh(logit / softcap) on the scaled logits; 0 = none. */
  softcap: number;
  scale: number;
}

/** o: float32 [batch][headsQ][rows.length][headDim]; lse: [batch][headsQ][rows.length]. */
export interface GeneralResult {
  o: Float32Array;
  lse: Float32Array;
}

/** Keys lo..hi (inclusive; empty when hi < lo) that query row `row` of a sequence of seqQ queries
 * and seqK keys sees. The diagonal is aligned to the bottom right, as FlashAttention aligns it:
 * key j is visible when (not causal or j <= row + seqK - seqQ) and, with a window [left, right],
 * (left == -1 or j >= row + seqK - seqQ - left) and (right == -1 or j <= row + seqK - seqQ + right). */
export function visibleKeys(row: number, seqQ: number, seqK: number, mask: Mask): { lo: number; hi: number } {
  const diagonal = row + seqK - seqQ;
  let lo = 0;
  let hi = seqK - 1;
  if (mask.causal) hi = Math.min(hi, diagonal);
  if (mask.window) {
    const [left, right] = mask.window;
    if (left >= 0) lo = Math.max(lo, diagonal - left);
    if (right >= 0) hi = Math.min(hi, diagonal + right);
  }
  return { lo, hi };
}

/**
 * O and LSE (natural log) of the given query rows of every (batch, query head), accumulated in
 * float64 with the row max subtracted. Rows are relative to each sequence. Query head h reads K/V
 * head floor(h / (headsQ / headsKV)).
 *   - a row that sees no key: O = 0, LSE = -Infinity (never NaN);
 *   - a row outside its sequence (row < 0 or row >= that sequence's length; a packed batch's short
 *     members): not computed, O and LSE are NaN — the marker the GPU twin writes too.
 */
export function referenceGeneral(c: GeneralCase, rows: readonly number[]): GeneralResult {
  const { batch, headsQ, headsKV, headDim: d } = c;
  if ((c.cuSeqlensQ === undefined) !== (c.cuSeqlensK === undefined))
    throw new TypeError('referenceGeneral: give both cuSeqlensQ and cuSeqlensK or neither');
  if (headsQ % headsKV !== 0) throw new RangeError(`referenceGeneral: headsQ (${headsQ}) must be a multiple of headsKV (${headsKV})`);
  const group = headsQ / headsKV;
  const o = new Float32Array(batch * headsQ * rows.length * d);
  const lse = new Float32Array(batch * headsQ * rows.length);
  const qv = new Float64Array(d);
  const acc = new Float64Array(d);
  for (let b = 0; b < batch; b++) {
    const s = sequence(c, b);
    const scores = new Float64Array(Math.max(1, s.lenK));
    for (let h = 0; h < headsQ; h++) {
      const kvHead = Math.floor(h / group);
      const kBase = (c.k.offset ?? 0) + s.kBase * c.k.rowStride + s.kBatch * c.k.batchStride + kvHead * c.k.headStride;
      const vBase = (c.v.offset ?? 0) + s.kBase * c.v.rowStride + s.kBatch * c.v.batchStride + kvHead * c.v.headStride;
      rows.forEach((row, r) => {
        const at = (b * headsQ + h) * rows.length + r;
        const out = o.subarray(at * d, (at + 1) * d);
        if (!Number.isInteger(row) || row < 0 || row >= s.lenQ) {
          out.fill(NaN);
          lse[at] = NaN;
          return;
        }
        const { lo, hi } = visibleKeys(row, s.lenQ, s.lenK, c);
        if (hi < lo) {
          lse[at] = -Infinity; // out stays 0
          return;
        }
        const qBase = (c.q.offset ?? 0) + (s.qBase + row) * c.q.rowStride + s.qBatch * c.q.batchStride + h * c.q.headStride;
        for (let x = 0; x < d; x++) qv[x] = c.q.data[qBase + x];
        let max = -Infinity;
        for (let j = lo; j <= hi; j++) {
          const kr = kBase + j * c.k.rowStride;
          let dot = 0;
          for (let x = 0; x < d; x++) dot += qv[x] * c.k.data[kr + x];
          let logit = dot * c.scale;
          if (c.softcap > 0) logit = c.softcap * Math.tanh(logit / c.softcap);
          scores[j - lo] = logit;
          if (logit > max) max = logit;
        }
        let sum = 0;
        acc.fill(0);
        for (let j = lo; j <= hi; j++) {
          const p = Math.exp(scores[j - lo] - max);
          sum += p;
          const vr = vBase + j * c.v.rowStride;
          for (let x = 0; x < d; x++) acc[x] += p * c.v.data[vr + x];
        }
        for (let x = 0; x < d; x++) out[x] = acc[x] / sum;
        lse[at] = max + Math.log(sum);
      });
    }
  }
  return { o, lse };
}

/** Lengths of batch element b and where its rows start: a batch index (fixed lengths) or a token
 * index (packed). */
function sequence(c: GeneralCase, b: number) {
  if (c.cuSeqlensQ === undefined || c.cuSeqlensK === undefined)
    return { lenQ: c.seqQ, lenK: c.seqK, qBatch: b, kBatch: b, qBase: 0, kBase: 0 };
  const cq = c.cuSeqlensQ;
  const ck = c.cuSeqlensK;
  return { lenQ: cq[b + 1] - cq[b], lenK: ck[b + 1] - ck[b], qBatch: 0, kBatch: 0, qBase: cq[b], kBase: ck[b] };
}

/** The operand view of data in the logical order of a tensor of `shape` (what
 * Tensor.toFloat32Array() returns): [B, N, H, D] ('bnhd'), [B, H, N, D] ('bhnd') or a packed
 * [total, H, D] ('packed'). */
export function denseOperand(data: Float32Array, shape: readonly number[], form: 'bnhd' | 'bhnd' | 'packed'): HostOperand {
  const rank = form === 'packed' ? 3 : 4;
  if (shape.length !== rank) throw new RangeError(`denseOperand: a '${form}' operand has rank ${rank}, got shape [${shape.join(', ')}]`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new RangeError(`denseOperand: data has ${data.length} elements but shape [${shape.join(', ')}] has ${count}`);
  const d = shape[rank - 1];
  if (form === 'packed') return { data, batchStride: 0, rowStride: shape[1] * d, headStride: d };
  const inner = shape[1] * shape[2] * d;
  return form === 'bnhd'
    ? { data, batchStride: inner, rowStride: shape[2] * d, headStride: d }
    : { data, batchStride: inner, rowStride: d, headStride: shape[2] * d };
}

/** The case an AttentionProblem describes, over host copies of its operands in logical order
 * (each tensor's toFloat32Array()). A packed batch's offsets are read from its cuSeqlens tensors
 * (a device read) unless given. */
export function generalCase(
  p: AttentionProblem,
  host: { q: Float32Array; k: Float32Array; v: Float32Array; cuSeqlensQ?: ArrayLike<number>; cuSeqlensK?: ArrayLike<number> },
): GeneralCase {
  const form = p.varlen ? 'packed' : p.layout;
  const mask = { causal: p.causal, window: p.window, softcap: p.softcap, scale: p.scale };
  const sizes = { batch: p.batch, headsQ: p.headsQ, headsKV: p.headsKV, headDim: p.headDim, seqQ: p.seqQ, seqK: p.seqK };
  const operands = {
    q: denseOperand(host.q, p.q.tensor.shape, form),
    k: denseOperand(host.k, p.k.tensor.shape, form),
    v: denseOperand(host.v, p.v.tensor.shape, form),
  };
  if (!p.varlen) return { ...operands, ...sizes, ...mask };
  return {
    ...operands, ...sizes, ...mask,
    cuSeqlensQ: host.cuSeqlensQ ?? p.varlen.cuSeqlensQ.toInt32Array(),
    cuSeqlensK: host.cuSeqlensK ?? p.varlen.cuSeqlensK.toInt32Array(),
  };
}
