// Fresh random inputs on the device: a hash-based generator kernel, so a check never reuses data
// and the host never builds gigabytes of random numbers.
import { compile, launch, Module, type CompileResult, type DeviceBuffer, type KernelFunction } from '../runtime/index.js';
import type { FloatDtype } from './tensor.js';

const FILL_SOURCE = `
typedef unsigned int u32;
typedef unsigned short u16;
__device__ __forceinline__ u32 mix(u32 x) {
  x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
  return x;
}
// Approximately standard normal: the sum of four uniforms, centred and scaled.
__device__ __forceinline__ float noise(u32 seed, u32 i) {
  float s = 0.f;
  for (u32 k = 0; k < 4; ++k) s += (mix(seed ^ mix(4 * i + k)) >> 8) * (1.0f / 16777216.0f);
  return (s - 2.0f) * 1.7320508f;
}
extern "C" __global__ void fill_f16(u16* out, unsigned long long n, u32 seed) {
  for (unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; i < n;
       i += (unsigned long long)gridDim.x * blockDim.x) {
    u16 h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(noise(seed, (u32)i)));
    out[i] = h;
  }
}
extern "C" __global__ void fill_bf16(u16* out, unsigned long long n, u32 seed) {
  for (unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; i < n;
       i += (unsigned long long)gridDim.x * blockDim.x) {
    u16 h; asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(noise(seed, (u32)i)));
    out[i] = h;
  }
}
extern "C" __global__ void fill_f32(float* out, unsigned long long n, u32 seed) {
  for (unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; i < n;
       i += (unsigned long long)gridDim.x * blockDim.x)
    out[i] = noise(seed, (u32)i);
}
`;

type FillKernels = Record<FloatDtype, KernelFunction>;

// One compile for the process; one module per device (a module belongs to one device's context).
let fillCubin: Promise<CompileResult> | undefined;
const fillModules = new Map<number, Promise<FillKernels>>();

function fillKernels(device: number): Promise<FillKernels> {
  let kernels = fillModules.get(device);
  if (!kernels) {
    fillCubin ??= compile(FILL_SOURCE, { name: 'stagewise_fill.cu' });
    kernels = fillCubin.then((r) => {
      const mod = Module.load(r.cubin, { device });
      return { f16: mod.getFunction('fill_f16'), bf16: mod.getFunction('fill_bf16'), f32: mod.getFunction('fill_f32') };
    });
    // A failure (no NVRTC, say) is not remembered: a later call tries again.
    kernels.catch(() => {
      fillModules.delete(device);
      fillCubin = undefined;
    });
    fillModules.set(device, kernels);
  }
  return kernels;
}

/** A seed drawn fresh each call: inputs differ on every run. */
export function freshSeed(): number {
  return (Math.random() * 2 ** 32) >>> 0;
}

/** Fills the first `elements` values of `buf` (of `dtype`) with roughly N(0, 1) numbers derived
 * from `seed` alone: the same seed gives the same values on every device. Queued on the
 * default stream of the buffer's device. */
export async function fillRandom(buf: DeviceBuffer, elements: number, dtype: FloatDtype, seed: number): Promise<void> {
  const k = await fillKernels(buf.device);
  launch(k[dtype], {
    grid: [Math.min(4096, Math.max(1, Math.ceil(elements / 256))), 1, 1],
    block: [256, 1, 1],
    sharedMemBytes: 0,
    params: [{ ptr: buf }, { u64: BigInt(elements) }, { u32: seed }],
  });
}
