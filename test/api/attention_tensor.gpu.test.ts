// attention(q, k, v, opts) and attentionVarlen on the GPU against the general fp32 reference
// (reference_gpu.ts, itself checked against the CPU one): a seeded random sweep over both layouts
// (also as non-contiguous views), GQA ratios 1/2/4/8 and MQA, Nq != Nkv both ways, causal, windows,
// softcap, f16/bf16, every named schedule, inputs of large magnitude, and packed batches with
// zero-length members. Outputs are poisoned (NaN) first; every row is compared up to 256 tokens.
// STAGEWISE_TEST_SEED fixes the sampling; a failure prints its case and seed.
import { expect, it } from 'vitest';
import { attention, attentionVarlen, Tensor } from '../../src/api/index.js';
import { attentionProblem, varlenProblem, type AttentionProblem } from '../../src/api/problem.js';
import { launchGeneralReference } from '../../src/api/reference_gpu.js';
import { DeviceBuffer, Stream } from '../../src/runtime/index.js';
import { describeGpu } from '../gpu.js';
import { seededRandom as rng } from '../../src/api/random.js';
import { SOFTCAP_TANHS } from '../../src/codegen/index.js';

const SEED = Number(process.env.STAGEWISE_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`[stagewise] attention_tensor.gpu.test seed ${SEED}`);

const NAN16 = { f16: 0x7e00, bf16: 0x7fc0 } as const;

interface Case {
  name: string;
  dtype: 'f16' | 'bf16';
  headDim: 64 | 128 | 256;
  batch: number;
  hq: number;
  hkv: number;
  nq: number;
  nk: number;
  layout: 'bnhd' | 'bhnd';
  /** Build Q/K/V as transposed views of the other layout's storage (non-contiguous strides). */
  viaView: boolean;
  causal: boolean;
  window?: [number, number];
  softcap?: number;
  schedule: 'baseline' | 'firstDot' | 'secondDot';
  /** The tile scheduler; a persistent one on a few CTAs, so each walks many tiles. */
  scheduler: 'grid' | 'static' | 'dynamic';
  /** 2: two CTAs of a cluster share K/V (static tiles, no mask only). */
  kvShare: 1 | 2;
  ctas: number;
  /** Multiply inputs by this (a softmax without max subtraction would overflow). */
  magnitude: number;
}

function cases(): Case[] {
  const r = rng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const out: Case[] = [];
  const ratios = [1, 2, 4, 8, 'mqa'] as const;
  for (let i = 0; i < 40; i++) {
    const ratio = ratios[i % ratios.length];
    const hkv = ratio === 'mqa' ? 1 : pick([1, 2]);
    const hq = ratio === 'mqa' ? pick([2, 4]) : hkv * ratio;
    const nq = 1 + Math.floor(r() * (i % 3 === 0 ? 700 : 200));
    const nk = i % 4 === 0 ? nq : 1 + Math.floor(r() * (i % 3 === 1 ? 900 : 250));
    const windowed = r() < 0.35;
    const side = () => (r() < 0.25 ? -1 : Math.floor(r() * 300));
    const c: Case = {
      name: '', dtype: pick(['f16', 'bf16'] as const), headDim: pick([64, 128, 256] as const), batch: 1 + Math.floor(r() * 2),
      hq, hkv, nq, nk, layout: pick(['bnhd', 'bhnd'] as const), viaView: r() < 0.4, causal: r() < 0.5,
      ...(windowed ? { window: [side(), side()] as [number, number] } : {}),
      ...(r() < 0.35 ? { softcap: pick([20, 30, 50]) } : {}),
      schedule: pick(['baseline', 'firstDot', 'secondDot'] as const), magnitude: i % 7 === 3 ? 30 : 1,
      scheduler: (['grid', 'static', 'dynamic'] as const)[i % 3], ctas: 1 + Math.floor(r() * 4), kvShare: 1,
    };
    // Half the unmasked static cases share K/V between two CTAs (GQA, both layouts, Nq != Nkv, odd block counts).
    if (c.scheduler === 'static' && !c.causal && !c.window && r() < 0.5) c.kvShare = 2;
    c.name = `#${i} ${c.schedule} ${c.dtype} hd${c.headDim} B${c.batch} Hq${hq}/Hkv${hkv} Nq${nq} Nk${nk} ${c.layout}${c.viaView ? ' (view)' : ''}` +
      `${c.causal ? ' causal' : ''}${c.window ? ` window[${c.window}]` : ''}${c.softcap ? ` softcap${c.softcap}` : ''}${c.magnitude > 1 ? ` x${c.magnitude}` : ''}` +
      `${c.scheduler === 'grid' ? '' : ` ${c.scheduler} tiles on ${c.ctas} CTAs`}${c.kvShare === 2 ? ' kvShare 2' : ''}`;
    out.push(c);
  }
  return out;
}

