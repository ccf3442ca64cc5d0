// One attention call, checked and normalised before anything runs: the tensors' dtypes, devices,
// shapes, strides and addresses, the options, and the limits of the kernel's indexing. What comes
// out (AttentionProblem) is plain data that choosing, generating and launching a kernel read; it
// holds the caller's tensors as they are (strided views are taken without a copy).
//
// Every rejection is a TypeError (wrong kind of value) or RangeError (bad value) naming the
// argument and the rule, thrown before anything is allocated, compiled or launched. Nothing here
// writes to a tensor. The one device access is varlenProblem's read of cuSeqlensQ/K, whose values
// it must check (checkCuSeqlens is that check as a pure function).
//
// Layouts: Q is [B, Nq, Hq, D] ('bnhd', as flash_attn_func takes it; the default) or
// [B, Hq, Nq, D] ('bhnd', as torch SDPA); K and V are [B, Nkv, Hkv, D] in the same layout. A packed
// (varlen) batch is Q [totalQ, Hq, D] and K/V [totalK, Hkv, D], as flash_attn_varlen_func takes it.
import { requireOneOf, requireOptions, MAX_SAFE } from '../runtime/check.js';
import { isContiguous, lastElement } from './layout.js';
import { Tensor } from './tensor.js';

export const SUPPORTED_HEAD_DIMS = [64, 128, 256] as const;
export type HeadDim = (typeof SUPPORTED_HEAD_DIMS)[number];
export type AttentionLayout = 'bnhd' | 'bhnd';
export const ATTENTION_LAYOUTS: readonly AttentionLayout[] = ['bnhd', 'bhnd'];

/** The indexing limits of the kernels, each named in the error that enforces it. */
export const LIMITS = {
  /** batch * query heads: one grid dimension covers them, and CUDA caps grid y and z at 65535. */
  batchHeads: 65535,
  /** Sequence lengths and token totals: row coordinates (TMA's, cuSeqlens') are signed 32-bit. */
  seq: 2 ** 31 - 1,
  /** TMA global strides are multiples of 16 bytes below 2^40. */
  strideBytes: 2 ** 40 - 16,
  /** Element and byte offsets are computed exactly in doubles on the host. */
  offset: MAX_SAFE,
} as const;

/** TMA reads and writes global memory at 16-byte granularity: base addresses and every stride but
 * the last are multiples of it. */
export const TMA_ALIGN_BYTES = 16;

export interface AttentionOptions {
  causal?: boolean;
  /** Multiplies Q K^T; default 1/sqrt(D). */
  scale?: number;
  /** [left, right] keys visible around the diagonal; -1 = unbounded on that side. */
  window?: [number, number];
  /** softcap * tanh(logit / softcap) on the scaled logits; 0 or undefined = none. */
  softcap?: number;
  returnLse?: boolean;
  /** Where O goes: Q's dtype, device and shape; any 16-byte strides with a contiguous last dim. */
  out?: Tensor;
  /** Where LSE goes (natural log): f32, contiguous, [B, Hq, Nq] ([Hq, totalQ] for varlen). */
  lse?: Tensor;
  /** Default 'bnhd'. A packed (varlen) batch is always [total, H, D]. */
  layout?: AttentionLayout;
}

export interface VarlenOptions extends AttentionOptions {
  /** int32 [B + 1]: sequence b is tokens cuSeqlensQ[b] .. cuSeqlensQ[b + 1] - 1 of q. */
  cuSeqlensQ: Tensor;
  cuSeqlensK: Tensor;
  /** At least the longest query sequence; sizes the grid. */
  maxSeqlenQ: number;
  maxSeqlenK: number;
}

/** Element strides (in elements of the 16-bit dtype) and base of one operand: row = along the sequence. */
export interface OperandLayout {
  /** The caller's tensor: its `ptr` is the address of element (0, 0, 0, 0). */
  tensor: Tensor;
  batchStride: number;
  rowStride: number;
  headStride: number;
}

