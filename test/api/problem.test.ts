// attentionProblem / varlenProblem on any machine: tensors over host stand-in storage (virtual, so
// any read or write of q, k, v would throw), every rule with its exact message, both layouts,
// strided views taken without a copy, GQA and MQA, packed batches, and the cuSeqlens value checks.
import { describe, expect, it } from 'vitest';
import {
  attentionProblem, checkCuSeqlens, varlenProblem, LIMITS, SUPPORTED_HEAD_DIMS,
  type AttentionOptions, type VarlenOptions,
} from '../../src/api/problem.js';
import type { Tensor, TensorDtype } from '../../src/api/tensor.js';
import { hostTensor, type HostStorage, type HostTensorOptions } from './host_storage.js';

// Every fake tensor gets its own address range, 16 TiB apart, so none overlaps another by accident.
let nextPtr = 0x7f0000000000n;
function fake(shape: number[], opts: HostTensorOptions = {}): Tensor {
  nextPtr += 1n << 44n;
  return hostTensor(shape, { virtual: true, ptr: nextPtr, ...opts }).t;
}

/** An i32 tensor with memory behind it, as cuSeqlens are: the check downloads its values. */
function cu(values: number[], opts: HostTensorOptions = {}): { t: Tensor; storage: HostStorage } {
  nextPtr += 1n << 44n;
  const made = hostTensor([values.length], { dtype: 'i32', ptr: nextPtr, ...opts });
  made.t.write(Int32Array.from(values));
  made.storage.uploads = 0;
  return made;
}

