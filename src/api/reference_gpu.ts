// A plain fp32 attention on the GPU: the reference for checks too large for the CPU one. One block
// per (checked row, head): scores for every key in shared memory, the softmax with the row max
// subtracted, then O = P V with the threads across the head dim. Nothing pipelined, nothing shared
// with the kernels under test; GPU tests check it against the CPU reference (reference.ts).
//
// Two kernels: attention_reference (contiguous [heads, n, d], equal lengths, optional causal: the
// buffer-level API's check) and attention_reference_general (any strides, GQA, Nq != Nk, packed
// batches, causal, windows, softcap: the semantics of referenceGeneral in reference.ts).
import { compile, launch, Module, type CompileResult, type DeviceBuffer, type KernelFunction, type Stream } from '../runtime/index.js';
import type { HalfDtype } from './half.js';
import type { AttentionProblem, OperandLayout } from './problem.js';
import type { Tensor } from './tensor.js';

const THREADS = 128;

const REF_SOURCE = `
typedef unsigned short u16;
__device__ __forceinline__ float load16(const u16* p, int bf16) {
  const unsigned h = *p;
  if (bf16) return __uint_as_float(h << 16);
  float f; asm("{ .reg .b16 t; mov.b16 t, %1; cvt.f32.f16 %0, t; }" : "=f"(f) : "h"((u16)h));
  return f;
}
__device__ float blockReduce(float v, float* red, int isMax) {
  const int tid = threadIdx.x;
  red[tid] = v;
  __syncthreads();
  for (int s = ${THREADS} / 2; s > 0; s >>= 1) {
    if (tid < s) red[tid] = isMax ? fmaxf(red[tid], red[tid + s]) : red[tid] + red[tid + s];
    __syncthreads();
  }
  const float r = red[0];
  __syncthreads();
  return r;
}
// Grid (rows checked, batch * heads); dynamic shared memory (d + n) floats.
extern "C" __global__ void __launch_bounds__(${THREADS}) attention_reference(
    const u16* q, const u16* k, const u16* v, float* o, float* lse, const int* rows, int nRows, int n, int d,
    int causal, float scale, int bf16) {
  extern __shared__ float smem[];
  __shared__ float red[${THREADS}];
  float* qs = smem;
  float* s = smem + d;
  const int row = rows[blockIdx.x];
  const size_t head = (size_t)blockIdx.y * n * d;
  for (int x = threadIdx.x; x < d; x += ${THREADS}) qs[x] = load16(q + head + (size_t)row * d + x, bf16);
  __syncthreads();
  const int cols = causal ? min(n, row + 1) : n;
  float mx = __int_as_float(0xff800000);  // -inf (NVRTC has no math.h)
  for (int c = threadIdx.x; c < cols; c += ${THREADS}) {
    const u16* kr = k + head + (size_t)c * d;
    float dot = 0.f;
    for (int x = 0; x < d; ++x) dot = fmaf(qs[x], load16(kr + x, bf16), dot);
    s[c] = dot * scale;
    mx = fmaxf(mx, s[c]);
  }
  mx = blockReduce(mx, red, 1);
  float sum = 0.f;
  for (int c = threadIdx.x; c < cols; c += ${THREADS}) {
    s[c] = expf(s[c] - mx);
    sum += s[c];
  }
  sum = blockReduce(sum, red, 0);
  const size_t out = ((size_t)blockIdx.y * nRows + blockIdx.x) * d;
  for (int x = threadIdx.x; x < d; x += ${THREADS}) {
    float acc = 0.f;
    for (int c = 0; c < cols; ++c) acc = fmaf(s[c], load16(v + head + (size_t)c * d + x, bf16), acc);
    o[out + x] = acc / sum;
  }
  if (threadIdx.x == 0) lse[(size_t)blockIdx.y * nRows + blockIdx.x] = mx + logf(sum);
}

// Grid (rows checked, Hq, B); dynamic shared memory (d + nK) floats. Element x of (batch b, row,
// head) of an operand is at base + b * batch + row * rowStride + head * headStride + x, strides in
// elements; with cuQ/cuK (both or neither) row r of sequence b is token cu[b] + r and the batch
// stride is unused. nQ/nK are the lengths (packed: the max lengths, which size shared memory).
// Query head h reads K/V head h / (hq / hkv). Key j is visible to row i of a sequence of lenQ
// queries and lenK keys when, with diag = i + lenK - lenQ (bottom-right aligned, as
// FlashAttention): (!causal || j <= diag) && (left < 0 || j >= diag - left) && (right < 0 || j <= diag + right).
// Writes o [B][Hq][nRows][d] and lse [B][Hq][nRows] (natural log):
//   no visible key                                      -> O = 0, LSE = -inf
//   row < 0, row >= its sequence's length, or lenK > nK -> not computed: O and LSE are NaN
extern "C" __global__ void __launch_bounds__(${THREADS}) attention_reference_general(
    const u16* q, const u16* k, const u16* v,
    long long qBatch, long long qRowStride, long long qHeadStride,
    long long kBatch, long long kRowStride, long long kHeadStride,
    long long vBatch, long long vRowStride, long long vHeadStride,
    const int* cuQ, const int* cuK, int nQ, int nK, int hq, int hkv, int d,
    int causal, int left, int right, float softcap, float scale, int bf16,
    const int* rows, int nRows, float* o, float* lse) {
  extern __shared__ float smem[];
  __shared__ float red[${THREADS}];
  float* qs = smem;
  float* s = smem + d;
  const int b = blockIdx.z, h = blockIdx.y, r = blockIdx.x;
  const long long row = rows[r];
  long long lenQ = nQ, lenK = nK;
  const u16* qb = q + b * qBatch;
  const u16* kb = k + b * kBatch;
  const u16* vb = v + b * vBatch;
  if (cuQ) {
    lenQ = cuQ[b + 1] - cuQ[b];
    lenK = cuK[b + 1] - cuK[b];
    qb = q + cuQ[b] * qRowStride;
    kb = k + cuK[b] * kRowStride;
    vb = v + cuK[b] * vRowStride;
  }
  const size_t at = ((size_t)b * hq + h) * nRows + r;
  float* out = o + at * d;
  // Every test below is uniform across the block, so returning is safe around __syncthreads.
  if (row < 0 || row >= lenQ || lenK > nK) {
    const float nan = __int_as_float(0x7fc00000);
    for (int x = threadIdx.x; x < d; x += ${THREADS}) out[x] = nan;
    if (threadIdx.x == 0) lse[at] = nan;
    return;
  }
  const long long kvHead = h / (hq / hkv);
  const u16* qr = qb + row * qRowStride + h * qHeadStride;
  const u16* kh = kb + kvHead * kHeadStride;
  const u16* vh = vb + kvHead * vHeadStride;
  const long long diag = row + lenK - lenQ;
  long long lo = 0, hi = lenK - 1;
  if (causal && diag < hi) hi = diag;
  if (right >= 0 && diag + right < hi) hi = diag + right;
  if (left >= 0 && diag - left > lo) lo = diag - left;
  if (hi < lo) {
    for (int x = threadIdx.x; x < d; x += ${THREADS}) out[x] = 0.f;
    if (threadIdx.x == 0) lse[at] = __int_as_float(0xff800000);  // -inf (NVRTC has no math.h)
    return;
  }
  const int cols = (int)(hi - lo + 1);
  for (int x = threadIdx.x; x < d; x += ${THREADS}) qs[x] = load16(qr + x, bf16);
  __syncthreads();
  float mx = __int_as_float(0xff800000);
  for (int c = threadIdx.x; c < cols; c += ${THREADS}) {
    const u16* kr = kh + (lo + c) * kRowStride;
    float dot = 0.f;
    for (int x = 0; x < d; ++x) dot = fmaf(qs[x], load16(kr + x, bf16), dot);
    float logit = dot * scale;
    if (softcap > 0.f) logit = softcap * tanhf(logit / softcap);
    s[c] = logit;
    mx = fmaxf(mx, logit);
  }
  mx = blockReduce(mx, red, 1);
  float sum = 0.f;
  for (int c = threadIdx.x; c < cols; c += ${THREADS}) {
    s[c] = expf(s[c] - mx);
    sum += s[c];
  }
  sum = blockReduce(sum, red, 0);
  for (int x = threadIdx.x; x < d; x += ${THREADS}) {
    float acc = 0.f;
    for (int c = 0; c < cols; ++c) acc = fmaf(s[c], load16(vh + (lo + c) * vRowStride + x, bf16), acc);
    out[x] = acc / sum;
  }
  if (threadIdx.x == 0) lse[at] = mx + logf(sum);
}
`;