export interface AttentionProblem {
  dtype: 'f16' | 'bf16';
  device: number;
  batch: number;
  headsQ: number;
  headsKV: number;
  headDim: HeadDim;
  /** Fixed lengths; for varlen: maxSeqlenQ / maxSeqlenK. */
  seqQ: number;
  seqK: number;
  /** The layout Q, K, V (and out) were given in; 'bnhd' for varlen (packed [total, H, D]). */
  layout: AttentionLayout;
  q: OperandLayout;
  k: OperandLayout;
  v: OperandLayout;
  /** The caller's output tensor (same form as q), or null: allocate one. */
  out: OperandLayout | null;
  /** The caller's LSE tensor, or null. */
  lse: Tensor | null;
  /** Whether LSE is wanted (returnLse, or an lse tensor given). */
  returnLse: boolean;
  causal: boolean;
  /** [left, right], -1 = unbounded on that side (FlashAttention's convention); null = no window
   * (also what [-1, -1] becomes). */
  window: [number, number] | null;
  /** 0 = none. */
  softcap: number;
  /** Default 1/sqrt(headDim). */
  scale: number;
  varlen: null | { cuSeqlensQ: Tensor; cuSeqlensK: Tensor; totalQ: number; totalK: number };
}

/** Where each role sits in an operand's shape, and the names the errors give the dimensions. */
interface Form {
  rank: number;
  batch: number | null;
  row: number;
  head: number;
  qNames: readonly string[];
  kvNames: readonly string[];
}

const FORMS: Record<AttentionLayout | 'packed', Form> = {
  bnhd: { rank: 4, batch: 0, row: 1, head: 2, qNames: ['B', 'Nq', 'Hq', 'D'], kvNames: ['B', 'Nkv', 'Hkv', 'D'] },
  bhnd: { rank: 4, batch: 0, row: 2, head: 1, qNames: ['B', 'Hq', 'Nq', 'D'], kvNames: ['B', 'Hkv', 'Nkv', 'D'] },
  packed: { rank: 3, batch: null, row: 0, head: 1, qNames: ['totalQ', 'Hq', 'D'], kvNames: ['totalK', 'Hkv', 'D'] },
};

/** Checks a fixed-length call, attention(q, k, v, opts), and describes it. */
export function attentionProblem(q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions): AttentionProblem {
  const what = 'attention';
  const o = requireOptions(opts, `${what}: opts`);
  const layout = requireOneOf(o.layout ?? 'bnhd', `${what}: layout`, ATTENTION_LAYOUTS);
  const form = FORMS[layout];
  const io = operands(what, form, layout, q, k, v);
  const batch = q.shape[0];
  if (k.shape[0] !== batch) throw new RangeError(`${what}: k has batch ${k.shape[0]} but q has ${batch}: q, k and v must have the same batch size`);
  const seqQ = q.shape[form.row];
  const seqK = k.shape[form.row];
  requireSeq(what, 'Nq', seqQ);
  requireSeq(what, 'Nkv', seqK);
  requireBatchHeads(what, batch, io.headsQ);
  const opt = options(what, o, io.headDim);
  const out = outTensor(what, o.out, q, form, io);
  const lse = lseTensor(what, o, [batch, io.headsQ, seqQ], '[B, Hq, Nq]', [q, k, v, o.out]);
  return { ...io, batch, seqQ, seqK, layout, out, ...lse, ...opt, varlen: null };
}

/** Checks a packed call, attentionVarlen(q, k, v, opts), and describes it. Reads cuSeqlensQ/K
 * from the device (synchronously, after the work queued on its default stream) to check them. */
