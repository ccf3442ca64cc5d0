// A plain fp32 attention on the GPU: the reference for checks too large for the CPU one. One block
// per (checked row, head): scores for every key in shared memory, the softmax with the row max
// subtracted, then O = P V with the threads across the head dim. Nothing pipelined, nothing shared
// with the kernels under test; a GPU test checks it against the CPU reference (reference.ts).
import { compile, launch, Module, type CompileResult, type DeviceBuffer, type KernelFunction } from '../runtime/index.js';
import type { HalfDtype } from './half.js';

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
`;

/** Longest sequence the reference handles: its scores live in shared memory. */
export const REFERENCE_MAX_KEYS = 50_000;

let refCubin: Promise<CompileResult> | undefined;
const refKernels = new Map<number, Promise<KernelFunction>>();

function referenceKernel(device: number): Promise<KernelFunction> {
  let fn = refKernels.get(device);
  if (!fn) {
    refCubin ??= compile(REF_SOURCE, { name: 'stagewise_reference.cu' });
    fn = refCubin.then((r) => {
      const f = Module.load(r.cubin, { device }).getFunction('attention_reference');
      f.setMaxDynamicSharedMemory((REFERENCE_MAX_KEYS + 256) * 4);
      return f;
    });
    fn.catch(() => {
      refKernels.delete(device);
      refCubin = undefined;
    });
    refKernels.set(device, fn);
  }
  return fn;
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
  const fn = await referenceKernel(r.q.device);
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
