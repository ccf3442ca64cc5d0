// The check's two passes over a whole output, on the GPU: count the NaN elements (the poison a
// kernel left in place, or a NaN it computed) and gather the checked rows into one small buffer.
// Before (session 19), a check downloaded the whole O (268 MB at the gate's shapes) and scanned it
// in JS: 1.36 s of a gate config's ~2.3 s a round (bench/NOTES.md session 20). What comes back now
// is one counter and the checked rows. attention.ts countPoison/gatherRows are the CPU statement of
// the same (check_gpu.gpu.test compares them element for element, with poison placed anywhere).
import { compile, launch, Module, type CompileResult, type DeviceBuffer, type KernelFunction } from '../runtime/index.js';
import type { HalfDtype } from './half.js';

const THREADS = 256;

const CHECK_SOURCE = `
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
// count[0] += the elements of p[0..n) whose 16 bits are a NaN: (bits & 0x7fff) > infBits
// (0x7c00 for f16, 0x7f80 for bf16).
extern "C" __global__ void __launch_bounds__(${THREADS}) count_nan16(const u16* p, u64 n, u32 infBits, u64* count) {
  u32 mine = 0;
  for (u64 i = blockIdx.x * (u64)blockDim.x + threadIdx.x; i < n; i += (u64)gridDim.x * blockDim.x)
    mine += (p[i] & 0x7fffu) > infBits;
  for (int o = 16; o > 0; o >>= 1) mine += __shfl_down_sync(0xffffffffu, mine, o);
  if ((threadIdx.x & 31) == 0 && mine) atomicAdd(count, (u64)mine);
}
// The same for float32 (the LSE): exponent all ones and a nonzero mantissa.
extern "C" __global__ void __launch_bounds__(${THREADS}) count_nan32(const u32* p, u64 n, u64* count) {
  u32 mine = 0;
  for (u64 i = blockIdx.x * (u64)blockDim.x + threadIdx.x; i < n; i += (u64)gridDim.x * blockDim.x)
    mine += (p[i] & 0x7fffffffu) > 0x7f800000u;
  for (int o = 16; o > 0; o >>= 1) mine += __shfl_down_sync(0xffffffffu, mine, o);
  if ((threadIdx.x & 31) == 0 && mine) atomicAdd(count, (u64)mine);
}
// out[h][i][x] = src[(h * n + rows[i]) * d + x] for 16-bit elements; grid (heads, nRows).
extern "C" __global__ void __launch_bounds__(${THREADS}) gather_rows16(const u16* src, u16* out, const int* rows, int nRows, int n, int d) {
  const u64 from = ((u64)blockIdx.x * n + rows[blockIdx.y]) * d;
  const u64 to = ((u64)blockIdx.x * nRows + blockIdx.y) * d;
  for (int x = threadIdx.x; x < d; x += blockDim.x) out[to + x] = src[from + x];
}
// out[h][i] = src[h * n + rows[i]] for 32-bit elements; grid (heads, ceil(nRows / THREADS)).
extern "C" __global__ void __launch_bounds__(${THREADS}) gather_rows32(const u32* src, u32* out, const int* rows, int nRows, int n) {
  const int i = blockIdx.y * blockDim.x + threadIdx.x;
  if (i < nRows) out[(u64)blockIdx.x * nRows + i] = src[(u64)blockIdx.x * n + rows[i]];
}
`;

interface CheckKernels {
  nan16: KernelFunction;
  nan32: KernelFunction;
  gather16: KernelFunction;
  gather32: KernelFunction;
}

// One compile for the process; one module per device. A failure is not remembered.
let checkCubin: Promise<CompileResult> | undefined;
const checkModules = new Map<number, Promise<CheckKernels>>();

function checkKernels(device: number): Promise<CheckKernels> {
  let kernels = checkModules.get(device);
  if (!kernels) {
    checkCubin ??= compile(CHECK_SOURCE, { name: 'stagewise_check.cu' });
    kernels = checkCubin.then((r) => {
      const mod = Module.load(r.cubin, { device });
      return {
        nan16: mod.getFunction('count_nan16'), nan32: mod.getFunction('count_nan32'),
        gather16: mod.getFunction('gather_rows16'), gather32: mod.getFunction('gather_rows32'),
      };
    });
    kernels.catch(() => {
      checkModules.delete(device);
      checkCubin = undefined;
    });
    checkModules.set(device, kernels);
  }
  return kernels;
}

function gridFor(elements: number): [number, number, number] {
  return [Math.min(4096, Math.max(1, Math.ceil(elements / THREADS))), 1, 1];
}