/** A random [.., ..] tensor of the given logical shape, laid out as asked (possibly a transposed view). */
async function operand(shape: number[], dtype: 'f16' | 'bf16', seed: number, magnitude: number, swap: [number, number] | null): Promise<Tensor> {
  const storageShape = swap ? shape.map((_, i) => shape[i === swap[0] ? swap[1] : i === swap[1] ? swap[0] : i]) : shape;
  let t = await Tensor.random(storageShape, { dtype, seed });
  if (magnitude !== 1) {
    const values = t.toFloat32Array().map((x) => x * magnitude);
    t.dispose();
    t = Tensor.from(values, { dtype, shape: storageShape });
  }
  return swap ? t.transpose(swap[0], swap[1]) : t;
}

function rowsFor(n: number): number[] {
  if (n <= 256) return Array.from({ length: n }, (_, i) => i);
  const rows = new Set<number>([0, 1, 2, n - 3, n - 2, n - 1]);
  const r = rng(SEED ^ n);
  while (rows.size < 96) rows.add(Math.floor(r() * n));
  return [...rows].sort((a, b) => a - b);
}

interface Compared {
  relL2: number;
  lseMax: number;
  nan: number;
  worst: string;
}

/** Compares out/lse with the general reference over `rows` (relative to each sequence). */
async function compare(p: AttentionProblem, out: Tensor, lse: Tensor, rows: number[], seqQOf: (b: number) => number, rowIndex: (b: number, h: number, row: number) => { o: number; l: number }): Promise<Compared> {
  const rowBuf = DeviceBuffer.alloc(rows.length * 4);
  const ro = DeviceBuffer.alloc(p.batch * p.headsQ * rows.length * p.headDim * 4);
  const rl = DeviceBuffer.alloc(p.batch * p.headsQ * rows.length * 4);
  try {
    rowBuf.upload(Int32Array.from(rows));
    await launchGeneralReference({ problem: p, rows: rowBuf, rowCount: rows.length, o: ro, lse: rl });
    await Stream.default(p.device).synchronizeAsync();
    const refO = new Float32Array(p.batch * p.headsQ * rows.length * p.headDim);
    const refL = new Float32Array(p.batch * p.headsQ * rows.length);
    ro.download(refO);
    rl.download(refL);
    const o = out.toFloat32Array();
    const l = lse.toFloat32Array();
    let err = 0, ref = 0, lseMax = 0, nan = 0, worstErr = 0, worst = '';
    for (let b = 0; b < p.batch; b++) {
      for (let h = 0; h < p.headsQ; h++) {
        rows.forEach((row, i) => {
          if (row >= seqQOf(b)) return;
          const at = rowIndex(b, h, row);
          const base = ((b * p.headsQ + h) * rows.length + i);
          let rowErr = 0;
          for (let x = 0; x < p.headDim; x++) {
            const got = o[at.o + x];
            const want = refO[base * p.headDim + x];
            if (Number.isNaN(got)) nan++;
            err += (got - want) ** 2;
            ref += want * want;
            rowErr = Math.max(rowErr, Math.abs(got - want));
          }
          const gl = l[at.l], wl = refL[base];
          if (Number.isNaN(gl)) nan++;
          const le = gl === wl ? 0 : Math.abs(gl - wl);
          lseMax = Math.max(lseMax, le);
          if (Math.max(rowErr, le) > worstErr) {
            worstErr = Math.max(rowErr, le);
            worst = `batch ${b} head ${h} row ${row} (O err ${rowErr.toExponential(2)}, LSE ${gl} vs ${wl})`;
          }
        });
      }
    }
    return { relL2: ref > 0 ? Math.sqrt(err / ref) : Math.sqrt(err), lseMax, nan, worst };
  } finally {
    [rowBuf, ro, rl].forEach((x) => x.dispose());
  }
}

/** Three random [B, N, H, D] tensors (Q, K, V) from seed, seed + 1, seed + 2. */
async function randomQkv(shape: number[], dtype: 'f16' | 'bf16', seed: number): Promise<[Tensor, Tensor, Tensor]> {
  return [await Tensor.random(shape, { dtype, seed }), await Tensor.random(shape, { dtype, seed: seed + 1 }), await Tensor.random(shape, { dtype, seed: seed + 2 })];
}

