// The general GPU reference (attention_reference_general) against the CPU one (referenceGeneral) on
// small random problems: both layouts, strided views (transposed, packed QKV, a slice of a wider
// head dim), GQA and MQA, Nq != Nk both ways, causal, windows, softcap, packed batches with
// zero-length members, rows outside their sequence (the NaN marker), and inputs of large
// magnitude, where a softmax without the max subtracted would overflow. Outputs start poisoned, so
// a row the kernel skips cannot pass. The GPU reads the tensors through their strides; the CPU reads
// the same values gathered into logical order (toFloat32Array), so a stride mix-up cannot cancel.
//
// STAGEWISE_TEST_SEED fixes the inputs (printed at the start); a failure prints the case and seed.
import { expect, it } from 'vitest';
import { attentionProblem, varlenProblem, type AttentionProblem } from '../../src/api/problem.js';
import { generalCase, referenceGeneral } from '../../src/api/reference.js';
import { launchGeneralReference } from '../../src/api/reference_gpu.js';
import { Tensor } from '../../src/api/tensor.js';
import { DeviceBuffer, synchronize } from '../../src/runtime/index.js';
import { describeGpu } from '../gpu.js';
import { seededRandom as rng } from '../../src/api/random.js';

const SEED = Number(process.env.STAGEWISE_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`[stagewise] reference.gpu.test seed ${SEED} (STAGEWISE_TEST_SEED=${SEED} reproduces the inputs)`);

type Form = 'bnhd' | 'bhnd' | 'packed';
type View = 'contiguous' | 'transposed' | 'sliced' | 'qkv';

interface Case {
  name: string;
  dtype: 'f16' | 'bf16';
  form: Form;
  view: View;
  batch: number;
  hq: number;
  hkv: number;
  d: 64 | 128 | 256;
  /** Fixed lengths (bnhd/bhnd). */
  nq?: number;
  nk?: number;
  /** Per sequence (packed). */
  lensQ?: number[];
  lensK?: number[];
  causal?: boolean;
  window?: [number, number];
  softcap?: number;
  /** Inputs are roughly N(0, 1) times this. */
  magnitude?: number;
}