/** Longest sequence the reference handles: its scores live in shared memory. */
export const REFERENCE_MAX_KEYS = 50_000;

interface ReferenceKernels {
  rows: KernelFunction;
  general: KernelFunction;
}

// One compile for the process; one module per device. A failure is not remembered.
let refCubin: Promise<CompileResult> | undefined;
const refKernels = new Map<number, Promise<ReferenceKernels>>();

function referenceKernels(device: number): Promise<ReferenceKernels> {
  let kernels = refKernels.get(device);
  if (!kernels) {
    refCubin ??= compile(REF_SOURCE, { name: 'stagewise_reference.cu' });
    kernels = refCubin.then((r) => {
      const mod = Module.load(r.cubin, { device });
      const loaded = { rows: mod.getFunction('attention_reference'), general: mod.getFunction('attention_reference_general') };
      for (const f of Object.values(loaded)) f.setMaxDynamicSharedMemory((REFERENCE_MAX_KEYS + 256) * 4);
      return loaded;
    });
    kernels.catch(() => {
      refKernels.delete(device);
      refCubin = undefined;
    });
    refKernels.set(device, kernels);
  }
  return kernels;
}

export interface ReferenceLaunch {
  q: DeviceBuffer;
  k: DeviceBuffer;
  v: DeviceBuffer;
  /** [heads, rows.length, d] float32. */
  o: DeviceBuffer;
  /** [heads, rows.length] float32, natural log. */
  lse: DeviceBuffer;
  /** int32 row indices, rowCount of them. */
  rows: DeviceBuffer;
  rowCount: number;
  /** batch * heads: every head is computed. */
  heads: number;
  n: number;
  d: number;
  causal: boolean;
  scale: number;
  dtype: HalfDtype;
}