/** Contiguous [B, N, H, D] O and [B, H, N] LSE against the reference: no NaN, relL2 (and, if asked, LSE) within tolerance. */
async function expectBnhd(p: AttentionProblem, out: Tensor, lse: Tensor, [, N, H, D]: number[], step: string, checkLse = false): Promise<void> {
  const r = await compare(p, out, lse, rowsFor(N), () => N, (b, h, row) => ({ o: ((b * N + row) * H + h) * D, l: (b * H + h) * N + row }));
  const where = `${step} seed ${SEED}: relL2 ${r.relL2.toExponential(2)}, LSE ${r.lseMax.toExponential(2)}, ${r.nan} NaN; worst ${r.worst}`;
  expect(r.nan, where).toBe(0);
  expect(r.relL2, where).toBeLessThan(1e-2);
  if (checkLse) expect(r.lseMax, where).toBeLessThan(2e-2);
}

describeGpu('attention(q, k, v) matches the general fp32 reference', () => {
  for (const c of cases()) {
    it(c.name, async () => {
      const { batch: B, hq, hkv, nq, nk, headDim: D, dtype } = c;
      const shapeOf = (h: number, n: number) => (c.layout === 'bnhd' ? [B, n, h, D] : [B, h, n, D]);
      const swap: [number, number] | null = c.viaView ? [1, 2] : null;
      const seed = (SEED * 7 + c.name.length * 13) >>> 0;
      const q = await operand(shapeOf(hq, nq), dtype, seed, c.magnitude, swap);
      const k = await operand(shapeOf(hkv, nk), dtype, seed + 1, c.magnitude, swap);
      const v = await operand(shapeOf(hkv, nk), dtype, seed + 2, 1, swap);
      const out = Tensor.empty(q.shape, { dtype });
      const lse = Tensor.empty([B, hq, nq], { dtype: 'f32' });
      out.buffer.memset16(NAN16[dtype]);
      lse.buffer.memset32(0x7fc00000);
      try {
        const opts = {
          causal: c.causal, layout: c.layout, out, lse, schedule: c.schedule,
          knobs: { scheduler: c.scheduler, kvShare: c.kvShare, hangTrap: true }, ...(c.scheduler === 'grid' ? {} : { ctas: c.ctas }),
          ...(c.window ? { window: c.window } : {}), ...(c.softcap ? { softcap: c.softcap } : {}),
        };
        const res = await attention(q, k, v, opts);
        expect(res.out).toBe(out);
        const p = attentionProblem(q, k, v, opts);
        const rows = rowsFor(nq);
        const os = out.strides;
        const [rowS, headS] = c.layout === 'bnhd' ? [os[1], os[2]] : [os[2], os[1]];
        const r = await compare(p, out, lse, rows, () => nq, (b, h, row) => ({ o: b * os[0] + h * headS + row * rowS, l: (b * hq + h) * nq + row }));
        const where = `${c.name} seed ${SEED}: relL2 ${r.relL2.toExponential(2)}, LSE max err ${r.lseMax.toExponential(2)}, ${r.nan} NaN; worst ${r.worst}`;
        expect(r.nan, where).toBe(0);
        expect(r.relL2, where).toBeLessThan(1e-2);
        expect(r.lseMax, where).toBeLessThan(2e-2);
      } finally {
        [q, k, v, out, lse].forEach((t) => t.dispose());
      }
    });
  }
});

interface VarlenCase {
  name: string;
  dtype: 'f16' | 'bf16';
  headDim: 64 | 128 | 256;
  hq: number;
  hkv: number;
  lq: number[];
  lk: number[];
  causal: boolean;
  window?: [number, number];
  softcap?: number;
  schedule: 'baseline' | 'firstDot' | 'secondDot';
  scheduler: 'grid' | 'static' | 'dynamic';
  ctas: number;
  /** More knobs for this case (blockM 192: three consumer warpgroups, the long-sequence default). */
  knobs?: Record<string, unknown>;
}

