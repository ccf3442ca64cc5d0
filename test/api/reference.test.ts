// The general CPU reference (referenceGeneral) against a brute-force reading of FlashAttention's
// definition on tiny cases: every key tested against the mask formula one by one, a naive softmax,
// operands addressed through a value function rather than strides. Storage padding is NaN, so a
// read outside an operand shows up in the output.
import { describe, expect, it } from 'vitest';
import { attentionProblem, varlenProblem } from '../../src/api/problem.js';
import {
  denseOperand, generalCase, referenceGeneral, referenceRows, visibleKeys,
  type GeneralCase, type HostOperand,
} from '../../src/api/reference.js';
import { hostTensor } from './host_storage.js';
import { seededRandom as rng } from '../../src/api/random.js';

interface Spec {
  batch: number;
  hq: number;
  hkv: number;
  d: number;
  /** Per batch element. For a fixed-length batch every entry is the same. */
  lensQ: number[];
  lensK: number[];
  packed: boolean;
  layout: 'bnhd' | 'bhnd';
  causal: boolean;
  window: [number, number] | null;
  softcap: number;
  scale: number;
}

type Role = 'q' | 'k' | 'v';
type Values = (role: Role, b: number, row: number, head: number, x: number) => number;

/** The case over padded, NaN-poisoned storage holding `val`, and rows 0..max-1 plus two outside. */
function build(spec: Spec, val: Values): { c: GeneralCase; rows: number[] } {
  const offsets = (lens: number[]) => lens.reduce((acc, n) => [...acc, acc[acc.length - 1] + n], [0]);
  const cuQ = offsets(spec.lensQ);
  const cuK = offsets(spec.lensK);
  const operand = (role: Role, lens: number[], cu: number[], heads: number): HostOperand => {
    const rowsPer = spec.packed ? cu[cu.length - 1] : lens[0];
    const batches = spec.packed ? 1 : spec.batch;
    const pad = 3;
    const [rowStride, headStride] = spec.layout === 'bnhd' ? [heads * (spec.d + pad) + 1, spec.d + pad] : [spec.d + pad, rowsPer * (spec.d + pad) + 2];
    const batchStride = spec.packed ? 0 : Math.max(rowsPer * rowStride, heads * headStride) + 7;
    const offset = 5;
    const data = new Float32Array(offset + batches * (batchStride + rowsPer * rowStride + heads * headStride) + 64).fill(NaN);
    for (let b = 0; b < spec.batch; b++)
      for (let n = 0; n < lens[b]; n++)
        for (let h = 0; h < heads; h++)
          for (let x = 0; x < spec.d; x++) {
            const at = spec.packed ? offset + (cu[b] + n) * rowStride + h * headStride + x : offset + b * batchStride + n * rowStride + h * headStride + x;
            data[at] = val(role, b, n, h, x);
          }
    return { data, batchStride, rowStride, headStride, offset };
  };
  const c: GeneralCase = {
    q: operand('q', spec.lensQ, cuQ, spec.hq),
    k: operand('k', spec.lensK, cuK, spec.hkv),
    v: operand('v', spec.lensK, cuK, spec.hkv),
    batch: spec.batch, headsQ: spec.hq, headsKV: spec.hkv, headDim: spec.d,
    seqQ: Math.max(...spec.lensQ), seqK: Math.max(...spec.lensK),
    ...(spec.packed ? { cuSeqlensQ: cuQ, cuSeqlensK: cuK } : {}),
    causal: spec.causal, window: spec.window, softcap: spec.softcap, scale: spec.scale,
  };
  const rows = [...Array.from({ length: c.seqQ }, (_, i) => i), c.seqQ, -1];
  return { c, rows };
}

/** FlashAttention's definition, key by key, with a naive softmax (fine for |logit| << 88). */
function brute(spec: Spec, val: Values, rows: number[]): { o: Float64Array; lse: Float64Array } {
  const { d } = spec;
  const o = new Float64Array(spec.batch * spec.hq * rows.length * d);
  const lse = new Float64Array(spec.batch * spec.hq * rows.length);
  for (let b = 0; b < spec.batch; b++)
    for (let h = 0; h < spec.hq; h++)
      rows.forEach((i, r) => {
        const at = (b * spec.hq + h) * rows.length + r;
        const nq = spec.lensQ[b];
        const nk = spec.lensK[b];
        if (i < 0 || i >= nq) {
          o.fill(NaN, at * d, (at + 1) * d);
          lse[at] = NaN;
          return;
        }
        const kvh = Math.floor(h / (spec.hq / spec.hkv));
        const diag = i + nk - nq;
        let z = 0;
        for (let j = 0; j < nk; j++) {
          const visible =
            (!spec.causal || j <= diag) &&
            (spec.window === null || ((spec.window[0] === -1 || j >= diag - spec.window[0]) && (spec.window[1] === -1 || j <= diag + spec.window[1])));
          if (!visible) continue;
          let s = 0;
          for (let x = 0; x < d; x++) s += val('q', b, i, h, x) * val('k', b, j, kvh, x);
          s *= spec.scale;
          if (spec.softcap > 0) s = spec.softcap * Math.tanh(s / spec.softcap);
          const w = Math.exp(s);
          z += w;
          for (let x = 0; x < d; x++) o[at * d + x] += w * val('v', b, j, kvh, x);
        }
        if (z === 0) {
          lse[at] = -Infinity;
          return;
        }
        for (let x = 0; x < d; x++) o[at * d + x] /= z;
        lse[at] = Math.log(z);
      });
  return { o, lse };
}