export function varlenProblem(q: Tensor, k: Tensor, v: Tensor, opts: VarlenOptions): AttentionProblem {
  const what = 'attentionVarlen';
  if (opts === undefined)
    throw new TypeError(`${what}: opts with cuSeqlensQ, cuSeqlensK, maxSeqlenQ and maxSeqlenK is required`);
  const o = requireOptions(opts, `${what}: opts`);
  if (o.layout !== undefined && o.layout !== 'bnhd')
    throw new RangeError(`${what}: layout ${JSON.stringify(o.layout)} does not apply: a packed batch is [total, H, D] (layout 'bnhd')`);
  const form = FORMS.packed;
  const io = operands(what, form, 'bnhd', q, k, v);
  const totalQ = q.shape[0];
  const totalK = k.shape[0];
  requireSeq(what, 'totalQ', totalQ);
  requireSeq(what, 'totalK', totalK);
  const cuQ = cuSeqlensTensor(what, 'cuSeqlensQ', o.cuSeqlensQ, q.device);
  const cuK = cuSeqlensTensor(what, 'cuSeqlensK', o.cuSeqlensK, q.device);
  if (cuK.shape[0] !== cuQ.shape[0])
    throw new RangeError(`${what}: cuSeqlensK has ${cuK.shape[0]} entries but cuSeqlensQ has ${cuQ.shape[0]}: both are [B + 1]`);
  const batch = cuQ.shape[0] - 1;
  const maxSeqlenQ = maxSeqlen(what, 'maxSeqlenQ', o.maxSeqlenQ);
  const maxSeqlenK = maxSeqlen(what, 'maxSeqlenK', o.maxSeqlenK);
  requireBatchHeads(what, batch, io.headsQ);
  const opt = options(what, o, io.headDim);
  const out = outTensor(what, o.out, q, form, io);
  const lse = lseTensor(what, o, [io.headsQ, totalQ], '[Hq, totalQ]', [q, k, v, o.out, cuQ, cuK]);
  // Last: the only checks that touch the device.
  checkCuSeqlens(cuQ.toInt32Array(), 'cuSeqlensQ', totalQ, maxSeqlenQ, { what, total: 'q.shape[0]', max: 'maxSeqlenQ' });
  checkCuSeqlens(cuK.toInt32Array(), 'cuSeqlensK', totalK, maxSeqlenK, { what, total: 'k.shape[0]', max: 'maxSeqlenK' });
  return {
    ...io, batch, seqQ: maxSeqlenQ, seqK: maxSeqlenK, layout: 'bnhd', out, ...lse, ...opt,
    varlen: { cuSeqlensQ: cuQ, cuSeqlensK: cuK, totalQ, totalK },
  };
}

/** Checks the values of a cuSeqlens array (named `name`): at least two entries, starting at 0,
 * non-decreasing, ending at `total`, and no sequence longer than `maxSeqlen`. Returns the longest
 * length. `context` names the call that starts each message and what `total` and `maxSeqlen` are. */
export function checkCuSeqlens(
  values: Int32Array,
  name: string,
  total: number,
  maxSeqlen: number,
  context: { what?: string; total?: string; max?: string } = {},
): number {
  const at = context.what ? `${context.what}: ` : '';
  const totalName = context.total ?? 'the token total';
  const maxName = context.max ?? 'maxSeqlen';
  if (values.length < 2) throw new RangeError(`${at}${name} must have at least 2 entries (batch + 1), got ${values.length}`);
  if (values[0] !== 0) throw new RangeError(`${at}${name}[0] must be 0, got ${values[0]}`);
  let longest = 0;
  for (let b = 1; b < values.length; b++) {
    const length = values[b] - values[b - 1];
    if (length < 0)
      throw new RangeError(`${at}${name} must be non-decreasing: ${name}[${b}] = ${values[b]} follows ${name}[${b - 1}] = ${values[b - 1]}`);
    if (length > maxSeqlen)
      throw new RangeError(
        `${at}${name}: sequence ${b - 1} has ${length} tokens (${name}[${b}] - ${name}[${b - 1}]), more than ${maxName} = ${maxSeqlen}; ${maxName} must be at least the longest sequence`,
      );
    longest = Math.max(longest, length);
  }
  const last = values[values.length - 1];
  if (last !== total)
    throw new RangeError(`${at}${name} must end at ${totalName} = ${total}, got ${name}[${values.length - 1}] = ${last}`);
  return longest;
}

/** What the three operands agree on, after every per-tensor and cross-tensor check. */
interface Operands {
  dtype: 'f16' | 'bf16';
  device: number;
  headsQ: number;
  headsKV: number;
  headDim: HeadDim;
  q: OperandLayout;
  k: OperandLayout;
  v: OperandLayout;
}

