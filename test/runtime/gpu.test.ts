// GPU tests: need a Hopper GPU (cc 9.x) and NVRTC, else skipped with the reason printed
// (STAGEWISE_REQUIRE_GPU=1 makes that a failure). The faulting launch runs last: a kernel fault
// kills the CUDA context for the rest of this test process (vitest runs each file in its own).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompileError,
  DeviceBuffer,
  Module,
  compile,
  devices,
  encodeTensorMap,
  launch,
  parsePtxasInfo,
  synchronize,
  timeLaunches,
  type KernelFunction,
} from '../../src/runtime/index.js';
import { describeGpu, gpu } from '../gpu.js';

let cacheDir: string;
const savedCacheDir = process.env.STAGEWISE_CACHE_DIR;
beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), 'stagewise-gpu-'));
  process.env.STAGEWISE_CACHE_DIR = cacheDir;
});
afterAll(async () => {
  if (savedCacheDir === undefined) delete process.env.STAGEWISE_CACHE_DIR;
  else process.env.STAGEWISE_CACHE_DIR = savedCacheDir;
  await rm(cacheDir, { recursive: true, force: true });
});

async function kernel(source: string, name: string): Promise<KernelFunction> {
  const { cubin } = await compile(source, { name: `${name}.cu` });
  return Module.load(cubin).getFunction(name);
}

function randomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; ++i) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const SCALE = `
extern "C" __global__ void scale(float* data, float factor, int n) {
  extern __shared__ float staging[];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  staging[threadIdx.x] = i < n ? data[i] : 0.f;
  __syncthreads();
  if (i < n) data[i] = staging[threadIdx.x] * factor;
}`;

// One m64n8k16 wgmma (f16 in, f32 out), A and B K-major in shared memory without swizzle.
// No-swizzle canonical layout (CUTLASS mma_sm90_desc.hpp, INTERLEAVE, K-major):
// ((8,m),(8,2)) : ((16 B, SBO), (2 B, LBO)): 8x8 core matrices of 128 contiguous bytes,
// LBO = step between the two core matrices along K, SBO = step between 8-row groups.
const WGMMA = `
__device__ unsigned long long smemDesc(const void* p, unsigned lbo, unsigned sbo) {
  unsigned addr = static_cast<unsigned>(__cvta_generic_to_shared(p));
  return static_cast<unsigned long long>((addr & 0x3FFFF) >> 4) |
         (static_cast<unsigned long long>(lbo >> 4) << 16) | (static_cast<unsigned long long>(sbo >> 4) << 32);
}

extern "C" __global__ void wgmma_m64n8k16(const unsigned short* A, const unsigned short* B, float* D) {
  // A: 64 x 16 row-major (M x K); B: 8 x 16 row-major (N x K, i.e. K-major); D: 64 x 8.
  __shared__ __align__(128) unsigned short sA[64 * 16];
  __shared__ __align__(128) unsigned short sB[8 * 16];
  const int t = threadIdx.x;
  for (int i = t; i < 64 * 16; i += 128) {
    int m = i / 16, k = i % 16;
    sA[((m / 8) * 2 + k / 8) * 64 + (m % 8) * 8 + k % 8] = A[i];
  }
  for (int i = t; i < 8 * 16; i += 128) {
    int n = i / 16, k = i % 16;
    sB[(k / 8) * 64 + n * 8 + k % 8] = B[i];
  }
  // Ordinary stores become visible to wgmma (the async proxy) only after this fence.
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  __syncthreads();
  unsigned long long da = smemDesc(sA, 128, 256), db = smemDesc(sB, 128, 256);
  float d[4] = {0.f, 0.f, 0.f, 0.f};
  asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
  asm volatile(
      "{\\n.reg .pred p;\\nsetp.ne.b32 p, %6, 0;\\n"
      "wgmma.mma_async.sync.aligned.m64n8k16.f32.f16.f16 {%0, %1, %2, %3}, %4, %5, p, 1, 1, 0, 0;\\n}\\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "l"(da), "l"(db), "r"(0));
  asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
  asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
  const int w = t / 32, l = t % 32;
  for (int i = 0; i < 4; ++i) {
    int row = 16 * w + l / 4 + 8 * ((i >> 1) & 1);
    int col = 2 * (l % 4) + (i & 1);
    D[row * 8 + col] = d[i];
  }
}`;