function expectError(make: () => unknown, kind: typeof TypeError | typeof RangeError, message: string): void {
  let thrown: unknown;
  try {
    make();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected ${kind.name}: ${message}`).toBeInstanceOf(kind);
  expect((thrown as Error).message).toBe(message);
}

/** Q [2, 5, 8, 64], K/V [2, 7, 2, 64] in the given layout (contiguous), f16 unless said. */
function bnhd(dtype: TensorDtype = 'f16', d = 64) {
  return { q: fake([2, 5, 8, d], { dtype }), k: fake([2, 7, 2, d], { dtype }), v: fake([2, 7, 2, d], { dtype }) };
}
function bhnd(dtype: TensorDtype = 'f16', d = 64) {
  return { q: fake([2, 8, 5, d], { dtype }), k: fake([2, 2, 7, d], { dtype }), v: fake([2, 2, 7, d], { dtype }) };
}
const call = (t: { q: Tensor; k: Tensor; v: Tensor }, opts?: AttentionOptions) => () => attentionProblem(t.q, t.k, t.v, opts);

describe('attentionProblem: what a valid call becomes', () => {
  it('bnhd (the default): sizes, strides along (batch, row, head), defaults', () => {
    const t = bnhd();
    const p = attentionProblem(t.q, t.k, t.v);
    expect(p).toMatchObject({
      dtype: 'f16', device: 0, batch: 2, headsQ: 8, headsKV: 2, headDim: 64, seqQ: 5, seqK: 7, layout: 'bnhd',
      causal: false, window: null, softcap: 0, scale: 1 / 8, varlen: null, out: null, lse: null, returnLse: false,
    });
    expect(p.q).toEqual({ tensor: t.q, batchStride: 5 * 8 * 64, rowStride: 8 * 64, headStride: 64 });
    expect(p.k).toEqual({ tensor: t.k, batchStride: 7 * 2 * 64, rowStride: 2 * 64, headStride: 64 });
    expect(p.v.tensor).toBe(t.v);
  });

  it('bhnd: the same sizes, strides read from the other dimensions', () => {
    const t = bhnd('bf16', 128);
    const p = attentionProblem(t.q, t.k, t.v, { layout: 'bhnd', causal: true, scale: 0.5 });
    expect(p).toMatchObject({ dtype: 'bf16', batch: 2, headsQ: 8, headsKV: 2, headDim: 128, seqQ: 5, seqK: 7, layout: 'bhnd', causal: true, scale: 0.5 });
    expect(p.q).toEqual({ tensor: t.q, batchStride: 8 * 5 * 128, rowStride: 128, headStride: 5 * 128 });
    expect(p.k).toEqual({ tensor: t.k, batchStride: 2 * 7 * 128, rowStride: 128, headStride: 7 * 128 });
  });

  it('a transposed view in one layout is the same problem as the contiguous tensor in the other', () => {
    const t = bhnd();
    const direct = attentionProblem(t.q, t.k, t.v, { layout: 'bhnd' });
    const viewed = attentionProblem(t.q.transpose(1, 2), t.k.transpose(1, 2), t.v.transpose(1, 2), { layout: 'bnhd' });
    for (const role of ['q', 'k', 'v'] as const) {
      const { tensor: _a, ...a } = direct[role];
      const { tensor: b, ...rest } = viewed[role];
      expect(rest).toEqual(a);
      expect(b.buffer).toBe(direct[role].tensor.buffer); // no copy
      expect(b.isContiguous).toBe(false);
    }
    expect({ ...viewed, q: 0, k: 0, v: 0, layout: 0 }).toEqual({ ...direct, q: 0, k: 0, v: 0, layout: 0 });
  });

  it('strided views without a copy: packed QKV, a slice of a wider head dim, padded rows', () => {
    const qkv = fake([2, 9, 3, 4, 64]); // [B, N, 3, H, D], as a fused projection leaves it
    const [q, k, v] = [0, 1, 2].map((i) => qkv.select(2, i));
    const p = attentionProblem(q, k, v, { causal: true });
    expect(p.q).toEqual({ tensor: q, batchStride: 9 * 3 * 4 * 64, rowStride: 3 * 4 * 64, headStride: 64 });
    expect(p.k.tensor.offset).toBe(4 * 64);
    expect(p.v.tensor.ptr - p.q.tensor.ptr).toBe(2n * 4n * 64n * 2n);

    const wide = fake([1, 6, 2, 192], { dtype: 'bf16' }).slice(3, 128); // D = 64 of each 192-wide row
    const kv = fake([1, 6, 2, 64], { dtype: 'bf16', strides: [6 * 200 * 8, 200 * 8, 200, 1] }); // padded rows
    const s = attentionProblem(wide, kv, kv);
    expect(s.q).toMatchObject({ rowStride: 2 * 192, headStride: 192 });
    expect(s.q.tensor.byteOffset).toBe(256);
    expect(s.k).toMatchObject({ batchStride: 9600, rowStride: 1600, headStride: 200 });
  });

  it.each([
    [8, 8], [8, 4], [8, 2], [8, 1], [32, 8], [16, 16], [6, 3], [7, 1],
  ])('GQA / MQA: Hq %i over Hkv %i', (hq, hkv) => {
    const p = attentionProblem(fake([1, 3, hq, 64]), fake([1, 4, hkv, 64]), fake([1, 4, hkv, 64]));
    expect([p.headsQ, p.headsKV]).toEqual([hq, hkv]);
  });

  it('Nq != Nkv both ways, and single rows', () => {
    for (const [nq, nk] of [[1, 100], [100, 1], [1, 1], [33, 17]]) {
      const p = attentionProblem(fake([1, nq, 2, 64]), fake([1, nk, 2, 64]), fake([1, nk, 2, 64]));
      expect([p.seqQ, p.seqK]).toEqual([nq, nk]);
    }
  });

  it('every supported head dim, both dtypes', () => {
    expect(SUPPORTED_HEAD_DIMS).toEqual([64, 128, 256]);
    for (const d of SUPPORTED_HEAD_DIMS)
      for (const dtype of ['f16', 'bf16'] as const) {
        const p = attentionProblem(...Object.values(bnhd(dtype, d)) as [Tensor, Tensor, Tensor]);
        expect([p.headDim, p.dtype, p.scale]).toEqual([d, dtype, 1 / Math.sqrt(d)]);
      }
  });

  it('options: window, softcap, scale, returnLse; [-1, -1] is no window', () => {
    const t = bnhd();
    expect(attentionProblem(t.q, t.k, t.v, { window: [4, 0], softcap: 50, scale: 0.1, returnLse: true })).toMatchObject({
      window: [4, 0], softcap: 50, scale: 0.1, returnLse: true, lse: null,
    });
    expect(attentionProblem(t.q, t.k, t.v, { window: [-1, -1] }).window).toBeNull();
    expect(attentionProblem(t.q, t.k, t.v, { window: [-1, 3] }).window).toEqual([-1, 3]);
    expect(attentionProblem(t.q, t.k, t.v, { window: [0, 0], softcap: 0 })).toMatchObject({ window: [0, 0], softcap: 0 });
    expect(attentionProblem(t.q, t.k, t.v, { window: undefined, softcap: undefined, scale: undefined })).toMatchObject({ window: null, softcap: 0, scale: 1 / 8 });
  });

  it('the stride of a size-1 dimension is never used: any is taken, reported as one TMA accepts', () => {
    const q = fake([1, 5, 8, 64], { strides: [3, 512, 64, 1] });
    const k = fake([1, 7, 1, 64], { strides: [0, 64, 5, 1] });
    const p = attentionProblem(q, k, k);
    expect(p.q).toMatchObject({ batchStride: 64, rowStride: 512, headStride: 64 });
    expect(p.k).toMatchObject({ batchStride: 64, rowStride: 64, headStride: 64 });
  });

  it('out and lse: taken as given, lse implies returnLse', () => {
    const t = bnhd();
    const out = fake([2, 8, 5, 64]).transpose(1, 2); // [B, Nq, Hq, D] with heads outermost
    const lse = fake([2, 8, 5], { dtype: 'f32' });
    const p = attentionProblem(t.q, t.k, t.v, { out, lse });
    expect(p.out).toEqual({ tensor: out, batchStride: 8 * 5 * 64, rowStride: 64, headStride: 5 * 64 });
    expect(p.lse).toBe(lse);
    expect(p.returnLse).toBe(true);
    const b = bhnd();
    const outB = fake([2, 8, 5, 64]);
    expect(attentionProblem(b.q, b.k, b.v, { layout: 'bhnd', out: outB }).out).toMatchObject({ rowStride: 64, headStride: 320 });
  });
});

describe('attentionProblem: every rule, with its message', () => {
  const t = bnhd();
  const misaligned = fake([2, 5, 8, 72]).slice(3, 4, 68); // D = 64 starting 8 bytes in
  it.each<[string, () => unknown, typeof TypeError, string]>([
    ['opts not an object', call(t, 'x' as never), TypeError, 'attention: opts must be an object'],
    ['an unknown layout', call(t, { layout: 'bshd' as never }), TypeError, `attention: layout must be one of 'bnhd', 'bhnd', got "bshd"`],
    ['q not a tensor', call({ ...t, q: new Float32Array(4) as never }), TypeError, 'attention: q must be a Tensor, got Float32Array'],
    ['v missing', call({ ...t, v: undefined as never }), TypeError, 'attention: v must be a Tensor, got undefined'],
    ['q of rank 3', call({ ...t, q: fake([5, 8, 64]) }), RangeError, `attention: q must have rank 4, [B, Nq, Hq, D] for layout 'bnhd', got rank 3 (shape [5, 8, 64])`],
    ['k of rank 5 (bhnd)', call({ ...bhnd(), k: fake([1, 2, 2, 7, 64]) }, { layout: 'bhnd' }), RangeError, `attention: k must have rank 4, [B, Hkv, Nkv, D] for layout 'bhnd', got rank 5 (shape [1, 2, 2, 7, 64])`],
    ['a zero dimension', call({ ...t, q: fake([2, 0, 8, 64]) }), RangeError, 'attention: q.shape[1] (Nq) must be at least 1, got 0'],
    ['q of f32', call(bnhd('f32')), TypeError, 'attention: q has dtype f32; attention takes f16 or bf16'],
    ['q of i32', call(bnhd('i32')), TypeError, 'attention: q has dtype i32; attention takes f16 or bf16'],
    ['mixed dtypes', call({ ...t, v: fake([2, 7, 2, 64], { dtype: 'bf16' }) }), TypeError, 'attention: v has dtype bf16 but q has f16: q, k and v must have the same dtype'],
    ['mixed devices', call({ ...t, k: fake([2, 7, 2, 64], { device: 1 }) }), RangeError, 'attention: k is on cuda:1 but q is on cuda:0: q, k and v must be on the same device'],
    ['mixed head dims', call({ ...t, v: fake([2, 7, 2, 128]) }), RangeError, 'attention: v has head dim 128 but q has 64: q, k and v must have the same head dim'],
    ['head dim 96', call(bnhd('f16', 96)), RangeError, 'attention: head dim 96 is not supported; supported: 64, 128, 256'],
    ['head dim 32', call(bnhd('bf16', 32)), RangeError, 'attention: head dim 32 is not supported; supported: 64, 128, 256'],
    ['k and v of different shapes', call({ ...t, v: fake([2, 6, 2, 64]) }), RangeError, 'attention: v has shape [2, 6, 2, 64] but k has [2, 7, 2, 64]: k and v must have the same shape'],
    ['Hq not a multiple of Hkv', call({ q: fake([2, 5, 6, 64]), k: fake([2, 7, 4, 64]), v: fake([2, 7, 4, 64]) }), RangeError,
      'attention: q has 6 heads (Hq) and k has 4 (Hkv): Hq must be a multiple of Hkv (each K/V head serves Hq / Hkv query heads)'],
    ['more K/V heads than Q heads', call({ q: fake([2, 5, 2, 64]), k: fake([2, 7, 4, 64]), v: fake([2, 7, 4, 64]) }), RangeError,
      'attention: q has 2 heads (Hq) and k has 4 (Hkv): Hq must be a multiple of Hkv (each K/V head serves Hq / Hkv query heads)'],
    ['a strided last dimension', call({ ...t, q: fake([2, 5, 8, 64], { strides: [10240, 2048, 128, 2] }) }), RangeError,
      'attention: q must be contiguous in its last dimension (D): stride 1, got 2'],
    ['a stride of 100 f16 elements', call({ ...t, k: fake([2, 7, 2, 64], { strides: [704, 100, 64, 1] }) }), RangeError,
      'attention: k.strides[1] (Nkv) = 100 elements = 200 bytes: TMA needs every stride but the last to be a multiple of 16 bytes (8 f16 elements)'],
    ['a head stride of 68 (bhnd)', call({ ...bhnd('bf16'), q: fake([2, 8, 5, 64], { dtype: 'bf16', strides: [2720, 68, 544, 1] }) }, { layout: 'bhnd' }), RangeError,
      'attention: q.strides[1] (Hq) = 68 elements = 136 bytes: TMA needs every stride but the last to be a multiple of 16 bytes (8 bf16 elements)'],
    ['a broadcast (stride 0) head', call({ ...t, v: fake([2, 7, 2, 64], { strides: [448, 64, 0, 1] }) }), RangeError,
      'attention: v.strides[2] (Hkv) = 0 elements, a broadcast: TMA strides must be at least 16 bytes; materialise the tensor'],
    ['a stride of 2^40 bytes', call({ ...t, q: fake([2, 5, 8, 64], { strides: [2 ** 39, 512, 64, 1] }) }), RangeError,
      'attention: q.strides[0] (B) = 549755813888 elements = 1099511627776 bytes: TMA strides must be below 2^40 bytes'],
    ['offsets past 2^53', call({ ...t, q: fake([2, 5, 8, 64], { strides: [2 ** 52, 512, 64, 1] }) }), RangeError,
      `attention: q spans ${(2 ** 52 + 4 * 512 + 7 * 64 + 64) * 2} bytes from its first element: offsets must stay below 2^53 (exact on the host)`],
    ['an address off 16 bytes', call({ ...t, q: misaligned }), RangeError,
      `attention: q's address 0x${misaligned.ptr.toString(16)} (offset 4 elements into its storage) must be 16-byte aligned for TMA`],
    ['mixed batch sizes', call({ ...t, k: fake([3, 7, 2, 64]), v: fake([3, 7, 2, 64]) }), RangeError,
      'attention: k has batch 3 but q has 2: q, k and v must have the same batch size'],
    ['Nq of 2^31', call({ q: fake([1, 2 ** 31, 1, 64]), k: fake([1, 4, 1, 64]), v: fake([1, 4, 1, 64]) }), RangeError,
      'attention: Nq = 2147483648 exceeds 2^31 - 1: row indices are signed 32-bit'],
    ['Nkv of 2^31 (bhnd)', call({ q: fake([1, 1, 4, 64]), k: fake([1, 1, 2 ** 31, 64]), v: fake([1, 1, 2 ** 31, 64]) }, { layout: 'bhnd' }), RangeError,
      'attention: Nkv = 2147483648 exceeds 2^31 - 1: row indices are signed 32-bit'],
    ['batch x heads past the grid', call({ q: fake([4097, 1, 16, 64]), k: fake([4097, 1, 2, 64]), v: fake([4097, 1, 2, 64]) }), RangeError,
      'attention: batch * Hq = 4097 * 16 = 65552 exceeds 65535, the grid\'s limit on batch x heads'],
    ['causal not a boolean', call(t, { causal: 1 as never }), TypeError, 'attention: causal must be a boolean, got number 1'],
    ['scale 0', call(t, { scale: 0 }), RangeError, 'attention: scale must be finite and > 0, got 0'],
    ['scale -1', call(t, { scale: -1 }), RangeError, 'attention: scale must be finite and > 0, got -1'],
    ['scale NaN', call(t, { scale: NaN }), RangeError, 'attention: scale must be finite and > 0, got NaN'],
    ['scale Infinity', call(t, { scale: Infinity }), RangeError, 'attention: scale must be finite and > 0, got Infinity'],
    ['scale a string', call(t, { scale: '0.1' as never }), TypeError, 'attention: scale must be a number, got string 0.1'],
    ['softcap -1', call(t, { softcap: -1 }), RangeError, 'attention: softcap must be finite and >= 0 (0 = none), got -1'],
    ['softcap NaN', call(t, { softcap: NaN }), RangeError, 'attention: softcap must be finite and >= 0 (0 = none), got NaN'],
    ['softcap Infinity', call(t, { softcap: Infinity }), RangeError, 'attention: softcap must be finite and >= 0 (0 = none), got Infinity'],
    ['softcap a string', call(t, { softcap: '5' as never }), TypeError, 'attention: softcap must be a number, got string 5'],
    ['window a number', call(t, { window: 5 as never }), TypeError, 'attention: window must be [left, right] (two integers, -1 = unbounded), got number 5'],
    ['window of three', call(t, { window: [1, 2, 3] as never }), TypeError, 'attention: window must be [left, right] (two integers, -1 = unbounded), got an array of 3'],
    ['window left -2', call(t, { window: [-2, 0] }), RangeError, 'attention: window[0] (left) must be an integer in -1..2^31-1 (-1 = unbounded), got -2'],
    ['window right 1.5', call(t, { window: [0, 1.5] }), RangeError, 'attention: window[1] (right) must be an integer in -1..2^31-1 (-1 = unbounded), got 1.5'],
    ['window right 2^31', call(t, { window: [0, 2 ** 31] }), RangeError, 'attention: window[1] (right) must be an integer in -1..2^31-1 (-1 = unbounded), got 2147483648'],
    ['window side a string', call(t, { window: [0, '3'] as never }), TypeError, 'attention: window[1] (right) must be a number, got string 3'],
    ['returnLse a string', call(t, { returnLse: 'yes' as never }), TypeError, 'attention: returnLse must be a boolean, got string yes'],
  ])('%s', (_, make, kind, message) => expectError(make, kind, message));

  it('disposed tensors, and views of a disposed owner', () => {
    const a = bnhd();
    a.k.dispose();
    expectError(call(a), TypeError, 'attention: k was disposed (Tensor used after dispose())');
    const owner = fake([2, 5, 8, 64]);
    const view = owner.slice(1, 0, 3);
    owner.dispose();
    expectError(call({ ...bnhd(), q: view }), TypeError, 'attention: q was disposed (Tensor used after dispose())');
  });

  it('out: every rule', () => {
    const q = t.q;
    const o = (out: unknown) => call(t, { out: out as Tensor });
    expectError(o([1]), TypeError, 'attention: out must be a Tensor, got an array of 1');
    expectError(o(fake([2, 5, 8, 64], { dtype: 'bf16' })), TypeError, `attention: out has dtype bf16 but q has f16: out takes q's dtype`);
    expectError(o(fake([2, 5, 8, 64], { device: 2 })), RangeError, `attention: out is on cuda:2 but q is on cuda:0: out must be on q's device`);
    expectError(o(fake([2, 5, 8, 128])), RangeError, `attention: out has shape [2, 5, 8, 128] but q has [2, 5, 8, 64]: out takes q's shape`);
    expectError(o(fake([2, 5, 8, 64], { strides: [2720, 544, 68, 1] })), RangeError,
      'attention: out.strides[2] (Hq) = 68 elements = 136 bytes: TMA needs every stride but the last to be a multiple of 16 bytes (8 f16 elements)');
    expectError(o(fake([2, 5, 8, 64], { strides: [2560, 512, 32, 1] })), RangeError,
      'attention: out has elements that share memory (strides [2560, 512, 32, 1] for shape [2, 5, 8, 64]): every output element needs its own address');
    expectError(o(q), RangeError, 'attention: out overlaps q in memory: an output must not share memory with an input or another output');
    const qkv = fake([2, 5, 2, 8, 64]);
    expectError(call({ ...t, q: qkv.select(2, 0) }, { out: qkv.select(2, 1) }), RangeError,
      'attention: out overlaps q in memory: an output must not share memory with an input or another output');
    const disposed = fake([2, 5, 8, 64]);
    disposed.dispose();
    expectError(o(disposed), TypeError, 'attention: out was disposed (Tensor used after dispose())');
  });

  it('lse: every rule', () => {
    const l = (lse: unknown, extra: AttentionOptions = {}) => call(t, { lse: lse as Tensor, ...extra });
    expectError(l(fake([2, 8, 5], { dtype: 'f32' }), { returnLse: false }), RangeError, 'attention: lse was given but returnLse is false');
    expectError(l('lse'), TypeError, 'attention: lse must be a Tensor, got string lse');
    expectError(l(fake([2, 8, 5], { dtype: 'f16' })), TypeError, 'attention: lse has dtype f16; lse is f32');
    expectError(l(fake([2, 8, 5], { dtype: 'f32', device: 3 })), RangeError, `attention: lse is on cuda:3 but q is on cuda:0: lse must be on q's device`);
    expectError(l(fake([2, 5, 8], { dtype: 'f32' })), RangeError, 'attention: lse has shape [2, 5, 8]; it must be [B, Hq, Nq] = [2, 8, 5]');
    expectError(l(fake([5, 8, 2], { dtype: 'f32' }).transpose(0, 2)), RangeError,
      'attention: lse must be contiguous; strides [1, 2, 16] for shape [2, 8, 5] are not row-major');
    const out = fake([2, 5, 8, 64]);
    const inside = hostTensor([2, 8, 5], { virtual: true, dtype: 'f32', ptr: out.ptr + 64n }).t;
    expectError(l(inside, { out }), RangeError, 'attention: lse overlaps out in memory: an output must not share memory with an input or another output');
  });

  it('nothing is read or written, valid or not', () => {
    // q, k and v sit on virtual storage: any upload or download would throw.
    const made = ['q', 'k', 'v'].map(() => hostTensor([1, 4, 2, 64], { virtual: true, ptr: (nextPtr += 1n << 44n) }));
    const [q, k, v] = made.map((m) => m.t);
    attentionProblem(q, k, v, { causal: true, window: [2, 2], softcap: 30 });
    expect(() => attentionProblem(q, k, v, { scale: -1 })).toThrow(RangeError);
    expect(made.map((m) => [m.storage.uploads, m.storage.downloads])).toEqual([[0, 0], [0, 0], [0, 0]]);
  });

  it('names its limits', () => {
    expect(LIMITS).toMatchObject({ batchHeads: 65535, seq: 2 ** 31 - 1, strideBytes: 2 ** 40 - 16 });
  });
});