function operands(what: string, form: Form, layout: AttentionLayout, q: Tensor, k: Tensor, v: Tensor): Operands {
  const shapeText = (names: readonly string[]) => `[${names.join(', ')}]${form.batch === null ? '' : ` for layout '${layout}'`}`;
  const list = [
    { name: 'q', t: q, names: form.qNames },
    { name: 'k', t: k, names: form.kvNames },
    { name: 'v', t: v, names: form.kvNames },
  ];
  for (const { name, t, names } of list) {
    requireTensor(what, name, t);
    if (t.rank !== form.rank)
      throw new RangeError(`${what}: ${name} must have rank ${form.rank}, ${shapeText(names)}, got rank ${t.rank} (shape [${t.shape.join(', ')}])`);
    requirePositiveDims(what, name, t, names);
  }
  if (q.dtype !== 'f16' && q.dtype !== 'bf16') throw new TypeError(`${what}: q has dtype ${q.dtype}; attention takes f16 or bf16`);
  for (const { name, t } of list.slice(1)) {
    if (t.dtype !== q.dtype) throw new TypeError(`${what}: ${name} has dtype ${t.dtype} but q has ${q.dtype}: q, k and v must have the same dtype`);
    if (t.device !== q.device)
      throw new RangeError(`${what}: ${name} is on cuda:${t.device} but q is on cuda:${q.device}: q, k and v must be on the same device`);
  }
  const d = form.rank - 1;
  for (const { name, t } of list.slice(1))
    if (t.shape[d] !== q.shape[d])
      throw new RangeError(`${what}: ${name} has head dim ${t.shape[d]} but q has ${q.shape[d]}: q, k and v must have the same head dim`);
  const headDim = q.shape[d];
  if (!(SUPPORTED_HEAD_DIMS as readonly number[]).includes(headDim))
    throw new RangeError(`${what}: head dim ${headDim} is not supported; supported: ${SUPPORTED_HEAD_DIMS.join(', ')}`);
  if (!sameShape(k.shape, v.shape))
    throw new RangeError(`${what}: v has shape [${v.shape.join(', ')}] but k has [${k.shape.join(', ')}]: k and v must have the same shape`);
  const headsQ = q.shape[form.head];
  const headsKV = k.shape[form.head];
  if (headsQ % headsKV !== 0)
    throw new RangeError(
      `${what}: q has ${headsQ} heads (Hq) and k has ${headsKV} (Hkv): Hq must be a multiple of Hkv (each K/V head serves Hq / Hkv query heads)`,
    );
  const [lq, lk, lv] = list.map(({ name, t, names }) => tmaOperand(what, name, t, names, form));
  return { dtype: q.dtype, device: q.device, headsQ, headsKV, headDim: headDim as HeadDim, q: lq, k: lk, v: lv };
}

function requireTensor(what: string, name: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new TypeError(`${what}: ${name} must be a Tensor, got ${kindOf(t)}`);
  if (t.disposed) throw new TypeError(`${what}: ${name} was disposed (Tensor used after dispose())`);
}

function requirePositiveDims(what: string, name: string, t: Tensor, names: readonly string[]): void {
  t.shape.forEach((size, i) => {
    if (size < 1) throw new RangeError(`${what}: ${name}.shape[${i}] (${names[i]}) must be at least 1, got ${size}`);
  });
}

/** The strides and address TMA can describe, checked; a size-1 dimension is never stepped along,
 * so its stride is free: one TMA could not take is reported as the head dim (a valid stride). */
function tmaOperand(what: string, name: string, t: Tensor, names: readonly string[], form: Form): OperandLayout {
  const strides = tmaStrides(what, name, t, names);
  return {
    tensor: t,
    batchStride: form.batch === null ? 0 : strides[form.batch],
    rowStride: strides[form.row],
    headStride: strides[form.head],
  };
}

function tmaStrides(what: string, name: string, t: Tensor, names: readonly string[]): number[] {
  const bytes = t.elementBytes;
  const last = t.rank - 1;
  if (t.strides[last] !== 1)
    throw new RangeError(`${what}: ${name} must be contiguous in its last dimension (${names[last]}): stride 1, got ${t.strides[last]}`);
  const reach = (lastElement(t) - t.offset + 1) * bytes;
  if (reach > LIMITS.offset)
    throw new RangeError(`${what}: ${name} spans ${reach} bytes from its first element: offsets must stay below 2^53 (exact on the host)`);
  const unit = TMA_ALIGN_BYTES / bytes;
  const strides = t.strides.map((stride, i) => {
    if (i === last) return stride;
    const valid = stride >= unit && stride % unit === 0 && stride * bytes <= LIMITS.strideBytes;
    if (valid) return stride;
    if (t.shape[i] === 1) return t.shape[last];
    const where = `${name}.strides[${i}] (${names[i]}) = ${stride} elements`;
    if (stride === 0)
      throw new RangeError(`${what}: ${where}, a broadcast: TMA strides must be at least 16 bytes; materialise the tensor`);
    if (stride * bytes > LIMITS.strideBytes)
      throw new RangeError(`${what}: ${where} = ${stride * bytes} bytes: TMA strides must be below 2^40 bytes`);
    throw new RangeError(
      `${what}: ${where} = ${stride * bytes} bytes: TMA needs every stride but the last to be a multiple of 16 bytes (${unit} ${t.dtype} elements)`,
    );
  });
  if (t.ptr % BigInt(TMA_ALIGN_BYTES) !== 0n)
    throw new RangeError(
      `${what}: ${name}'s address 0x${t.ptr.toString(16)} (offset ${t.offset} elements into its storage) must be 16-byte aligned for TMA`,
    );
  return strides;
}