const CASES: Case[] = [
  { name: 'bnhd MHA', dtype: 'f16', form: 'bnhd', view: 'contiguous', batch: 2, hq: 2, hkv: 2, d: 64, nq: 37, nk: 37 },
  { name: 'bhnd GQA 8:2 causal, Nq < Nk', dtype: 'bf16', form: 'bhnd', view: 'contiguous', batch: 2, hq: 8, hkv: 2, d: 128, nq: 17, nk: 45, causal: true },
  { name: 'bnhd MQA 4:1 causal, Nq > Nk (rows that see nothing)', dtype: 'f16', form: 'bnhd', view: 'transposed', batch: 1, hq: 4, hkv: 1, d: 64, nq: 45, nk: 17, causal: true },
  { name: 'bhnd transposed views, GQA 2:1, Nq > Nk', dtype: 'bf16', form: 'bhnd', view: 'transposed', batch: 2, hq: 6, hkv: 3, d: 64, nq: 29, nk: 11 },
  { name: 'bnhd window [8, 3], d 256', dtype: 'bf16', form: 'bnhd', view: 'contiguous', batch: 1, hq: 2, hkv: 2, d: 256, nq: 50, nk: 50, window: [8, 3] },
  { name: 'bhnd causal + window [5, -1], GQA 2:1, Nq < Nk', dtype: 'f16', form: 'bhnd', view: 'sliced', batch: 1, hq: 6, hkv: 3, d: 64, nq: 30, nk: 60, causal: true, window: [5, -1] },
  { name: 'bnhd window [-1, 0], Nq > Nk', dtype: 'f16', form: 'bnhd', view: 'sliced', batch: 2, hq: 2, hkv: 1, d: 128, nq: 40, nk: 20, window: [-1, 0] },
  { name: 'bnhd window [0, 0] (only the diagonal)', dtype: 'bf16', form: 'bnhd', view: 'contiguous', batch: 1, hq: 2, hkv: 2, d: 64, nq: 20, nk: 33, window: [0, 0] },
  { name: 'bnhd packed QKV, causal, softcap 5', dtype: 'f16', form: 'bnhd', view: 'qkv', batch: 2, hq: 4, hkv: 4, d: 64, nq: 31, nk: 31, causal: true, softcap: 5 },
  { name: 'bnhd softcap 30 at magnitude 30', dtype: 'bf16', form: 'bnhd', view: 'contiguous', batch: 1, hq: 4, hkv: 2, d: 128, nq: 24, nk: 40, softcap: 30, magnitude: 30 },
  { name: 'bhnd magnitude 30, causal (overflows without the max)', dtype: 'f16', form: 'bhnd', view: 'contiguous', batch: 2, hq: 2, hkv: 1, d: 128, nq: 33, nk: 33, causal: true, magnitude: 30 },
  { name: 'bnhd magnitude 30, window, d 256', dtype: 'bf16', form: 'bnhd', view: 'transposed', batch: 1, hq: 2, hkv: 1, d: 256, nq: 16, nk: 48, window: [4, 4], magnitude: 30 },
  { name: 'packed causal GQA 4:2, zero-length members both sides', dtype: 'f16', form: 'packed', view: 'contiguous', batch: 4, hq: 4, hkv: 2, d: 64, lensQ: [5, 0, 17, 9], lensK: [12, 7, 0, 30], causal: true },
  { name: 'packed window [4, 4] + softcap 20, magnitude 30', dtype: 'bf16', form: 'packed', view: 'transposed', batch: 3, hq: 2, hkv: 1, d: 128, lensQ: [13, 1, 20], lensK: [6, 25, 20], window: [4, 4], softcap: 20, magnitude: 30 },
  { name: 'packed QKV, MQA-free MHA, causal, Nq = Nk per sequence', dtype: 'f16', form: 'packed', view: 'qkv', batch: 3, hq: 2, hkv: 2, d: 64, lensQ: [9, 0, 14], lensK: [9, 0, 14], causal: true },
  { name: 'packed sliced, bf16, one sequence', dtype: 'bf16', form: 'packed', view: 'sliced', batch: 1, hq: 8, hkv: 1, d: 64, lensQ: [21], lensK: [35] },
];

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Device tensors for one case: the logical shapes of the form, laid out as the view says. */
function operands(c: Case, random: () => number, owned: Tensor[]) {
  const normal = () => (random() + random() + random() + random() - 2) * 1.7320508 * (c.magnitude ?? 1);
  const upload = (shape: number[]) => {
    const t = Tensor.from(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, normal), { dtype: c.dtype, shape });
    owned.push(t);
    return t;
  };
  const packed = c.form === 'packed';
  const rowsQ = packed ? sum(c.lensQ!) || 1 : c.nq!;
  const rowsK = packed ? sum(c.lensK!) || 1 : c.nk!;
  // Logical shapes: [B, N, H, D], [B, H, N, D] or [T, H, D]; n and h say where N and H sit.
  const logical = (rows: number, heads: number) =>
    packed ? [rows, heads, c.d] : c.form === 'bnhd' ? [c.batch, rows, heads, c.d] : [c.batch, heads, rows, c.d];
  const [n, h] = packed ? [0, 1] : c.form === 'bnhd' ? [1, 2] : [2, 1];
  const make = (rows: number, heads: number): Tensor => {
    const shape = logical(rows, heads);
    switch (c.view) {
      case 'contiguous':
        return upload(shape);
      case 'transposed': {
        const swapped = [...shape];
        [swapped[n], swapped[h]] = [swapped[h], swapped[n]];
        return upload(swapped).transpose(n, h);
      }
      case 'sliced': {
        const wide = [...shape];
        wide[wide.length - 1] = 2 * c.d;
        return upload(wide).slice(-1, c.d, 2 * c.d);
      }
      case 'qkv':
        throw new Error('qkv views are made together');
    }
  };
  if (c.view === 'qkv') {
    if (c.hq !== c.hkv || rowsQ !== rowsK) throw new Error(`${c.name}: a packed QKV view needs Hq = Hkv and equal lengths`);
    const shape = logical(rowsQ, c.hq);
    const fused = upload([...shape.slice(0, n + 1), 3, ...shape.slice(n + 1)]); // [.., N, 3, H, D]
    const [q, k, v] = [0, 1, 2].map((i) => fused.select(n + 1, i));
    return { q, k, v };
  }
  return { q: make(rowsQ, c.hq), k: make(rowsK, c.hkv), v: make(rowsK, c.hkv) };
}

function problemOf(c: Case, t: { q: Tensor; k: Tensor; v: Tensor }, owned: Tensor[]): AttentionProblem {
  const opts = { causal: c.causal ?? false, window: c.window, softcap: c.softcap };
  if (c.form !== 'packed') return attentionProblem(t.q, t.k, t.v, { ...opts, layout: c.form });
  const offsets = (lens: number[]) => Int32Array.from(lens.reduce((acc, x) => [...acc, acc[acc.length - 1] + x], [0]));
  const cuSeqlensQ = Tensor.from(offsets(c.lensQ!), { dtype: 'i32' });
  const cuSeqlensK = Tensor.from(offsets(c.lensK!), { dtype: 'i32' });
  owned.push(cuSeqlensQ, cuSeqlensK);
  return varlenProblem(t.q, t.k, t.v, {
    ...opts, cuSeqlensQ, cuSeqlensK, maxSeqlenQ: Math.max(...c.lensQ!), maxSeqlenK: Math.max(...c.lensK!),
  });
}