function varlenCases(): VarlenCase[] {
  const r = rng(SEED ^ 0x51ed27);
  const out: VarlenCase[] = [];
  for (let i = 0; i < 10; i++) {
    const dtype = i % 2 ? 'bf16' : 'f16';
    const headDim = ([64, 128, 256] as const)[i % 3];
    const hkv = 1 + (i % 2);
    const hq = hkv * [1, 2, 4][i % 3];
    const members = 2 + Math.floor(r() * 3);
    // Member 1 is empty on some cases; member 0 always has queries, so the packed Q is never empty.
    const lq = Array.from({ length: members }, (_, m) => (m === 1 && i % 3 === 0 ? 0 : (m === 0 ? 1 : 0) + Math.floor(r() * 300)));
    const lk: number[] = lq.map((n, m) => (m === 0 && i % 4 === 1 ? 0 : i % 2 ? n : Math.floor(r() * 400)));
    // A packed K holds at least one token (a tensor dimension is >= 1): give the last member one key
    // when every member would have none.
    if (!lk.some((n) => n !== 0)) lk[members - 1] = 1;
    const causal = i % 3 !== 2;
    const window: [number, number] | undefined = i % 4 === 2 ? [Math.floor(r() * 100), -1] : undefined;
    const softcap = i % 5 === 1 ? 30 : undefined;
    const schedule = (['baseline', 'firstDot', 'secondDot'] as const)[i % 3];
    const scheduler = (['dynamic', 'grid', 'static', 'dynamic'] as const)[i % 4];
    const ctas = 1 + (i % 3);
    out.push({ name: `#${i}`, dtype, headDim, hq, hkv, lq, lk, causal, ...(window ? { window } : {}), ...(softcap ? { softcap } : {}), schedule, scheduler, ctas });
  }
  return out;
}

/** Sequences ending on, one past and one short of 64-row block edges, back to back (OStoreTmaPacked's boundary). */
function blockEdgeCases(): VarlenCase[] {
  const lq = [64, 65, 127, 1, 128, 191, 63];
  const edges = (['dynamic', 'grid', 'static'] as const).flatMap((scheduler, s) => [false, true].map((causal) => ({
    name: `edges ${s * 2 + (causal ? 1 : 0)}`, dtype: 'f16' as const, headDim: 128 as const, hq: 4, hkv: 2, lq, lk: lq.map((n) => n + 7), causal,
    schedule: (causal ? 'secondDot' : 'baseline') as VarlenCase['schedule'], scheduler, ctas: 2,
  })));
  // 192-row tiles (the default for long packed sequences at hd128, P in shared memory; hd64 with P in
  // registers): three warpgroups, each deciding for its own block, O in Q's place.
  const wide = ([[128, { blockM: 192, pShared: true }], [64, { blockM: 192 }]] as const).flatMap(([headDim, knobs], s) => [false, true].map((causal) => ({
    name: `edges m192 ${s * 2 + (causal ? 1 : 0)}`, dtype: 'bf16' as const, headDim, hq: 4, hkv: 1, lq: [...lq, 192, 193, 383], lk: [...lq, 192, 193, 383].map((n) => n + 3), causal,
    schedule: 'secondDot' as const, scheduler: 'grid' as const, ctas: 1, knobs,
  })));
  return [...edges, ...wide];
}

