// Tensors on the GPU: upload/download round trips, host conversion against the GPU's own
// cvt.rn, device-side random fill, views over one storage, and wrapping memory we do not own.
// Needs a Hopper GPU and NVRTC, else skipped with the reason printed.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { floatsToBits, toFloats } from '../../src/api/half.js';
import { Tensor } from '../../src/api/tensor.js';
import { DeviceBuffer, Module, compile, devices, launch, synchronize, type KernelFunction } from '../../src/runtime/index.js';
import { describeGpu } from '../gpu.js';

let cacheDir: string;
const savedCacheDir = process.env.STAGEWISE_CACHE_DIR;
beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), 'stagewise-tensor-'));
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

// The GPU's own round-to-nearest-even conversions, to hold the host's against.
const CVT = `
extern "C" __global__ void cvt(const float* in, unsigned short* f16, unsigned short* bf16, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  unsigned short h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(in[i]));
  f16[i] = h;
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(in[i]));
  bf16[i] = h;
}`;

const SCALE = `
extern "C" __global__ void scale(float* data, float factor, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) data[i] *= factor;
}`;

const SPECIAL = Float32Array.from([
  0, -0, 1, -2, 65504, 65520, -65520, 1e6, Infinity, -Infinity, NaN,
  2 ** -24, 1023 * 2 ** -24, 1023.5 * 2 ** -24, 2 ** -25, 1.5 * 2 ** -24, 1 + 2 ** -11, 1 + 3 * 2 ** -11,
  3.3895313892515355e38, 3.4028234663852886e38, 1e-40,
]);