function requireSeq(what: string, name: string, length: number): void {
  if (length > LIMITS.seq) throw new RangeError(`${what}: ${name} = ${length} exceeds 2^31 - 1: row indices are signed 32-bit`);
}

function requireBatchHeads(what: string, batch: number, headsQ: number): void {
  if (batch * headsQ > LIMITS.batchHeads)
    throw new RangeError(
      `${what}: batch * Hq = ${batch} * ${headsQ} = ${batch * headsQ} exceeds ${LIMITS.batchHeads}, the grid's limit on batch x heads`,
    );
}

function options(what: string, o: Partial<AttentionOptions>, headDim: number) {
  const causal = o.causal ?? false;
  if (typeof causal !== 'boolean') throw new TypeError(`${what}: causal must be a boolean, got ${kindOf(causal)}`);
  const scale = o.scale ?? 1 / Math.sqrt(headDim);
  if (typeof scale !== 'number') throw new TypeError(`${what}: scale must be a number, got ${kindOf(scale)}`);
  if (!Number.isFinite(scale) || scale <= 0) throw new RangeError(`${what}: scale must be finite and > 0, got ${scale}`);
  const softcap = o.softcap ?? 0;
  if (typeof softcap !== 'number') throw new TypeError(`${what}: softcap must be a number, got ${kindOf(softcap)}`);
  if (!Number.isFinite(softcap) || softcap < 0)
    throw new RangeError(`${what}: softcap must be finite and >= 0 (0 = none), got ${softcap}`);
  return { causal, scale, softcap, window: windowOption(what, o.window) };
}

function windowOption(what: string, window: unknown): [number, number] | null {
  if (window === undefined || window === null) return null;
  if (!Array.isArray(window) || window.length !== 2)
    throw new TypeError(`${what}: window must be [left, right] (two integers, -1 = unbounded), got ${kindOf(window)}`);
  const sides = window.map((side, i) => {
    const which = `window[${i}] (${i === 0 ? 'left' : 'right'})`;
    if (typeof side !== 'number') throw new TypeError(`${what}: ${which} must be a number, got ${kindOf(side)}`);
    if (!Number.isInteger(side) || side < -1 || side > LIMITS.seq)
      throw new RangeError(`${what}: ${which} must be an integer in -1..2^31-1 (-1 = unbounded), got ${side}`);
    return side;
  }) as [number, number];
  return sides[0] === -1 && sides[1] === -1 ? null : sides;
}

function outTensor(what: string, out: unknown, q: Tensor, form: Form, io: Operands): OperandLayout | null {
  if (out === undefined) return null;
  requireTensor(what, 'out', out);
  if (out.dtype !== q.dtype) throw new TypeError(`${what}: out has dtype ${out.dtype} but q has ${q.dtype}: out takes q's dtype`);
  if (out.device !== q.device) throw new RangeError(`${what}: out is on cuda:${out.device} but q is on cuda:${q.device}: out must be on q's device`);
  if (!sameShape(out.shape, q.shape))
    throw new RangeError(`${what}: out has shape [${out.shape.join(', ')}] but q has [${q.shape.join(', ')}]: out takes q's shape`);
  const layout = tmaOperand(what, 'out', out, form.qNames, form);
  requireNoSelfOverlap(what, 'out', out);
  requireDisjoint(what, 'out', out, [io.q.tensor, io.k.tensor, io.v.tensor], ['q', 'k', 'v']);
  return layout;
}