// Echoes a by-value 128-byte TMA descriptor and the scalars around it: checks parameter packing.
const ECHO = `
struct __align__(64) CUtensorMap_t { char bytes[128]; };
extern "C" __global__ void echo(int before, const __grid_constant__ CUtensorMap_t map, unsigned long long after, unsigned char* out) {
  for (int i = threadIdx.x; i < 128; i += blockDim.x) out[i] = map.bytes[i];
  if (threadIdx.x == 0) {
    reinterpret_cast<int*>(out + 128)[0] = before;
    reinterpret_cast<unsigned long long*>(out + 136)[0] = after;
  }
}`;

const FAULT = `
extern "C" __global__ void fault(unsigned long long address) {
  *reinterpret_cast<volatile int*>(address) = 1;
}`;

describeGpu('GPU runtime (Hopper)', () => {
  it('reports the device', () => {
    const d = gpu.device!;
    expect(d.computeCapability[0]).toBe(9);
    expect(d.smCount).toBeGreaterThan(0);
    expect(d.maxSharedMemoryPerBlockOptin).toBeGreaterThan(200 * 1024);
    expect(devices().driverVersion).toBeGreaterThanOrEqual(12000);
  });

  it('round-trips memory: upload, device copy, download, memset patterns', () => {
    const n = 1 << 20;
    const data = randomBytes(n);
    const a = DeviceBuffer.alloc(n);
    const b = DeviceBuffer.alloc(n);
    try {
      expect(typeof a.ptr).toBe('bigint');
      a.upload(data);
      b.copyFrom(a);
      const back = new Uint8Array(n);
      b.download(back);
      expect(Buffer.compare(back, data)).toBe(0);

      b.copyFrom(a, 4096, 8192, 0); // first 4 KiB of a to offset 8 KiB of b
      const window = new Uint8Array(4096);
      b.download(window, 8192);
      expect(Buffer.compare(window, data.subarray(0, 4096))).toBe(0);

      a.upload(new Float32Array([1.5, -2]), 16);
      const f = new Float32Array(2);
      a.download(f, 16);
      expect(Array.from(f)).toEqual([1.5, -2]);

      b.memset16(0x7e00); // f16 NaN
      const halves = new Uint16Array(n / 2);
      b.download(halves);
      expect(halves.every((h) => h === 0x7e00)).toBe(true);
      b.memset32(0x7fc00000);
      const floats = new Float32Array(n / 4);
      b.download(floats);
      expect(floats.every(Number.isNaN)).toBe(true);
      b.memset8(0xab);
      b.download(back);
      expect(back.every((x) => x === 0xab)).toBe(true);

      expect(() => a.upload(new Uint8Array(16), n - 8)).toThrow(RangeError);
      expect(() => a.download(new Uint8Array(16), n)).toThrow(RangeError);
      expect(() => b.copyFrom(a, n, 1)).toThrow(RangeError);
    } finally {
      a.dispose();
      b.dispose();
    }
    expect(a.disposed).toBe(true);
    expect(() => a.upload(new Uint8Array(1))).toThrow(/used after dispose/);
    a.dispose(); // idempotent
  });

  it('compiles, loads and launches a kernel with dynamic shared memory', async () => {
    const fn = await kernel(SCALE, 'scale');
    expect(fn.attributes().numRegs).toBeGreaterThan(0);
    expect(fn.attributes().maxThreadsPerBlock).toBeGreaterThanOrEqual(256);
    fn.setMaxDynamicSharedMemory(64 * 1024);
    const n = 1000;
    const input = Float32Array.from({ length: n }, (_, i) => i - 500);
    const buf = DeviceBuffer.alloc(n * 4);
    buf.upload(input);
    launch(fn, { grid: [4, 1, 1], block: [256, 1, 1], sharedMemBytes: 64 * 1024, params: [{ ptr: buf }, { f32: 0.5 }, { i32: n }] });
    synchronize();
    const out = new Float32Array(n);
    buf.download(out);
    expect(Array.from(out)).toEqual(Array.from(input, (x) => x * 0.5));
    buf.dispose();
  });

  it('launches with a thread-block cluster (cuLaunchKernelEx) and offset pointers', async () => {
    const fn = await kernel(SCALE, 'scale');
    const buf = DeviceBuffer.alloc(512 * 4);
    buf.upload(new Float32Array(512).fill(3));
    launch(fn, {
      grid: [2, 1, 1],
      block: [128, 1, 1],
      cluster: [2, 1, 1],
      sharedMemBytes: 128 * 4,
      params: [{ ptr: buf, offsetBytes: 256 * 4 }, { f32: 2 }, { i32: 256 }],
    });
    synchronize();
    const out = new Float32Array(512);
    buf.download(out);
    expect(out.subarray(0, 256).every((x) => x === 3)).toBe(true);
    expect(out.subarray(256).every((x) => x === 6)).toBe(true);
    buf.dispose();
  });

  it('runs one sm_90a wgmma (m64n8k16, f16 -> f32) and matches a CPU product', async () => {
    const fn = await kernel(WGMMA, 'wgmma_m64n8k16');
    const halfOf: Record<number, number> = { [-2]: 0xc000, [-1]: 0xbc00, 0: 0, 1: 0x3c00, 2: 0x4000 };
    const pick = (i: number, salt: number) => ((i * 7 + salt * 3 + ((i * salt) % 5)) % 5) - 2;
    const a = Array.from({ length: 64 * 16 }, (_, i) => pick(i, 1));
    const b = Array.from({ length: 8 * 16 }, (_, i) => pick(i, 2));
    const bufA = DeviceBuffer.alloc(64 * 16 * 2);
    const bufB = DeviceBuffer.alloc(8 * 16 * 2);
    const bufD = DeviceBuffer.alloc(64 * 8 * 4);
    bufA.upload(Uint16Array.from(a, (x) => halfOf[x]));
    bufB.upload(Uint16Array.from(b, (x) => halfOf[x]));
    bufD.memset32(0x7fc00000);
    launch(fn, { grid: [1, 1, 1], block: [128, 1, 1], sharedMemBytes: 0, params: [{ ptr: bufA }, { ptr: bufB }, { ptr: bufD }] });
    synchronize();
    const d = new Float32Array(64 * 8);
    bufD.download(d);
    const expected = new Float32Array(64 * 8);
    for (let m = 0; m < 64; ++m)
      for (let n = 0; n < 8; ++n) for (let k = 0; k < 16; ++k) expected[m * 8 + n] += a[m * 16 + k] * b[n * 16 + k];
    expect(Array.from(d)).toEqual(Array.from(expected));
    for (const buf of [bufA, bufB, bufD]) buf.dispose();
  });

  it('passes a TMA descriptor by value between scalars, 64-byte aligned', async () => {
    const fn = await kernel(ECHO, 'echo');
    const tensor = DeviceBuffer.alloc(128 * 256 * 2);
    const map = encodeTensorMap({ dtype: 'bf16', buffer: tensor, dims: [128, 256], stridesBytes: [256], box: [64, 64], swizzle: '128B' });
    expect(map.bytes.byteLength).toBe(128);
    expect(map.bytes.some((x) => x !== 0)).toBe(true);
    const out = DeviceBuffer.alloc(144);
    launch(fn, { grid: [1, 1, 1], block: [32, 1, 1], sharedMemBytes: 0, params: [{ i32: -7 }, { tensorMap: map }, { u64: 0x0123456789abcdefn }, { ptr: out }] });
    synchronize();
    const echoed = new Uint8Array(144);
    out.download(echoed);
    expect(Array.from(echoed.subarray(0, 128))).toEqual(Array.from(map.bytes));
    const view = new DataView(echoed.buffer);
    expect(view.getInt32(128, true)).toBe(-7);
    expect(view.getBigUint64(136, true)).toBe(0x0123456789abcdefn);
    tensor.dispose();
    out.dispose();
  });

  it('surfaces an NVRTC error with its log, and serves a recompile from the cache', async () => {
    await expect(compile('extern "C" __global__ void bad() { nope(); }', { name: 'bad.cu' })).rejects.toSatisfy(
      (e: unknown) => e instanceof CompileError && /bad\.cu\(1\): error/.test(e.log) && e.message.includes(e.log.trim()),
    );
    const first = await compile(SCALE, { name: 'scale.cu' });
    const again = await compile(SCALE, { name: 'scale.cu' });
    expect(again.cached).toBe(true);
    expect(again.key).toBe(first.key);
    expect(again.log).toBe(first.log);
    const fn = Module.load(again.cubin).getFunction('scale');
    expect(fn.attributes().numRegs).toBeGreaterThan(0);
    // Where this NVRTC reports ptxas -v in its log, it must agree with the driver.
    const info = parsePtxasInfo(again.log).scale;
    if (info) expect(fn.attributes().numRegs).toBe(info.registers);
  });

  it('times launches, rotating through configs, in milliseconds', async () => {
    const fn = await kernel(SCALE, 'scale');
    const n = 1 << 20;
    const bufs = [DeviceBuffer.alloc(n * 4), DeviceBuffer.alloc(n * 4)];
    const configs = bufs.map((buf) => ({
      grid: [n / 256, 1, 1] as [number, number, number],
      block: [256, 1, 1] as [number, number, number],
      sharedMemBytes: 256 * 4,
      params: [{ ptr: buf }, { f32: 1 }, { i32: n }],
    }));
    const ms = timeLaunches(fn, configs, { warmup: 3, iterations: 10 });
    expect(ms).toHaveLength(10);
    for (const t of ms) {
      expect(t).toBeGreaterThan(0);
      expect(t).toBeLessThan(1000);
    }
    bufs.forEach((b) => b.dispose());
  });

  it('refuses a disposed module and an unknown kernel name', async () => {
    const { cubin } = await compile(SCALE, { name: 'scale.cu' });
    const mod = Module.load(cubin);
    expect(() => mod.getFunction('no_such_kernel')).toThrow(/cuModuleGetFunction: CUDA_ERROR_NOT_FOUND/);
    const fn = mod.getFunction('scale');
    mod.dispose();
    expect(() => fn.attributes()).toThrow(/Module was disposed/);
  });

  // Last: the fault is sticky and every later GPU call in this process fails.
  describe('a faulting kernel (runs last: it kills the context)', () => {
    it('surfaces CUDA_ERROR_ILLEGAL_ADDRESS as an Error, then refuses further GPU work', async () => {
      const fn = await kernel(FAULT, 'fault');
      launch(fn, { grid: [1, 1, 1], block: [1, 1, 1], sharedMemBytes: 0, params: [{ u64: 0x10n }] });
      let failure: unknown;
      try {
        synchronize();
      } catch (e) {
        failure = e;
      }
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(/^cuCtxSynchronize: CUDA_ERROR_(ILLEGAL_ADDRESS|LAUNCH_FAILED)/);
      expect(() => DeviceBuffer.alloc(16)).toThrow(/CUDA_ERROR_CONTEXT_LOST.*restart the process/);
      expect(devices().contextLost).toMatch(/cuCtxSynchronize failed/);
    });
  });
});