/** Queues the reference for the given rows of every head (contiguous [heads, n, d] inputs). */
export async function launchReference(r: ReferenceLaunch): Promise<void> {
  if (r.n > REFERENCE_MAX_KEYS) throw new RangeError(`the GPU reference handles at most ${REFERENCE_MAX_KEYS} keys, got ${r.n}`);
  const fn = (await referenceKernels(r.q.device)).rows;
  launch(fn, {
    grid: [r.rowCount, r.heads, 1],
    block: [THREADS, 1, 1],
    sharedMemBytes: (r.d + r.n) * 4,
    params: [
      { ptr: r.q }, { ptr: r.k }, { ptr: r.v }, { ptr: r.o }, { ptr: r.lse }, { ptr: r.rows },
      { i32: r.rowCount }, { i32: r.n }, { i32: r.d }, { i32: r.causal ? 1 : 0 }, { f32: r.scale }, { i32: r.dtype === 'bf16' ? 1 : 0 },
    ],
  });
}

export interface GeneralReferenceLaunch {
  /** What to compute (from attentionProblem or varlenProblem); its tensors are read in place. */
  problem: AttentionProblem;
  /** int32 query row indices, relative to each sequence; rowCount of them. */
  rows: DeviceBuffer;
  rowCount: number;
  /** float32 [batch][headsQ][rowCount][headDim]. */
  o: DeviceBuffer;
  /** float32 [batch][headsQ][rowCount], natural log. */
  lse: DeviceBuffer;
  /** Default: the device's default stream. */
  stream?: Stream;
}

/** Queues attention_reference_general for the given rows of every (batch, query head). Rows past
 * a sequence's end (a packed batch's shorter members, or any row outside 0..seqQ-1) come back NaN
 * in O and LSE; a row that sees no key comes back O = 0, LSE = -inf (see referenceGeneral). */
export async function launchGeneralReference(r: GeneralReferenceLaunch): Promise<void> {
  const what = 'launchGeneralReference';
  const p = r.problem;
  if (p.seqK > REFERENCE_MAX_KEYS) throw new RangeError(`${what}: the GPU reference handles at most ${REFERENCE_MAX_KEYS} keys, got ${p.seqK}`);
  if (!Number.isInteger(r.rowCount) || r.rowCount < 1 || r.rowCount > 2 ** 31 - 1)
    throw new RangeError(`${what}: rowCount must be an integer in 1..2^31-1, got ${r.rowCount}`);
  const outputs = p.batch * p.headsQ * r.rowCount;
  for (const [name, buf, bytes] of [['rows', r.rows, r.rowCount * 4], ['o', r.o, outputs * p.headDim * 4], ['lse', r.lse, outputs * 4]] as const)
    if (buf.bytes < bytes) throw new RangeError(`${what}: ${name} has ${buf.bytes} bytes; it needs ${bytes}`);
  const fn = (await referenceKernels(p.device)).general;
  const base = (t: Tensor) => ({ ptr: t.buffer, offsetBytes: t.byteOffset });
  const strides = (x: OperandLayout) => [{ u64: BigInt(x.batchStride) }, { u64: BigInt(x.rowStride) }, { u64: BigInt(x.headStride) }];
  const cu = (t: Tensor | undefined) => (t ? base(t) : { u64: 0n }); // a null pointer: fixed lengths
  const [left, right] = p.window ?? [-1, -1];
  launch(
    fn,
    {
      grid: [r.rowCount, p.headsQ, p.batch],
      block: [THREADS, 1, 1],
      sharedMemBytes: (p.headDim + p.seqK) * 4,
      params: [
        base(p.q.tensor), base(p.k.tensor), base(p.v.tensor),
        ...strides(p.q), ...strides(p.k), ...strides(p.v),
        cu(p.varlen?.cuSeqlensQ), cu(p.varlen?.cuSeqlensK),
        { i32: p.seqQ }, { i32: p.seqK }, { i32: p.headsQ }, { i32: p.headsKV }, { i32: p.headDim },
        { i32: p.causal ? 1 : 0 }, { i32: left }, { i32: right }, { f32: p.softcap }, { f32: p.scale }, { i32: p.dtype === 'bf16' ? 1 : 0 },
        { ptr: r.rows }, { i32: r.rowCount }, { ptr: r.o }, { ptr: r.lse },
      ],
    },
    r.stream,
  );
}