function lseTensor(
  what: string,
  o: Partial<AttentionOptions>,
  shape: number[],
  shapeText: string,
  others: (Tensor | undefined)[],
): { lse: Tensor | null; returnLse: boolean } {
  const returnLse = o.returnLse ?? o.lse !== undefined;
  if (typeof returnLse !== 'boolean') throw new TypeError(`${what}: returnLse must be a boolean, got ${kindOf(returnLse)}`);
  if (o.lse === undefined) return { lse: null, returnLse };
  const lse: unknown = o.lse;
  requireTensor(what, 'lse', lse);
  if (!returnLse) throw new RangeError(`${what}: lse was given but returnLse is false`);
  if (lse.dtype !== 'f32') throw new TypeError(`${what}: lse has dtype ${lse.dtype}; lse is f32`);
  const q = others[0]!;
  if (lse.device !== q.device) throw new RangeError(`${what}: lse is on cuda:${lse.device} but q is on cuda:${q.device}: lse must be on q's device`);
  if (!sameShape(lse.shape, shape))
    throw new RangeError(`${what}: lse has shape [${lse.shape.join(', ')}]; it must be ${shapeText} = [${shape.join(', ')}]`);
  if (!isContiguous(lse))
    throw new RangeError(`${what}: lse must be contiguous; strides [${lse.strides.join(', ')}] for shape [${lse.shape.join(', ')}] are not row-major`);
  const names = ['q', 'k', 'v', 'out', 'cuSeqlensQ', 'cuSeqlensK'];
  requireDisjoint(what, 'lse', lse, others, names);
  return { lse, returnLse };
}

function cuSeqlensTensor(what: string, name: string, t: unknown, device: number): Tensor {
  if (t === undefined) throw new TypeError(`${what}: ${name} is required (an i32 tensor of B + 1 offsets)`);
  requireTensor(what, name, t);
  if (t.dtype !== 'i32') throw new TypeError(`${what}: ${name} has dtype ${t.dtype}; it must be i32`);
  if (t.rank !== 1 || t.shape[0] < 2)
    throw new RangeError(`${what}: ${name} must be one-dimensional with B + 1 >= 2 entries, got shape [${t.shape.join(', ')}]`);
  if (t.strides[0] !== 1) throw new RangeError(`${what}: ${name} must be contiguous (stride 1), got stride ${t.strides[0]}`);
  if (t.device !== device) throw new RangeError(`${what}: ${name} is on cuda:${t.device} but q is on cuda:${device}: it must be on q's device`);
  return t;
}

function maxSeqlen(what: string, name: string, value: unknown): number {
  if (value === undefined) throw new TypeError(`${what}: ${name} is required`);
  if (typeof value !== 'number') throw new TypeError(`${what}: ${name} must be a number, got ${kindOf(value)}`);
  if (!Number.isInteger(value) || value < 0 || value > LIMITS.seq)
    throw new RangeError(`${what}: ${name} must be an integer in 0..2^31-1, got ${value}`);
  return value;
}

/** Sufficient for distinct addresses: ordered by stride, each stride steps past everything the
 * smaller ones reach (the check torch makes before writing to a tensor). */
function requireNoSelfOverlap(what: string, name: string, t: Tensor): void {
  const dims = t.shape.map((size, i) => ({ size, stride: t.strides[i] })).filter((x) => x.size > 1);
  dims.sort((a, b) => a.stride - b.stride);
  let reach = 1;
  for (const { size, stride } of dims) {
    if (stride < reach)
      throw new RangeError(
        `${what}: ${name} has elements that share memory (strides [${t.strides.join(', ')}] for shape [${t.shape.join(', ')}]): every output element needs its own address`,
      );
    reach = stride * (size - 1) + reach;
  }
}

/** The byte ranges from each tensor's first to its last element must not meet: conservative for
 * interleaved views, exact for everything else. */
function requireDisjoint(what: string, name: string, t: Tensor, others: (Tensor | undefined)[], names: string[]): void {
  const [lo, hi] = span(t);
  others.forEach((other, i) => {
    if (other === undefined || other.device !== t.device) return;
    const [a, b] = span(other);
    if (lo < b && a < hi)
      throw new RangeError(`${what}: ${name} overlaps ${names[i]} in memory: an output must not share memory with an input or another output`);
  });
}

function span(t: Tensor): [bigint, bigint] {
  return [t.ptr, t.ptr + BigInt((lastElement(t) - t.offset + 1) * t.elementBytes)];
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, i) => size === b[i]);
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return `${typeof value} ${String(value)}`;
}
