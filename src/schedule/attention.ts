// The attention problem shared by the CPU interpreter and its reference: shapes, the mask
// and the trip count. Kept in one place so that both sides mask exactly the same columns.

export interface AttentionProblem {
  /** seqQ x headDim, row-major, one head. */
  q: Float32Array;
  /** seqK x headDim, row-major. */
  k: Float32Array;
  v: Float32Array;
  seqQ: number;
  seqK: number;
  headDim: number;
  /** Causal aligned top-left: query row i sees key columns <= i. */
  causal: boolean;
  /** Softmax scale, usually 1 / sqrt(headDim). */
  scale: number;
}

export interface AttentionResult {
  /** seqQ x headDim, row-major. */
  o: Float32Array;
  /** Natural-log log-sum-exp of the scaled, masked scores, one per query row. */
  lse: Float32Array;
}

export function isMasked(p: Pick<AttentionProblem, 'seqK' | 'causal'>, row: number, col: number): boolean {
  return col >= p.seqK || (p.causal && col > row);
}

/**
 * KV tiles a query block ending at row lastRow (inclusive) must visit: all of them, or for
 * causal only those with some column <= lastRow.
 */
export function kvTileCount(p: Pick<AttentionProblem, 'seqK' | 'causal'>, blockN: number, lastRow: number): number {
  const cols = p.causal ? Math.min(p.seqK, lastRow + 1) : p.seqK;
  return Math.ceil(cols / blockN);
}

/** Plain, unpipelined attention in float64: the answer the interpreter must reproduce. */
export function referenceAttention(p: AttentionProblem): AttentionResult {
  const { q, k, v, seqQ, seqK, headDim: D, scale } = p;
  const o = new Float32Array(seqQ * D);
  const lse = new Float32Array(seqQ);
  const scores = new Float64Array(seqK);
  for (let r = 0; r < seqQ; r++) {
    let max = -Infinity;
    for (let c = 0; c < seqK; c++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += q[r * D + d] * k[c * D + d];
      scores[c] = isMasked(p, r, c) ? -Infinity : dot * scale;
      max = Math.max(max, scores[c]);
    }
    let sum = 0;
    const out = new Float64Array(D);
    for (let c = 0; c < seqK; c++) {
      const w = scores[c] === -Infinity ? 0 : Math.exp(scores[c] - max);
      sum += w;
      for (let d = 0; d < D; d++) out[d] += w * v[c * D + d];
    }
    for (let d = 0; d < D; d++) o[r * D + d] = out[d] / sum;
    lse[r] = max + Math.log(sum);
  }
  return { o, lse };
}