function varlenSuite(title: string, list: VarlenCase[], extraKnobs: Record<string, unknown>): void {
  describeGpu(title, () => {
    for (const [i, c] of list.entries()) {
      const { dtype, headDim, hq, hkv, lq, lk, causal, window, softcap, schedule, scheduler, ctas } = c;
      const caseKnobs = c.knobs ?? {};
      const members = lq.length;
      const name = `${c.name} ${schedule} ${dtype} hd${headDim} Hq${hq}/Hkv${hkv} lengths q ${lq} k ${lk}${causal ? ' causal' : ''}${window ? ` window[${window}]` : ''}${softcap ? ` softcap${softcap}` : ''}` +
        `${scheduler === 'grid' ? '' : ` ${scheduler} tiles on ${ctas} CTAs`}${c.knobs ? ` ${JSON.stringify(c.knobs)}` : ''}`;
      it(name, async () => {
        const cum = (ls: number[]) => Int32Array.from([0, ...ls.map((_, m) => ls.slice(0, m + 1).reduce((a, b) => a + b, 0))]);
        const cq = cum(lq), ck = cum(lk);
        const totalQ = cq[members], totalK = ck[members];
        const seed = (SEED + i * 101 + title.length) >>> 0;
        const q = await Tensor.random([totalQ, hq, headDim], { dtype, seed });
        const k = await Tensor.random([totalK, hkv, headDim], { dtype, seed: seed + 1 });
        const v = await Tensor.random([totalK, hkv, headDim], { dtype, seed: seed + 2 });
        const [qv, kv, vv] = [q, k, v];
        const cuQ = Tensor.from(cq, { dtype: 'i32' });
        const cuK = Tensor.from(ck, { dtype: 'i32' });
        const out = Tensor.empty(qv.shape, { dtype });
        const lse = Tensor.empty([hq, totalQ], { dtype: 'f32' });
        out.buffer.memset16(NAN16[dtype]);
        lse.buffer.memset32(0x7fc00000);
        try {
          const opts = {
            cuSeqlensQ: cuQ, cuSeqlensK: cuK, maxSeqlenQ: Math.max(...lq), maxSeqlenK: Math.max(...lk), causal, out, lse, schedule,
            knobs: { scheduler, hangTrap: true, ...extraKnobs, ...caseKnobs }, ...(scheduler === 'grid' ? {} : { ctas }),
            ...(window ? { window } : {}), ...(softcap ? { softcap } : {}),
          };
          await attentionVarlen(qv, kv, vv, opts);
          const p = varlenProblem(qv, kv, vv, opts);
          const rows = rowsFor(Math.max(...lq));
          const os = out.strides;
          const res = await compare(p, out, lse, rows, (b) => lq[b], (b, h, row) => ({ o: (cq[b] + row) * os[0] + h * os[1], l: h * totalQ + cq[b] + row }));
          const where = `${title}: ${name} seed ${SEED}: relL2 ${res.relL2.toExponential(2)}, LSE max err ${res.lseMax.toExponential(2)}, ${res.nan} NaN; worst ${res.worst}`;
          expect(res.nan, where).toBe(0);
          expect(res.relL2, where).toBeLessThan(1e-2);
          expect(res.lseMax, where).toBeLessThan(2e-2);
        } finally {
          [q, k, v, cuQ, cuK, out, lse].forEach((t) => t.dispose());
        }
      });
    }
  });
}

varlenSuite('attentionVarlen matches the general fp32 reference', varlenCases(), {});
// O by TMA for packed sequences (a knob: kernels/variants.cuh OStoreTmaPacked), where a box past a
// sequence's end would overwrite the next sequence's first rows: the same sweep and the block edges.
varlenSuite('attentionVarlen with O by TMA (oStore tma) matches the general fp32 reference', [...varlenCases(), ...blockEdgeCases()], { oStore: 'tma' });

describeGpu('a repeated call (the call memo) relaunches and sees every change', () => {
  it('new data in Q, a flipped flag and an edited window on the same options object', async () => {
    const [B, N, H, D] = [1, 200, 2, 128];
    const [q, k, v] = await randomQkv([B, N, H, D], 'f16', (SEED ^ 0x3c6ef372) >>> 0);
    const out = Tensor.empty(q.shape, { dtype: 'f16' });
    const lse = Tensor.empty([B, H, N], { dtype: 'f32' });
    const opts: { out: Tensor; lse: Tensor; causal: boolean; window?: [number, number]; knobs: { hangTrap: boolean } } = { out, lse, causal: false, knobs: { hangTrap: true } };
    const check = async (step: string) => {
      out.buffer.memset16(NAN16.f16);
      lse.buffer.memset32(0x7fc00000);
      await attention(q, k, v, opts);
      await expectBnhd(attentionProblem(q, k, v, opts), out, lse, [B, N, H, D], step, true);
    };
    try {
      await check('first call');
      await check('the same call again');
      q.write(Float32Array.from(q.toFloat32Array(), (x, i) => (i % 3 ? -x : 2 * x)));
      await check('after new data in Q');
      opts.causal = true;
      await check('after causal flipped on the same object');
      opts.window = [40, 0];
      await check('after a window added');
      opts.window[0] = 5;
      await check('after the window edited in place');
      opts.knobs.hangTrap = false;
      await check('after a knob edited in place');
      // Options edited while the call is in flight: the call is the one made, and the memo records
      // that one, so the next call with the edited options is checked against them.
      out.buffer.memset16(NAN16.f16);
      opts.window = [9, 3];
      const inFlight = attention(q, k, v, opts);
      opts.window = [30, 0];
      await inFlight;
      await check('after options edited while a call was in flight');
    } finally {
      [q, k, v, out, lse].forEach((t) => t.dispose());
    }
  });
});