describe('varlenProblem: a packed batch', () => {
  /** Three sequences of 5, 0 and 7 queries over 7, 13 and 0 keys: zero lengths on both sides. */
  function packed(opts: Partial<VarlenOptions> = {}) {
    const q = fake([12, 8, 64]);
    const k = fake([20, 2, 64]);
    const v = fake([20, 2, 64]);
    const cq = cu([0, 5, 5, 12]);
    const ck = cu([0, 7, 20, 20]);
    const options: VarlenOptions = { cuSeqlensQ: cq.t, cuSeqlensK: ck.t, maxSeqlenQ: 7, maxSeqlenK: 13, ...opts };
    return { q, k, v, cq, ck, options, run: () => varlenProblem(q, k, v, options) };
  }

  it('describes the batch: B from cuSeqlens, max lengths as seqQ/seqK, token strides', () => {
    const c = packed({ causal: true, window: [3, -1] });
    const p = c.run();
    expect(p).toMatchObject({
      dtype: 'f16', batch: 3, headsQ: 8, headsKV: 2, headDim: 64, seqQ: 7, seqK: 13, layout: 'bnhd', causal: true, window: [3, -1],
      varlen: { cuSeqlensQ: c.cq.t, cuSeqlensK: c.ck.t, totalQ: 12, totalK: 20 },
    });
    expect(p.q).toEqual({ tensor: c.q, batchStride: 0, rowStride: 512, headStride: 64 });
    expect(p.k).toEqual({ tensor: c.k, batchStride: 0, rowStride: 128, headStride: 64 });
    // One read of each cuSeqlens, nothing written anywhere.
    expect([c.cq.storage.downloads, c.ck.storage.downloads, c.cq.storage.uploads, c.ck.storage.uploads]).toEqual([1, 1, 0, 0]);
  });

  it('packed QKV [T, 3, H, D] views, MQA, maxSeqlen above the longest, an all-empty key side', () => {
    const qkv = fake([6, 3, 4, 128], { dtype: 'bf16' });
    const kv = fake([6, 2, 1, 128], { dtype: 'bf16' });
    const p = varlenProblem(qkv.select(1, 0), kv.select(1, 0), kv.select(1, 1), {
      cuSeqlensQ: cu([0, 6]).t, cuSeqlensK: cu([0, 6]).t, maxSeqlenQ: 9, maxSeqlenK: 6,
    });
    expect(p).toMatchObject({ batch: 1, headsQ: 4, headsKV: 1, seqQ: 9, seqK: 6 });
    expect(p.q).toMatchObject({ batchStride: 0, rowStride: 3 * 4 * 128, headStride: 128 });
    expect(p.v).toMatchObject({ rowStride: 2 * 128, headStride: 128 });
    expect(p.v.tensor.byteOffset).toBe(256);
  });

  it('lse is [Hq, totalQ]; out takes q\'s packed shape', () => {
    const out = fake([12, 8, 64]);
    const lse = fake([8, 12], { dtype: 'f32' });
    const p = packed({ out, lse }).run();
    expect(p.out).toEqual({ tensor: out, batchStride: 0, rowStride: 512, headStride: 64 });
    expect([p.lse, p.returnLse]).toEqual([lse, true]);
    expectError(packed({ lse: fake([3, 8, 7], { dtype: 'f32' }) }).run, RangeError,
      'attentionVarlen: lse has shape [3, 8, 7]; it must be [Hq, totalQ] = [8, 12]');
  });

  it.each<[string, () => unknown, typeof TypeError, string]>([
    ['no options', () => varlenProblem(fake([4, 2, 64]), fake([4, 2, 64]), fake([4, 2, 64]), undefined as never), TypeError,
      'attentionVarlen: opts with cuSeqlensQ, cuSeqlensK, maxSeqlenQ and maxSeqlenK is required'],
    ['layout bhnd', packed({ layout: 'bhnd' }).run, RangeError, `attentionVarlen: layout "bhnd" does not apply: a packed batch is [total, H, D] (layout 'bnhd')`],
    ['q of rank 4', () => varlenProblem(fake([1, 12, 8, 64]), fake([20, 2, 64]), fake([20, 2, 64]), packed().options), RangeError,
      'attentionVarlen: q must have rank 3, [totalQ, Hq, D], got rank 4 (shape [1, 12, 8, 64])'],
    ['k of rank 2', () => varlenProblem(fake([12, 8, 64]), fake([20, 128]), fake([20, 128]), packed().options), RangeError,
      'attentionVarlen: k must have rank 3, [totalK, Hkv, D], got rank 2 (shape [20, 128])'],
    ['head dim 96', () => varlenProblem(fake([12, 8, 96]), fake([20, 2, 96]), fake([20, 2, 96]), packed().options), RangeError,
      'attentionVarlen: head dim 96 is not supported; supported: 64, 128, 256'],
    ['GQA mismatch', () => varlenProblem(fake([12, 8, 64]), fake([20, 3, 64]), fake([20, 3, 64]), packed().options), RangeError,
      'attentionVarlen: q has 8 heads (Hq) and k has 3 (Hkv): Hq must be a multiple of Hkv (each K/V head serves Hq / Hkv query heads)'],
    ['a token stride of 12', () => varlenProblem(fake([12, 8, 64], { strides: [12, 64, 1] }), fake([20, 2, 64]), fake([20, 2, 64]), packed().options), RangeError,
      'attentionVarlen: q.strides[0] (totalQ) = 12 elements = 24 bytes: TMA needs every stride but the last to be a multiple of 16 bytes (8 f16 elements)'],
    ['totalQ of 2^31', () => varlenProblem(fake([2 ** 31, 1, 64]), fake([20, 1, 64]), fake([20, 1, 64]), packed().options), RangeError,
      'attentionVarlen: totalQ = 2147483648 exceeds 2^31 - 1: row indices are signed 32-bit'],
    ['cuSeqlensQ missing', packed({ cuSeqlensQ: undefined }).run, TypeError, 'attentionVarlen: cuSeqlensQ is required (an i32 tensor of B + 1 offsets)'],
    ['cuSeqlensK a typed array', packed({ cuSeqlensK: Int32Array.from([0, 20]) as never }).run, TypeError, 'attentionVarlen: cuSeqlensK must be a Tensor, got Int32Array'],
    ['cuSeqlensK of f32', packed({ cuSeqlensK: fake([4], { dtype: 'f32' }) }).run, TypeError, 'attentionVarlen: cuSeqlensK has dtype f32; it must be i32'],
    ['cuSeqlensQ of one entry', packed({ cuSeqlensQ: cu([0]).t }).run, RangeError, 'attentionVarlen: cuSeqlensQ must be one-dimensional with B + 1 >= 2 entries, got shape [1]'],
    ['cuSeqlensQ of rank 2', packed({ cuSeqlensQ: fake([2, 2], { dtype: 'i32' }) }).run, RangeError,
      'attentionVarlen: cuSeqlensQ must be one-dimensional with B + 1 >= 2 entries, got shape [2, 2]'],
    ['cuSeqlensQ strided', packed({ cuSeqlensQ: fake([4, 2], { dtype: 'i32' }).select(1, 0) }).run, RangeError,
      'attentionVarlen: cuSeqlensQ must be contiguous (stride 1), got stride 2'],
    ['cuSeqlensK on another device', packed({ cuSeqlensK: cu([0, 7, 20, 20], { device: 1 }).t }).run, RangeError,
      `attentionVarlen: cuSeqlensK is on cuda:1 but q is on cuda:0: it must be on q's device`],
    ['cuSeqlens of different lengths', packed({ cuSeqlensK: cu([0, 7, 20]).t }).run, RangeError,
      'attentionVarlen: cuSeqlensK has 3 entries but cuSeqlensQ has 4: both are [B + 1]'],
    ['maxSeqlenQ missing', packed({ maxSeqlenQ: undefined }).run, TypeError, 'attentionVarlen: maxSeqlenQ is required'],
    ['maxSeqlenK a string', packed({ maxSeqlenK: '13' as never }).run, TypeError, 'attentionVarlen: maxSeqlenK must be a number, got string 13'],
    ['maxSeqlenK -1', packed({ maxSeqlenK: -1 }).run, RangeError, 'attentionVarlen: maxSeqlenK must be an integer in 0..2^31-1, got -1'],
    ['maxSeqlenQ 2.5', packed({ maxSeqlenQ: 2.5 }).run, RangeError, 'attentionVarlen: maxSeqlenQ must be an integer in 0..2^31-1, got 2.5'],
    ['cuSeqlensQ not starting at 0', packed({ cuSeqlensQ: cu([1, 5, 5, 12]).t }).run, RangeError, 'attentionVarlen: cuSeqlensQ[0] must be 0, got 1'],
    ['cuSeqlensK decreasing', packed({ cuSeqlensK: cu([0, 7, 6, 20]).t }).run, RangeError,
      'attentionVarlen: cuSeqlensK must be non-decreasing: cuSeqlensK[2] = 6 follows cuSeqlensK[1] = 7'],
    ['cuSeqlensQ short of totalQ', packed({ cuSeqlensQ: cu([0, 5, 5, 11]).t }).run, RangeError,
      'attentionVarlen: cuSeqlensQ must end at q.shape[0] = 12, got cuSeqlensQ[3] = 11'],
    ['cuSeqlensK past totalK', packed({ cuSeqlensK: cu([0, 7, 20, 21]).t, maxSeqlenK: 20 }).run, RangeError,
      'attentionVarlen: cuSeqlensK must end at k.shape[0] = 20, got cuSeqlensK[3] = 21'],
    ['maxSeqlenK below the longest', packed({ maxSeqlenK: 12 }).run, RangeError,
      'attentionVarlen: cuSeqlensK: sequence 1 has 13 tokens (cuSeqlensK[2] - cuSeqlensK[1]), more than maxSeqlenK = 12; maxSeqlenK must be at least the longest sequence'],
    ['batch x heads past the grid', () => {
      const n = 8193;
      const offsets = Array.from({ length: n + 1 }, (_, i) => i);
      return varlenProblem(fake([n, 8, 64]), fake([n, 8, 64]), fake([n, 8, 64]), { cuSeqlensQ: cu(offsets).t, cuSeqlensK: cu(offsets).t, maxSeqlenQ: 1, maxSeqlenK: 1 });
    }, RangeError, 'attentionVarlen: batch * Hq = 8193 * 8 = 65544 exceeds 65535, the grid\'s limit on batch x heads'],
    ['softcap -3', packed({ softcap: -3 }).run, RangeError, 'attentionVarlen: softcap must be finite and >= 0 (0 = none), got -3'],
  ])('%s', (_, make, kind, message) => expectError(make, kind, message));

  it('every other check comes before the device read of cuSeqlens', () => {
    const c = packed({ scale: -1 });
    expect(c.run).toThrow(/scale must be finite/);
    const d = packed({ out: fake([12, 8, 64], { dtype: 'bf16' }) });
    expect(d.run).toThrow(/out has dtype bf16/);
    expect([c.cq, c.ck, d.cq, d.ck].map((x) => x.storage.downloads)).toEqual([0, 0, 0, 0]);
  });

  it('a disposed cuSeqlens is refused before it is read', () => {
    const c = packed();
    c.cq.t.dispose();
    expectError(c.run, TypeError, 'attentionVarlen: cuSeqlensQ was disposed (Tensor used after dispose())');
  });
});

