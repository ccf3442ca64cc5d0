// The fp32 reference for a slice of rows of one head: plain, unpipelined softmax(Q K^T * scale) V.

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