// fp32 on the GPU against float64 on the CPU, from identical 16-bit inputs. O is a convex
// combination of V rows, so its error is measured against the largest |V|; logits of magnitude-30
// inputs reach the thousands, where fp32's dot products lose about 1e-4 of a logit.
function tolerances(c: Case) {
  return (c.magnitude ?? 1) > 1 ? { o: 1e-3, lseAbs: 1e-3, lseRel: 1e-5 } : { o: 2e-5, lseAbs: 2e-5, lseRel: 1e-6 };
}

const POISON = 0x7149f2ca; // 1e30 as f32 bits: a row the kernel never writes cannot match

async function runCase(c: Case, seed: number): Promise<void> {
  const owned: Tensor[] = [];
  const buffers: DeviceBuffer[] = [];
  try {
    const t = operands(c, rng(seed), owned);
    const p = problemOf(c, t, owned);
    const rows = [...Array.from({ length: p.seqQ }, (_, i) => i), p.seqQ, -1]; // the last two: the NaN marker
    const outputs = p.batch * p.headsQ * rows.length;
    const rowBuf = DeviceBuffer.alloc(rows.length * 4);
    const o = DeviceBuffer.alloc(outputs * p.headDim * 4);
    const lse = DeviceBuffer.alloc(outputs * 4);
    buffers.push(rowBuf, o, lse);
    rowBuf.upload(Int32Array.from(rows));
    o.memset32(POISON);
    lse.memset32(POISON);
    await launchGeneralReference({ problem: p, rows: rowBuf, rowCount: rows.length, o, lse });
    synchronize();
    const gotO = new Float32Array(outputs * p.headDim);
    const gotL = new Float32Array(outputs);
    o.download(gotO);
    lse.download(gotL);

    const host = { q: t.q.toFloat32Array(), k: t.k.toFloat32Array(), v: t.v.toFloat32Array() };
    const want = referenceGeneral(generalCase(p, host), rows);
    const vmax = host.v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const tol = tolerances(c);
    const where = (i: number) => {
      const r = i % rows.length;
      const h = Math.floor(i / rows.length) % p.headsQ;
      const b = Math.floor(i / rows.length / p.headsQ);
      return `${c.name} (seed ${seed}): batch ${b} head ${h} row ${rows[r]}`;
    };
    let empty = 0;
    let marked = 0;
    for (let i = 0; i < outputs; i++) {
      const [g, w] = [gotL[i], want.lse[i]];
      if (Number.isNaN(w)) {
        marked++;
        expect(g, `${where(i)}: LSE should be the NaN marker`).toBeNaN();
      } else if (w === -Infinity) {
        empty++;
        expect(g, `${where(i)}: a row that sees no key has LSE -inf`).toBe(-Infinity);
      } else {
        expect(Math.abs(g - w), `${where(i)}: LSE ${g} vs ${w}`).toBeLessThanOrEqual(tol.lseAbs + tol.lseRel * Math.abs(w));
      }
      for (let x = 0; x < p.headDim; x++) {
        const [go, wo] = [gotO[i * p.headDim + x], want.o[i * p.headDim + x]];
        if (Number.isNaN(wo)) {
          if (!Number.isNaN(go)) expect.fail(`${where(i)}: O[${x}] = ${go} should be the NaN marker`);
        } else if (Math.abs(go - wo) > tol.o * vmax) {
          expect.fail(`${where(i)}: O[${x}] = ${go} vs ${wo} (tolerance ${tol.o} x max|V| ${vmax})`);
        }
      }
    }
    // Every case checks the marker rows; the ones built for it check rows that see nothing.
    expect(marked).toBeGreaterThanOrEqual(2 * p.batch * p.headsQ);
    if (/see nothing|zero-length/.test(c.name)) expect(empty, `${c.name}: no row saw nothing`).toBeGreaterThan(0);
  } finally {
    buffers.forEach((b) => b.dispose());
    owned.forEach((t) => t.dispose());
  }
}

describeGpu('the general GPU reference matches the CPU reference', () => {
  CASES.forEach((c, i) => it(c.name, () => runCase(c, (SEED + i * 0x9e3779b9) >>> 0)));

  it('the buffers it writes must be large enough', async () => {
    const owned: Tensor[] = [];
    const rows = DeviceBuffer.alloc(4);
    const o = DeviceBuffer.alloc(4);
    const lse = DeviceBuffer.alloc(4);
    try {
      const t = operands(CASES[0], rng(SEED), owned);
      const p = problemOf(CASES[0], t, owned);
      await expect(launchGeneralReference({ problem: p, rows, rowCount: 1, o, lse })).rejects.toThrow(
        `launchGeneralReference: o has 4 bytes; it needs ${p.batch * p.headsQ * p.headDim * 4}`,
      );
      await expect(launchGeneralReference({ problem: p, rows, rowCount: 0, o, lse })).rejects.toThrow(/rowCount must be an integer in 1\.\.2\^31-1, got 0/);
    } finally {
      [rows, o, lse].forEach((b) => b.dispose());
      owned.forEach((x) => x.dispose());
    }
  });
});