// The TMA maps of the last call per Q are reused while their key holds (tensor_attention.ts): the key
// must hold the boxes (launch_args mapBoxRows), not blockN alone. kvShare 2 halves the K/V box; a
// kvShare-1 kernel of the same blockN that got those maps hung (session 18, device call 6: the call
// memo test's causal step after a non-causal one, once baseline's kv/2 kernel became the default).
describeGpu('the map cache follows the kernel: K/V shared by two CTAs, then not, on the same Q', () => {
  it('kvShare 2 then 1 then 2 (blockN 128 each), every result right', async () => {
    const [B, N, H, D] = [1, 200, 2, 128];
    const [q, k, v] = await randomQkv([B, N, H, D], 'f16', (SEED ^ 0x5bd1e995) >>> 0);
    const out = Tensor.empty(q.shape, { dtype: 'f16' });
    const lse = Tensor.empty([B, H, N], { dtype: 'f32' });
    try {
      for (const kvShare of [2, 1, 2] as const) {
        const opts = { out, lse, causal: false, schedule: 'baseline', knobs: { hangTrap: true, scheduler: 'static' as const, kvShare, blockN: 128 } };
        out.buffer.memset16(NAN16.f16);
        lse.buffer.memset32(0x7fc00000);
        await attention(q, k, v, opts);
        await expectBnhd(attentionProblem(q, k, v, opts), out, lse, [B, N, H, D], `kvShare ${kvShare}`, true);
      }
    } finally {
      [q, k, v, out, lse].forEach((t) => t.dispose());
    }
  });
});

describeGpu('an output disposed and its address reused', () => {
  it('the next call encodes fresh maps and is right', async () => {
    const [B, N, H, D] = [1, 150, 2, 64];
    const [q, k, v] = await randomQkv([B, N, H, D], 'bf16', (SEED ^ 0x1b873593) >>> 0);
    try {
      for (let i = 0; i < 3; i++) {
        const { out, lse } = await attention(q, k, v, { causal: true, returnLse: true, knobs: { hangTrap: true, oStore: 'tma', scheduler: 'static' } });
        try {
          await expectBnhd(attentionProblem(q, k, v, { causal: true }), out, lse!, [B, N, H, D], `call ${i}`);
        } finally {
          out.dispose();
          lse!.dispose();
        }
      }
    } finally {
      [q, k, v].forEach((t) => t.dispose());
    }
  });
});

describeGpu('window sides past every key', () => {
  it('equal unbounded sides (no 32-bit overflow in the tile range)', async () => {
    const [B, N, H, D] = [1, 300, 2, 128];
    const [q, k, v] = await randomQkv([B, N, H, D], 'f16', (SEED ^ 0x2f6b1a3c) >>> 0);
    try {
      for (const window of [[-1, 2147483647], [2147483647, -1], [2147483647, 2147483647], [2147483000, 0]] as Array<[number, number]>) {
        const { out, lse } = await attention(q, k, v, { window, returnLse: true, knobs: { hangTrap: true } });
        try {
          await expectBnhd(attentionProblem(q, k, v, { window }), out, lse!, [B, N, H, D], `window [${window}]`);
        } finally {
          out.dispose();
          lse!.dispose();
        }
      }
    } finally {
      [q, k, v].forEach((t) => t.dispose());
    }
  });
});