function randomValues(seed: number, magnitude = 1): Values {
  const cache = new Map<string, number>();
  const random = rng(seed);
  return (role, b, n, h, x) => {
    const key = `${role}${b},${n},${h},${x}`;
    let v = cache.get(key);
    if (v === undefined) cache.set(key, (v = Math.fround((random() * 2 - 1) * magnitude)));
    return v;
  };
}

function expectClose(got: Float32Array, want: Float64Array, what: string, tol = 2e-6): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i])) expect(got[i], `${what}[${i}] should be the NaN marker`).toBeNaN();
    else if (!Number.isFinite(want[i])) expect(got[i], `${what}[${i}]`).toBe(want[i]);
    else expect(Math.abs(got[i] - want[i]), `${what}[${i}]: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i])));
  }
}

const base: Spec = {
  batch: 2, hq: 4, hkv: 2, d: 8, lensQ: [6, 6], lensK: [9, 9], packed: false, layout: 'bnhd',
  causal: false, window: null, softcap: 0, scale: 0.5,
};

describe('visibleKeys: the mask as a range', () => {
  it('equals the key-by-key definition for every row, length pair, causal flag and window', () => {
    const windows: ([number, number] | null)[] = [null, [-1, -1], [0, 0], [2, -1], [-1, 1], [3, 2], [0, 5], [7, 0]];
    for (let nq = 1; nq <= 7; nq++)
      for (let nk = 0; nk <= 7; nk++)
        for (const causal of [false, true])
          for (const window of windows)
            for (let i = 0; i < nq; i++) {
              const diag = i + nk - nq;
              const want = Array.from({ length: nk }, (_, j) => j).filter(
                (j) => (!causal || j <= diag) && (!window || ((window[0] === -1 || j >= diag - window[0]) && (window[1] === -1 || j <= diag + window[1]))),
              );
              const { lo, hi } = visibleKeys(i, nq, nk, { causal, window });
              const got = Array.from({ length: Math.max(0, hi - lo + 1) }, (_, j) => lo + j);
              expect(got, `nq=${nq} nk=${nk} causal=${causal} window=${JSON.stringify(window)} row ${i}`).toEqual(want);
            }
  });

  it('aligns the causal diagonal to the bottom right', () => {
    expect(visibleKeys(0, 2, 5, { causal: true, window: null })).toEqual({ lo: 0, hi: 3 });
    expect(visibleKeys(0, 5, 2, { causal: true, window: null }).hi).toBe(-3); // sees nothing
    expect(visibleKeys(4, 5, 2, { causal: true, window: null })).toEqual({ lo: 0, hi: 1 });
  });
});

describe('referenceGeneral against the brute-force definition', () => {
  const cases: [string, Partial<Spec>][] = [
    ['MHA, Nq < Nk', { hq: 2, hkv: 2 }],
    ['bhnd', { layout: 'bhnd' }],
    ['GQA 4:1 (MQA), causal, Nq < Nk', { hq: 4, hkv: 1, causal: true }],
    ['GQA 3:1, causal, Nq > Nk (rows that see nothing)', { hq: 3, hkv: 1, causal: true, lensQ: [9, 9], lensK: [4, 4] }],
    ['window [2, 1]', { window: [2, 1] }],
    ['window [0, 0], bhnd', { window: [0, 0], layout: 'bhnd' }],
    ['window [-1, 0] (causal by window), Nq > Nk', { window: [-1, 0], lensQ: [8, 8], lensK: [5, 5] }],
    ['causal + window [1, -1]', { causal: true, window: [1, -1] }],
    ['window [3, -1] past the keys: the first rows of Nq > Nk see nothing', { window: [3, -1], causal: true, lensQ: [10, 10], lensK: [3, 3] }],
    ['softcap 0.7 (active: |logit| near it)', { softcap: 0.7, scale: 2 }],
    ['softcap + causal + window + GQA', { softcap: 1.5, causal: true, window: [2, 2], hq: 6, hkv: 3 }],
    ['packed, zero-length members on both sides', { packed: true, batch: 4, lensQ: [3, 0, 5, 2], lensK: [4, 6, 0, 7], causal: true }],
    ['packed bhnd-free, window and softcap, GQA', { packed: true, batch: 3, lensQ: [7, 1, 4], lensK: [2, 9, 4], window: [1, 2], softcap: 2, hq: 4, hkv: 2 }],
    ['single key, single query', { lensQ: [1, 1], lensK: [1, 1] }],
  ];
  it.each(cases)('%s', (_, over) => {
    const spec = { ...base, ...over };
    const val = randomValues(7);
    const { c, rows } = build(spec, val);
    const got = referenceGeneral(c, rows);
    const want = brute(spec, val, rows);
    expectClose(got.o, want.o, 'o');
    expectClose(got.lse, want.lse, 'lse');
  });

  it('a row that sees no key: O = 0 exactly and LSE = -Infinity, never NaN', () => {
    const spec: Spec = { ...base, batch: 1, hq: 1, hkv: 1, lensQ: [5], lensK: [2], causal: true };
    const { c } = build(spec, randomValues(3));
    const r = referenceGeneral(c, [0, 1, 2, 3, 4]);
    // diag = i - 3: rows 0..2 see nothing; row 3 sees key 0; row 4 sees keys 0 and 1.
    expect(Array.from(r.lse.subarray(0, 3))).toEqual([-Infinity, -Infinity, -Infinity]);
    expect(Array.from(r.o.subarray(0, 3 * 8)).every((x) => Object.is(x, 0))).toBe(true);
    expect(Number.isFinite(r.lse[3]) && Number.isFinite(r.lse[4])).toBe(true);
    // One visible key: O is its V row exactly, LSE its logit.
    const vRow = Array.from({ length: 8 }, (_, x) => c.v.data[(c.v.offset ?? 0) + x]);
    expect(Array.from(r.o.subarray(3 * 8, 4 * 8))).toEqual(vRow);
  });

  it('a packed member with no keys: every row O = 0, LSE = -inf; a member with no queries: NaN marker', () => {
    const spec: Spec = { ...base, packed: true, batch: 3, hq: 2, hkv: 1, lensQ: [2, 3, 0], lensK: [0, 4, 5] };
    const { c } = build(spec, randomValues(11));
    const r = referenceGeneral(c, [0, 1, 2]);
    const lse = (b: number, h: number) => Array.from(r.lse.subarray((b * 2 + h) * 3, (b * 2 + h + 1) * 3));
    expect(lse(0, 0)).toEqual([-Infinity, -Infinity, NaN]); // rows 0, 1 see nothing; row 2 is past the 2 queries
    expect(lse(1, 1).every(Number.isFinite)).toBe(true);
    expect(lse(2, 0).every(Number.isNaN)).toBe(true);
  });

  it('inputs of large magnitude: no overflow, and a dominant key gives its V row', () => {
    // Logits in the thousands: exp without the max subtracted would be Infinity.
    const spec: Spec = { ...base, batch: 1, hq: 2, hkv: 1, lensQ: [4], lensK: [6], causal: true, d: 16, scale: 0.25 };
    const val = randomValues(5, 30);
    const { c } = build(spec, val);
    const r = referenceGeneral(c, [0, 1, 2, 3]);
    for (let h = 0; h < 2; h++)
      for (let i = 0; i < 4; i++) {
        const at = h * 4 + i;
        const logits = Array.from({ length: i + 3 }, (_, j) => spec.scale * Array.from({ length: 16 }, (_, x) => val('q', 0, i, h, x) * val('k', 0, j, 0, x)).reduce((a, b) => a + b));
        const best = logits.indexOf(Math.max(...logits));
        const second = Math.max(...logits.filter((_, j) => j !== best));
        expect(Number.isFinite(r.lse[at])).toBe(true);
        expect(r.lse[at]).toBeGreaterThanOrEqual(Math.fround(logits[best]) - 1e-3);
        if (logits[best] - second > 40)
          for (let x = 0; x < 16; x++) expect(r.o[at * 16 + x]).toBeCloseTo(val('v', 0, best, 0, x), 5);
      }
  });

  it('bnhd and bhnd storage of the same values give the same result', () => {
    const val = randomValues(9);
    const a = build({ ...base, causal: true, window: [3, 1] }, val);
    const b = build({ ...base, causal: true, window: [3, 1], layout: 'bhnd' }, val);
    expect(referenceGeneral(b.c, b.rows)).toEqual(referenceGeneral(a.c, a.rows));
  });

  it('agrees with referenceRows where both apply (one head, Nq = Nk)', () => {
    const n = 11;
    const d = 8;
    const random = rng(21);
    const [q, k, v] = [0, 1, 2].map(() => Float32Array.from({ length: n * d }, () => random() * 2 - 1));
    for (const causal of [false, true]) {
      const rows = [0, 3, 10];
      const qRows = new Float32Array(rows.length * d);
      rows.forEach((r, i) => qRows.set(q.subarray(r * d, (r + 1) * d), i * d));
      const old = referenceRows({ q: qRows, k, v, rows, n, d, causal, scale: 0.3 });
      const op = (data: Float32Array) => denseOperand(data, [1, n, 1, d], 'bnhd');
      const general = referenceGeneral(
        { q: op(q), k: op(k), v: op(v), batch: 1, headsQ: 1, headsKV: 1, headDim: d, seqQ: n, seqK: n, causal, window: null, softcap: 0, scale: 0.3 },
        rows,
      );
      expect(general).toEqual(old);
    }
  });

  it('checks what it is given', () => {
    const { c } = build(base, randomValues(1));
    expect(() => referenceGeneral({ ...c, cuSeqlensQ: [0, 6, 12] }, [0])).toThrow(/give both cuSeqlensQ and cuSeqlensK or neither/);
    expect(() => referenceGeneral({ ...c, headsKV: 3 }, [0])).toThrow(/headsQ \(4\) must be a multiple of headsKV \(3\)/);
    expect(() => denseOperand(new Float32Array(6), [1, 2, 3], 'bnhd')).toThrow(/a 'bnhd' operand has rank 4, got shape \[1, 2, 3\]/);
    expect(() => denseOperand(new Float32Array(5), [1, 2, 3], 'packed')).toThrow(/data has 5 elements but shape \[1, 2, 3\] has 6/);
  });
});

describe('generalCase: the case an AttentionProblem describes', () => {
  const random = rng(33);
  const fill = (shape: number[], dtype: 'f16' | 'i32' = 'f16') => {
    const { t } = hostTensor(shape, { dtype });
    return t;
  };
  const values = (t: ReturnType<typeof fill>) => {
    const data = Float32Array.from({ length: t.numel }, () => Math.round((random() * 2 - 1) * 64) / 64); // exact in f16
    t.write(data);
    return data;
  };

  it('both layouts (one a transposed view) give the same O and LSE for the same logical data', () => {
    const q = fill([2, 4, 5, 64]); // bhnd storage
    const k = fill([2, 2, 7, 64]);
    const v = fill([2, 2, 7, 64]);
    [q, k, v].forEach(values);
    const opts = { causal: true, window: [3, 1] as [number, number], softcap: 20 };
    const direct = attentionProblem(q, k, v, { ...opts, layout: 'bhnd' });
    const viewed = attentionProblem(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), opts);
    const host = (p: typeof direct) => ({ q: p.q.tensor.toFloat32Array(), k: p.k.tensor.toFloat32Array(), v: p.v.tensor.toFloat32Array() });
    const rows = [0, 2, 4];
    const a = referenceGeneral(generalCase(direct, host(direct)), rows);
    const b = referenceGeneral(generalCase(viewed, host(viewed)), rows);
    expect(b).toEqual(a);
    expect(a.lse.every(Number.isFinite)).toBe(true);
  });

  it('a packed problem reads its offsets from the cuSeqlens tensors', () => {
    const q = fill([6, 2, 64]);
    const kv = fill([9, 1, 64]);
    [q, kv].forEach(values);
    const cuQ = fill([3], 'i32');
    const cuK = fill([3], 'i32');
    cuQ.write(Int32Array.from([0, 4, 6]));
    cuK.write(Int32Array.from([0, 0, 9]));
    const p = varlenProblem(q, kv, kv, { cuSeqlensQ: cuQ, cuSeqlensK: cuK, maxSeqlenQ: 4, maxSeqlenK: 9, causal: true });
    const c = generalCase(p, { q: q.toFloat32Array(), k: kv.toFloat32Array(), v: kv.toFloat32Array() });
    expect([Array.from(c.cuSeqlensQ!), Array.from(c.cuSeqlensK!)]).toEqual([[0, 4, 6], [0, 0, 9]]);
    const r = referenceGeneral(c, [0, 1, 2, 3]);
    expect(Array.from(r.lse.subarray(0, 4))).toEqual([-Infinity, -Infinity, -Infinity, -Infinity]); // sequence 0 has no keys
    expect(r.lse.subarray(8, 10).every(Number.isFinite)).toBe(true); // sequence 1, rows 0..1
    expect(r.lse.subarray(10, 12).every(Number.isNaN)).toBe(true); // rows 2..3 are past its 2 queries
  });
});