function requireBytes(what: string, buf: DeviceBuffer, bytes: number): void {
  if (buf.bytes < bytes) throw new RangeError(`${what} has ${buf.bytes} bytes; it needs ${bytes}`);
}

export interface NanCount {
  /** 16-bit elements of `dtype` (O), from offsetBytes (default 0). */
  o: { buffer: DeviceBuffer; offsetBytes?: number; elements: number; dtype: HalfDtype };
  /** float32 elements (LSE), from offsetBytes (default 0). */
  lse: { buffer: DeviceBuffer; offsetBytes?: number; elements: number };
  /** 8 bytes, zeroed here, receiving the count (u64). */
  counter: DeviceBuffer;
}

/** Queues the NaN count of O and LSE into `counter` (on the default stream of O's device). */
export async function queueNanCount(c: NanCount): Promise<void> {
  const oAt = c.o.offsetBytes ?? 0, lseAt = c.lse.offsetBytes ?? 0;
  requireBytes('queueNanCount: o', c.o.buffer, oAt + c.o.elements * 2);
  requireBytes('queueNanCount: lse', c.lse.buffer, lseAt + c.lse.elements * 4);
  requireBytes('queueNanCount: counter', c.counter, 8);
  const k = await checkKernels(c.o.buffer.device);
  c.counter.memset32(0);
  const infBits = c.o.dtype === 'f16' ? 0x7c00 : 0x7f80;
  launch(k.nan16, { grid: gridFor(c.o.elements), block: [THREADS, 1, 1], sharedMemBytes: 0, params: [{ ptr: c.o.buffer, offsetBytes: oAt }, { u64: BigInt(c.o.elements) }, { u32: infBits }, { ptr: c.counter }] });
  launch(k.nan32, { grid: gridFor(c.lse.elements), block: [THREADS, 1, 1], sharedMemBytes: 0, params: [{ ptr: c.lse.buffer, offsetBytes: lseAt }, { u64: BigInt(c.lse.elements) }, { ptr: c.counter }] });
}

/** Reads back a counter queueNanCount filled (a synchronous download: it waits for the stream). */
export function readCount(counter: DeviceBuffer): number {
  const out = new BigUint64Array(1);
  counter.download(out);
  return Number(out[0]);
}

export interface RowGather {
  /** [heads][n][d] 16-bit elements. */
  o: DeviceBuffer;
  /** [heads][n] float32. */
  lse: DeviceBuffer;
  /** int32 row indices, rowCount of them, each in 0..n-1. */
  rows: DeviceBuffer;
  rowCount: number;
  heads: number;
  n: number;
  d: number;
  /** [heads][rowCount][d] 16-bit and [heads][rowCount] float32: the gathered rows. */
  oRows: DeviceBuffer;
  lseRows: DeviceBuffer;
}

/** Queues the gather of the checked rows of O and LSE (default stream of O's device). */
export async function queueGatherRows(g: RowGather): Promise<void> {
  const what = 'queueGatherRows';
  for (const [name, v, max] of [['rowCount', g.rowCount, 65535], ['heads', g.heads, 2 ** 31 - 1], ['n', g.n, 2 ** 31 - 1], ['d', g.d, 2 ** 31 - 1]] as const)
    if (!Number.isInteger(v) || v < 1 || v > max) throw new RangeError(`${what}: ${name} must be an integer in 1..${max}, got ${v}`);
  requireBytes(`${what}: o`, g.o, g.heads * g.n * g.d * 2);
  requireBytes(`${what}: lse`, g.lse, g.heads * g.n * 4);
  requireBytes(`${what}: rows`, g.rows, g.rowCount * 4);
  requireBytes(`${what}: oRows`, g.oRows, g.heads * g.rowCount * g.d * 2);
  requireBytes(`${what}: lseRows`, g.lseRows, g.heads * g.rowCount * 4);
  const k = await checkKernels(g.o.device);
  launch(k.gather16, {
    grid: [g.heads, g.rowCount, 1], block: [Math.min(THREADS, Math.ceil(g.d / 32) * 32), 1, 1], sharedMemBytes: 0,
    params: [{ ptr: g.o }, { ptr: g.oRows }, { ptr: g.rows }, { i32: g.rowCount }, { i32: g.n }, { i32: g.d }],
  });
  launch(k.gather32, {
    grid: [g.heads, Math.ceil(g.rowCount / THREADS), 1], block: [THREADS, 1, 1], sharedMemBytes: 0,
    params: [{ ptr: g.lse }, { ptr: g.lseRows }, { ptr: g.rows }, { i32: g.rowCount }, { i32: g.n }],
  });
}