// Each way of computing the softcap's tanh (plan softcapTanh) against the fp32 reference, from
// logits far below the cap (inputs x1) to logits pinned at it (x30 on Q and K: every score is
// hundreds of times the cap, so tanh sits at +-1, where tanh.approx's relative error is largest in
// absolute terms). Each case prints its errors, so a GPU run also measures them (bench/NOTES.md
// session 16). 'tanhf' and 'exp2' are held to the suite's tolerance everywhere; 'approx' too.
describeGpu('softcapTanh: every tanh form against the reference', () => {
  const shapes = [
    { name: 'hd128 Hq8/Hkv2 N777 causal, dynamic tiles', headDim: 128, hq: 8, hkv: 2, n: 777, causal: true, knobs: { scheduler: 'dynamic' } },
    { name: 'hd128 Hq4/Hkv4 N600, one CTA per tile', headDim: 128, hq: 4, hkv: 4, n: 600, causal: false, knobs: { scheduler: 'grid' } },
    { name: 'hd256 Hq4/Hkv2 N513 causal, dynamic tiles', headDim: 256, hq: 4, hkv: 2, n: 513, causal: true, knobs: { scheduler: 'dynamic' } },
    { name: 'hd64 Hq4/Hkv1 N300, static tiles', headDim: 64, hq: 4, hkv: 1, n: 300, causal: false, knobs: { scheduler: 'static' } },
  ] as const;
  for (const s of shapes) {
    for (const softcapTanh of SOFTCAP_TANHS) {
      for (const [cap, magnitude] of [[50, 1], [30, 3], [20, 5], [50, 30]] as const) {
        const name = `${s.name}: ${softcapTanh}, softcap ${cap}, inputs x${magnitude}`;
        it(name, async () => {
          const B = 2, D = s.headDim, dtype = 'f16' as const;
          const seed = (SEED * 11 + name.length * 17) >>> 0;
          const q = await operand([B, s.n, s.hq, D], dtype, seed, magnitude, null);
          const k = await operand([B, s.n, s.hkv, D], dtype, seed + 1, magnitude, null);
          const v = await operand([B, s.n, s.hkv, D], dtype, seed + 2, 1, null);
          const out = Tensor.empty(q.shape, { dtype });
          const lse = Tensor.empty([B, s.hq, s.n], { dtype: 'f32' });
          out.buffer.memset16(NAN16[dtype]);
          lse.buffer.memset32(0x7fc00000);
          try {
            const opts = { causal: s.causal, out, lse, softcap: cap, schedule: 'secondDot' as const, knobs: { ...s.knobs, softcapTanh, hangTrap: true }, ...(s.knobs.scheduler === 'grid' ? {} : { ctas: 3 }) };
            await attention(q, k, v, opts);
            const p = attentionProblem(q, k, v, opts);
            const r = await compare(p, out, lse, rowsFor(s.n), () => s.n, (b, h, row) => ({ o: ((b * s.n + row) * s.hq + h) * D, l: (b * s.hq + h) * s.n + row }));
            const where = `${name} seed ${SEED}: relL2 ${r.relL2.toExponential(2)}, LSE max err ${r.lseMax.toExponential(2)}, ${r.nan} NaN; worst ${r.worst}`;
            console.log(`[softcapTanh] ${where}`);
            expect(r.nan, where).toBe(0);
            expect(r.relL2, where).toBeLessThan(1e-2);
            expect(r.lseMax, where).toBeLessThan(2e-2);
          } finally {
            [q, k, v, out, lse].forEach((t) => t.dispose());
          }
        });
      }
    }
  }
});