describe('checkCuSeqlens (pure)', () => {
  const ctx = { what: 'attentionVarlen', total: 'q.shape[0]', max: 'maxSeqlenQ' };
  it('returns the longest length; zero-length members and maxSeqlen above it are fine', () => {
    expect(checkCuSeqlens(Int32Array.from([0, 3, 3, 10, 10]), 'cuSeqlensQ', 10, 7, ctx)).toBe(7);
    expect(checkCuSeqlens(Int32Array.from([0, 0]), 'cu', 0, 0)).toBe(0);
    expect(checkCuSeqlens(Int32Array.from([0, 4]), 'cu', 4, 100)).toBe(4);
  });
  it.each<[string, number[], number, number, string]>([
    ['too short', [0], 0, 0, 'attentionVarlen: cuSeqlensQ must have at least 2 entries (batch + 1), got 1'],
    ['empty', [], 0, 0, 'attentionVarlen: cuSeqlensQ must have at least 2 entries (batch + 1), got 0'],
    ['a negative start', [-2, 3], 3, 5, 'attentionVarlen: cuSeqlensQ[0] must be 0, got -2'],
    ['a step back', [0, 4, 9, 8, 12], 12, 9, 'attentionVarlen: cuSeqlensQ must be non-decreasing: cuSeqlensQ[3] = 8 follows cuSeqlensQ[2] = 9'],
    ['a long member', [0, 4, 9], 9, 4,
      'attentionVarlen: cuSeqlensQ: sequence 1 has 5 tokens (cuSeqlensQ[2] - cuSeqlensQ[1]), more than maxSeqlenQ = 4; maxSeqlenQ must be at least the longest sequence'],
    ['a wrong end', [0, 4, 9], 10, 5, 'attentionVarlen: cuSeqlensQ must end at q.shape[0] = 10, got cuSeqlensQ[2] = 9'],
  ])('%s', (_, values, total, max, message) => {
    expectError(() => checkCuSeqlens(Int32Array.from(values), 'cuSeqlensQ', total, max, ctx), RangeError, message);
  });
  it('without a context, plain names', () => {
    expectError(() => checkCuSeqlens(Int32Array.from([0, 2]), 'cu', 3, 5), RangeError, 'cu must end at the token total = 3, got cu[1] = 2');
    expectError(() => checkCuSeqlens(Int32Array.from([0, 6]), 'cu', 6, 5), RangeError,
      'cu: sequence 0 has 6 tokens (cu[1] - cu[0]), more than maxSeqlen = 5; maxSeqlen must be at least the longest sequence');
  });
});

describe('run options of the tensor API', () => {
  it('ctas (CTAs of a persistent kernel) must be a positive integer, refused before any device work', async () => {
    const { attentionTensors } = await import('../../src/api/tensor_attention.js');
    const { q, k, v } = bnhd();
    for (const ctas of [0, -1, 1.5, Number.NaN]) {
      await expect(attentionTensors(q, k, v, { ctas })).rejects.toThrow(`ctas must be a positive integer (CTAs of a persistent kernel), got ${String(ctas)}`);
    }
    // A valid count passes this rule (the call then fails later, here for want of a GPU, or runs).
    await attentionTensors(q, k, v, { ctas: 2 }).then(
      () => undefined,
      (e: Error) => expect(e.message).not.toMatch(/ctas must/),
    );
  });
});