describeGpu('Tensor on the GPU', () => {
  it('round-trips values through f16, bf16 and f32, rounding as the host helpers do', () => {
    for (const dtype of ['f16', 'bf16'] as const) {
      using t = Tensor.from(SPECIAL, { dtype });
      expect(t.toString()).toBe(`Tensor(${dtype}, shape [${SPECIAL.length}], strides [1], cuda:0)`);
      expect(Array.from(t.toBits())).toEqual(Array.from(floatsToBits(SPECIAL, dtype)));
      expect(Array.from(t.toFloat32Array())).toEqual(Array.from(toFloats(floatsToBits(SPECIAL, dtype), dtype)));
    }
    using f = Tensor.from(SPECIAL, { dtype: 'f32', shape: [3, 7] });
    expect(Array.from(f.toFloat32Array())).toEqual(Array.from(SPECIAL));
  });

  it('keeps every raw 16-bit pattern, NaN payloads included', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    using t = Tensor.from(all, { dtype: 'bf16', shape: [256, 256] });
    expect(Buffer.compare(Buffer.from(t.toBits().buffer), Buffer.from(all.buffer))).toBe(0);
    t.write(all.slice().reverse());
    expect(t.toBits()[0]).toBe(0xffff);
  });

  it('host conversion agrees with cvt.rn.f16.f32 and cvt.rn.bf16.f32 on 1M float32 patterns', async () => {
    const fn = await kernel(CVT, 'cvt');
    const n = 1 << 20;
    const words = new Uint32Array(n);
    let seed = 99;
    for (let i = 0; i < n; i++) words[i] = seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    words.set(new Uint32Array(SPECIAL.buffer));
    const values = new Float32Array(words.buffer);
    using input = Tensor.from(values, { dtype: 'f32' });
    using f16 = Tensor.empty([n], { dtype: 'f16' });
    using bf16 = Tensor.empty([n], { dtype: 'bf16' });
    launch(fn, {
      grid: [n / 256, 1, 1],
      block: [256, 1, 1],
      sharedMemBytes: 0,
      params: [{ ptr: input.buffer }, { ptr: f16.buffer }, { ptr: bf16.buffer }, { i32: n }],
    });
    for (const [dtype, gpuBits] of [['f16', f16.toBits()], ['bf16', bf16.toBits()]] as const) {
      const hostBits = floatsToBits(values, dtype);
      const mismatches: string[] = [];
      for (let i = 0; i < n && mismatches.length < 5; i++) {
        // The GPU writes one canonical NaN; the host keeps the payload: both must be NaN.
        if (Number.isNaN(values[i])) {
          if (!Number.isNaN(toFloats(gpuBits.subarray(i, i + 1), dtype)[0]) || !Number.isNaN(toFloats(hostBits.subarray(i, i + 1), dtype)[0]))
            mismatches.push(`${dtype} NaN at ${i}`);
        } else if (gpuBits[i] !== hostBits[i]) {
          mismatches.push(`${dtype} 0x${words[i].toString(16)}: gpu 0x${gpuBits[i].toString(16)} host 0x${hostBits[i].toString(16)}`);
        }
      }
      expect(mismatches).toEqual([]);
    }
  });

  it('makes zeros, empty and seeded random tensors on the device', async () => {
    using z = Tensor.zeros([4, 33], { dtype: 'bf16' });
    expect(z.toBits().every((b) => b === 0)).toBe(true);
    using e = Tensor.empty([2, 3, 5], { dtype: 'f32' });
    expect(e.strides).toEqual([15, 5, 1]);
    for (const dtype of ['f16', 'bf16', 'f32'] as const) {
      using a = await Tensor.random([64, 1024], { dtype, seed: 42 });
      using b = await Tensor.random([64, 1024], { dtype, seed: 42 });
      using c = await Tensor.random([64, 1024], { dtype, seed: 43 });
      const x = a.toFloat32Array();
      expect(Array.from(b.toFloat32Array())).toEqual(Array.from(x));
      expect(Array.from(c.toFloat32Array())).not.toEqual(Array.from(x));
      const mean = x.reduce((s, v) => s + v, 0) / x.length;
      const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
      expect(x.every(Number.isFinite)).toBe(true);
      expect(Math.abs(mean)).toBeLessThan(0.05);
      expect(Math.abs(variance - 1)).toBeLessThan(0.1);
    }
  });

  it('views read the shared storage in logical order and a kernel writes through a view', async () => {
    const data = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    using t = Tensor.from(data, { dtype: 'f32', shape: [2, 3, 4] });
    const tr = t.transpose(0, 2);
    expect(Array.from(tr.toFloat32Array().subarray(0, 4))).toEqual([0, 12, 4, 16]);
    expect(Array.from(t.slice(1, 1, 3).select(2, 3).toFloat32Array())).toEqual([7, 11, 19, 23]);
    expect(Array.from(t.select(0, 1).view([-1]).toFloat32Array())).toEqual(Array.from(data.subarray(12)));

    const row = t.select(0, 1).select(0, 2); // elements 20..23
    expect(row.ptr).toBe(t.ptr + 80n);
    const fn = await kernel(SCALE, 'scale');
    launch(fn, { grid: [1, 1, 1], block: [32, 1, 1], sharedMemBytes: 0, params: [{ ptr: row.buffer, offsetBytes: row.byteOffset }, { f32: 10 }, { i32: 4 }] });
    synchronize();
    const after = t.toFloat32Array();
    expect(Array.from(after.subarray(20))).toEqual([200, 210, 220, 230]);
    expect(Array.from(after.subarray(0, 20))).toEqual(Array.from(data.subarray(0, 20)));
  });

  it('disposing a view keeps the memory; disposing the owner disposes its views', () => {
    const t = Tensor.from(new Float32Array(64).fill(3), { dtype: 'f16', shape: [8, 8] });
    const a = t.transpose(0, 1);
    const b = t.slice(0, 4);
    a.dispose();
    expect(t.buffer.disposed).toBe(false);
    expect(b.toFloat32Array().every((x) => x === 3)).toBe(true);
    t.dispose();
    expect(t.buffer.disposed).toBe(true);
    expect(b.disposed).toBe(true);
    expect(() => b.toFloat32Array()).toThrow(/storage was disposed/);
  });

  it('wraps memory another library owns, without copying or freeing it', () => {
    // A DeviceBuffer stands in for a PyTorch allocation: its own owner frees it, later.
    const foreign = DeviceBuffer.alloc(4096);
    try {
      const values = Float32Array.from({ length: 64 }, (_, i) => i - 32);
      foreign.upload(floatsToBits(values, 'f16'), 256);
      const wrapped = Tensor.fromDevicePointer(foreign.ptr + 256n, { dtype: 'f16', shape: [8, 8] });
      expect(wrapped.buffer.owned).toBe(false);
      expect(wrapped.ptr).toBe(foreign.ptr + 256n);
      expect(Array.from(wrapped.toFloat32Array())).toEqual(Array.from(values));
      // Strided: every other row of the 8 x 8 block, as [4, 8] with row stride 16 elements.
      const strided = Tensor.fromDevicePointer(foreign.ptr + 256n, { dtype: 'f16', shape: [4, 8], strides: [16, 1] });
      expect(Array.from(strided.toFloat32Array().subarray(8, 16))).toEqual(Array.from(values.subarray(16, 24)));
      expect(strided.isContiguous).toBe(false);
      // Writes land in the owner's memory.
      wrapped.select(0, 0).write(new Float32Array(8).fill(7));
      const back = new Uint16Array(8);
      foreign.download(back, 256);
      expect(Array.from(back)).toEqual(new Array(8).fill(0x4700));
      wrapped.dispose();
      strided.dispose();
      expect(wrapped.disposed).toBe(true);
      // Still allocated and readable through its owner.
      foreign.download(back, 256);
      expect(back[0]).toBe(0x4700);
    } finally {
      foreign.dispose();
    }
  });

  it('refuses addresses the driver does not know, and devices that do not exist', () => {
    expect(() => Tensor.fromDevicePointer(0x1000n, { dtype: 'f16', shape: [4] })).toThrow(RangeError);
    expect(() => Tensor.fromDevicePointer(0x1000n, { dtype: 'f16', shape: [4] })).toThrow(/ptr 0x1000 is not memory the CUDA driver knows \(cuPointerGetAttribute: CUDA_ERROR_/);
    const count = devices().devices.length;
    expect(() => Tensor.empty([4], { dtype: 'f16', device: count })).toThrow(new RegExp(`device ${count} does not exist: the driver reports ${count} CUDA device`));
    using t = Tensor.zeros([4], { dtype: 'f16' });
    if (count === 1) expect(() => Tensor.fromDevicePointer(t.ptr, { dtype: 'f16', shape: [4], device: 1 })).toThrow(/device 1 does not exist/);
  });

  it.skipIf(devices().devices.length < 2)('lives on device 1 too', async () => {
    using t = Tensor.from(Float32Array.from([1, 2, 3]), { dtype: 'bf16', device: 1 });
    expect(t.device).toBe(1);
    expect(String(t)).toMatch(/cuda:1\)$/);
    expect(Array.from(t.toFloat32Array())).toEqual([1, 2, 3]);
    using r = await Tensor.random([1024], { dtype: 'f16', device: 1, seed: 5 });
    using r0 = await Tensor.random([1024], { dtype: 'f16', device: 0, seed: 5 });
    expect(Array.from(r.toBits())).toEqual(Array.from(r0.toBits()));
    expect(() => Tensor.fromDevicePointer(t.ptr, { dtype: 'bf16', shape: [3], device: 0 })).toThrow(/is memory of device 1, not of device 0/);
  });
});