// Conditional rescaling (plan lazyRescale) on inputs whose row maxima jump: every 160 keys the keys'
// level rises, alternately by a step worth about 12 in the log2 domain (past the slack of 8: rows
// move and MUL must run) and one worth about 5 (below it: rows keep their max and P exceeds 1).
// Query rows come in groups of 8 with a positive or negative bias, so every warp of 16 rows holds
// rows whose max jumps and rows whose scores fall (they keep their max). A warp that skipped a MUL it
// needed leaves O wrong by a factor of about 2^12. Each case prints its errors.
describeGpu('lazyRescale: rows whose max jumps past the slack, next to rows that keep theirs', () => {
  // Scores: a row of bias b = +-0.5 against keys at level L scores about 128 b L / sqrt(D) above the
  // noise (the query and key terms are scaled by sqrt(128 / D)), 92 L / sqrt(D) in the log2 domain
  // for b = 0.5. The level's steps are sized per head dim to about 12 and 5 in that domain.
  const jumpy = (n: number, heads: number, D: number, seed: number, query: boolean): Float32Array => {
    const r = rng(seed);
    const unit = 92.33 / Math.sqrt(D);  // log2-domain score per unit of level, b = 0.5
    const [big, small] = [12 / unit, 5 / unit];
    const out = new Float32Array(n * heads * D);
    for (let t = 0; t < n; t++) {
      const step = Math.floor(t / 160);
      const level = big * Math.ceil(step / 2) + small * Math.floor(step / 2);
      for (let h = 0; h < heads; h++) {
        for (let d = 0; d < D; d++) {
          const noise = r() * 2 - 1;
          const bias = query ? (Math.floor(t / 8) % 2 === 0 ? 0.5 : -0.5) : level;
          out[(t * heads + h) * D + d] = noise + bias * Math.sqrt(128 / D);
        }
      }
    }
    return out;
  };
  const cases: Array<{ name: string; headDim: 64 | 128 | 256; causal: boolean; schedule: 'baseline' | 'firstDot' | 'secondDot'; knobs: Record<string, unknown>; window?: [number, number]; softcap?: number }> = [];
  for (const headDim of [64, 128, 256] as const) {
    for (const schedule of ['baseline', 'firstDot', 'secondDot'] as const) {
      for (const causal of [false, true]) cases.push({ name: `hd${headDim} ${schedule}${causal ? ' causal' : ''}, the default tiles`, headDim, causal, schedule, knobs: {} });
    }
  }
  cases.push(
    { name: 'hd128 secondDot, one CTA per tile', headDim: 128, causal: false, schedule: 'secondDot', knobs: { scheduler: 'grid' } },
    { name: 'hd128 secondDot causal, blockM 192, P in shared, one CTA per tile', headDim: 128, causal: true, schedule: 'secondDot', knobs: { scheduler: 'grid', blockM: 192, pShared: true } },
    { name: 'hd128 baseline, static tiles, two Q buffers, rotated tile loop', headDim: 128, causal: false, schedule: 'baseline', knobs: { scheduler: 'static', oStore: 'tma', qBuffers: 2, crossTile: true, pShared: false, pingpong: false } },
    { name: 'hd128 baseline, dynamic tiles, rotated tile loop', headDim: 128, causal: false, schedule: 'baseline', knobs: { scheduler: 'dynamic', oStore: 'tma', qBuffers: 2, crossTile: true, pShared: false, pingpong: false } },
    { name: 'hd128 secondDot causal, window and softcap', headDim: 128, causal: true, schedule: 'secondDot', knobs: {}, window: [300, -1], softcap: 50 },
    { name: 'hd64 secondDot, K/V shared by two CTAs', headDim: 64, causal: false, schedule: 'secondDot', knobs: { scheduler: 'static', kvShare: 2, pShared: true, pingpong: true } },
  );
  for (const c of cases) {
    it(c.name, async () => {
      const B = 1, n = 1000, hq = 4, hkv = 2, D = c.headDim, dtype = 'f16' as const;
      const seed = (SEED * 13 + c.name.length * 29) >>> 0;
      const qv = jumpy(n, hq, D, seed, true), kv = jumpy(n, hkv, D, seed + 1, false);
      // The inputs do what the test needs (else it could not fail): among query rows 0-15 of head 0
      // (one warp) some row's max rises past the slack from one 160-key block to the next, and some
      // row's never does.
      const rises = Array.from({ length: 16 }, (_, i) => {
        let m = -Infinity, rise = 0;
        for (let t0 = 0; t0 < n; t0 += 160) {
          let blockMax = -Infinity;
          for (let t = t0; t < Math.min(n, t0 + 160); t++) {
            let dot = 0;
            for (let d = 0; d < D; d++) dot += qv[i * hq * D + d] * kv[t * hkv * D + d];
            blockMax = Math.max(blockMax, (dot / Math.sqrt(D)) * Math.LOG2E);
          }
          if (m > -Infinity) rise = Math.max(rise, blockMax - m);
          m = Math.max(m, blockMax);
        }
        return rise;
      });
      expect(Math.max(...rises), 'some row of the first warp moves past the slack').toBeGreaterThan(9);
      expect(Math.min(...rises), 'some row of the first warp keeps its max').toBeLessThan(8);
      const q = Tensor.from(qv, { dtype, shape: [B, n, hq, D] });
      const k = Tensor.from(kv, { dtype, shape: [B, n, hkv, D] });
      const v = await operand([B, n, hkv, D], dtype, seed + 2, 1, null);
      const out = Tensor.empty(q.shape, { dtype });
      const lse = Tensor.empty([B, hq, n], { dtype: 'f32' });
      out.buffer.memset16(NAN16[dtype]);
      lse.buffer.memset32(0x7fc00000);
      try {
        const persistent = c.knobs.scheduler !== 'grid';
        const opts = { causal: c.causal, out, lse, schedule: c.schedule, ...(c.window ? { window: c.window } : {}), ...(c.softcap ? { softcap: c.softcap } : {}), knobs: { ...c.knobs, lazyRescale: true, hangTrap: true }, ...(persistent ? { ctas: 3 } : {}) };
        await attention(q, k, v, opts);
        const p = attentionProblem(q, k, v, opts);
        const r = await compare(p, out, lse, rowsFor(n), () => n, (b, h, row) => ({ o: ((b * n + row) * hq + h) * D, l: (b * hq + h) * n + row }));
        const where = `${c.name} seed ${SEED}: relL2 ${r.relL2.toExponential(2)}, LSE max err ${r.lseMax.toExponential(2)}, ${r.nan} NaN; worst ${r.worst}`;
        console.log(`[lazyRescale] ${where}`);
        expect(r.nan, where).toBe(0);
        expect(r.relL2, where).toBeLessThan(1e-2);
        expect(r.lseMax, where).toBeLessThan(2e-2);
      } finally {
        [q, k, v, out, lse].forEach((t) => t.dispose());
      }
    });
  }
});
