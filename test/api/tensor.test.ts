// Tensor on any machine: argument checks of every constructor (all before the driver), and the
// views, reads, writes, disposal and printing of tensors over a host-memory stand-in for the
// device storage (the same upload/download calls a DeviceBuffer answers).
import { describe, expect, it } from 'vitest';
import { floatsToBits } from '../../src/api/half.js';
import { Tensor, type TensorDtype } from '../../src/api/tensor.js';
import type { DeviceBuffer } from '../../src/runtime/index.js';
import { HostStorage, hostTensor as hostStorageTensor } from './host_storage.js';

function hostTensor(shape: number[], dtype: TensorDtype = 'f16'): { t: Tensor; storage: HostStorage } {
  return hostStorageTensor(shape, { dtype });
}

const arange = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

describe('constructor arguments (checked before any device memory is touched)', () => {
  // A native call on this machine would throw a plain Error (no driver): TypeError and
  // RangeError prove the check came first.
  const f = new Float32Array(6);
  it.each([
    ['data of the wrong kind', () => Tensor.from([1, 2] as never, { dtype: 'f16' }), TypeError, /data must be a Float32Array \(values\) or a Uint16Array \(raw f16\/bf16 bits\), got Array/],
    ['Float64Array data', () => Tensor.from(new Float64Array(2) as never, { dtype: 'f32' }), TypeError, /got Float64Array/],
    ['raw bits for f32', () => Tensor.from(new Uint16Array(2), { dtype: 'f32' }), TypeError, /dtype 'f32' takes a Float32Array/],
    ['a length that is not the shape', () => Tensor.from(f, { dtype: 'f16', shape: [2, 2] }), RangeError, /data has 6 elements but shape \[2, 2\] has 4/],
    ['an unknown dtype', () => Tensor.from(f, { dtype: 'f64' as never }), TypeError, /Tensor\.from: dtype must be one of 'f16', 'bf16', 'f32', 'i32', got "f64"/],
    ['no options', () => Tensor.from(f, undefined as never), TypeError, /dtype must be one of/],
    ['options not an object', () => Tensor.from(f, 'f16' as never), TypeError, /Tensor\.from: opts must be an object/],
    ['a negative device', () => Tensor.from(f, { dtype: 'f16', device: -1 }), RangeError, /Tensor\.from: device must be in 0\.\./],
    ['a fractional device', () => Tensor.empty([2], { dtype: 'f16', device: 0.5 }), RangeError, /device must be an integer/],
    ['a zero dimension', () => Tensor.empty([2, 0], { dtype: 'bf16' }), RangeError, /Tensor\.empty: shape\[1\] must be in 1\.\./],
    ['a shape that is not an array', () => Tensor.zeros(4 as never, { dtype: 'f32' }), TypeError, /Tensor\.zeros: shape must be an array/],
    ['too many bytes', () => Tensor.empty([2 ** 26, 2 ** 26], { dtype: 'f32' }), RangeError, /needs more than 2\^53-1 bytes/],
    ['a pointer that is a number', () => Tensor.fromDevicePointer(4096 as never, { dtype: 'f16', shape: [2] }), TypeError, /ptr must be a bigint device address, got number/],
    ['a null pointer', () => Tensor.fromDevicePointer(0n, { dtype: 'f16', shape: [2] }), RangeError, /ptr must be a device address in 1\.\.2\^64-1/],
    ['a misaligned pointer', () => Tensor.fromDevicePointer(0x1002n, { dtype: 'f32', shape: [2] }), RangeError, /ptr 0x1002 must be aligned to the 4-byte f32 element/],
    ['no shape', () => Tensor.fromDevicePointer(0x1000n, { dtype: 'f16' } as never), TypeError, /fromDevicePointer: shape is required/],
    ['strides of the wrong rank', () => Tensor.fromDevicePointer(0x1000n, { dtype: 'f16', shape: [2, 3], strides: [3] }), RangeError, /strides must have one entry per dimension \(2\), got 1/],
    ['a negative stride', () => Tensor.fromDevicePointer(0x1000n, { dtype: 'f16', shape: [2, 3], strides: [-3, 1] }), RangeError, /strides\[0\] must be in 0\.\./],
    ['values for i32', () => Tensor.from(new Float32Array(2), { dtype: 'i32' }), TypeError, /^Tensor\.from: data: dtype 'i32' takes an Int32Array, got Float32Array$/],
    ['an Int32Array for f16', () => Tensor.from(new Int32Array(2), { dtype: 'f16' }), TypeError, /^Tensor\.from: data: an Int32Array holds i32 values; dtype 'f16' takes a Float32Array or a Uint16Array$/],
    ['an Int32Array for f32', () => Tensor.from(new Int32Array(2), { dtype: 'f32' }), TypeError, /^Tensor\.from: data: an Int32Array holds i32 values; dtype 'f32' takes a Float32Array$/],
  ])('%s', (_, make, kind, message) => {
    expect(make).toThrow(kind);
    expect(make).toThrow(message);
  });

  it('random rejects bad arguments the same way', async () => {
    await expect(Tensor.random([2], { dtype: 'f16', seed: -1 })).rejects.toThrow(/Tensor\.random: seed must be in 0\.\.4294967295/);
    await expect(Tensor.random([2], { dtype: 'f16', seed: 2 ** 32 })).rejects.toBeInstanceOf(RangeError);
    await expect(Tensor.random([0], { dtype: 'f16' })).rejects.toThrow(/shape\[0\] must be in 1\.\./);
    await expect(Tensor.random([2], { dtype: 'i8' as never })).rejects.toBeInstanceOf(TypeError);
    await expect(Tensor.random([2], { dtype: 'i32' as never })).rejects.toThrow(/^Tensor\.random: dtype must be one of 'f16', 'bf16', 'f32', got "i32"$/);
  });
});

describe('a tensor over host memory', () => {
  it('writes values rounded to nearest even and reads them back', () => {
    const values = Float32Array.from([1, 1 + 2 ** -11, 65520, -0, 2 ** -25, NaN]);
    const { t, storage } = hostTensor([2, 3], 'f16');
    t.write(values);
    expect(Array.from(new Uint16Array(storage.memory.buffer))).toEqual(Array.from(floatsToBits(values, 'f16')));
    expect(Array.from(t.toBits())).toEqual([0x3c00, 0x3c00, 0x7c00, 0x8000, 0x0000, 0x7e00]);
    const back = t.toFloat32Array();
    expect(Array.from(back.subarray(0, 5))).toEqual([1, 1, Infinity, -0, 0]);
    expect(back[5]).toBeNaN();
  });

  it('takes raw bits as they are, and f32 values unchanged', () => {
    const { t } = hostTensor([3], 'bf16');
    t.write(Uint16Array.from([0x3f80, 0x7f7f, 0xffc1]));
    expect(Array.from(t.toBits())).toEqual([0x3f80, 0x7f7f, 0xffc1]);
    expect(t.toFloat32Array()[1]).toBe(3.3895313892515355e38);
    const { t: f } = hostTensor([2], 'f32');
    f.write(Float32Array.from([0.1, -3]));
    expect(Array.from(f.toFloat32Array())).toEqual([Math.fround(0.1), -3]);
    expect(() => f.toBits()).toThrow(/an f32 tensor has 32-bit elements; use toFloat32Array\(\)/);
  });

  it('an i32 tensor takes and gives Int32Array, in logical order through views', () => {
    const { t, storage } = hostTensor([2, 3], 'i32');
    t.write(Int32Array.from([0, 5, -7, 2 ** 31 - 1, -(2 ** 31), 9]));
    expect(Array.from(new Int32Array(storage.memory.buffer))).toEqual([0, 5, -7, 2 ** 31 - 1, -(2 ** 31), 9]);
    expect(Array.from(t.toInt32Array())).toEqual([0, 5, -7, 2 ** 31 - 1, -(2 ** 31), 9]);
    expect(Array.from(t.transpose(0, 1).toInt32Array())).toEqual([0, 2 ** 31 - 1, 5, -(2 ** 31), -7, 9]);
    expect(Array.from(t.select(1, 2).toInt32Array())).toEqual([-7, 9]);
    expect([t.elementBytes, t.select(0, 1).byteOffset]).toEqual([4, 12]);
    expect(String(t)).toBe('Tensor(i32, shape [2, 3], strides [3, 1], cuda:0)');
    expect(() => t.toFloat32Array()).toThrow(/^Tensor\.toFloat32Array: an i32 tensor holds integers; use toInt32Array\(\)$/);
    expect(() => t.toBits()).toThrow(/^Tensor\.toBits: an i32 tensor has 32-bit elements; use toInt32Array\(\)$/);
    expect(() => t.write(new Float32Array(6))).toThrow(/^Tensor\.write: data: dtype 'i32' takes an Int32Array, got Float32Array$/);
    const { t: f } = hostTensor([2], 'f16');
    expect(() => f.toInt32Array()).toThrow(/^Tensor\.toInt32Array: only an i32 tensor reads as integers; this one is f16 \(use toFloat32Array\(\)\)$/);
    expect(() => f.write(new Int32Array(2))).toThrow(TypeError);
  });

  it('views share the storage, copy nothing, and read in logical order', () => {
    const { t } = hostTensor([2, 3, 4], 'f32');
    t.write(arange(24));
    const tr = t.transpose(0, 2);
    expect(tr.buffer).toBe(t.buffer);
    expect(tr.shape).toEqual([4, 3, 2]);
    expect(tr.strides).toEqual([1, 4, 12]);
    expect(tr.isContiguous).toBe(false);
    expect(Array.from(tr.toFloat32Array().subarray(0, 4))).toEqual([0, 12, 4, 16]);

    const s = t.slice(1, 1, 3).select(2, 3); // [2, 2]: elements [b][1+i][3]
    expect(s.shape).toEqual([2, 2]);
    expect(s.offset).toBe(7);
    expect(s.byteOffset).toBe(28);
    expect(s.ptr).toBe(t.ptr + 28n);
    expect(Array.from(s.toFloat32Array())).toEqual([7, 11, 19, 23]);

    const v = t.slice(0, 1).view([3, -1]);
    expect(v.shape).toEqual([3, 4]);
    expect(v.offset).toBe(12);
    expect(Array.from(v.toFloat32Array())).toEqual(Array.from(arange(24).subarray(12)));
    expect(() => tr.view([24])).toThrow(/only a contiguous tensor can be viewed/);
  });

  it('writes through a contiguous view and refuses a strided one, changing nothing', () => {
    const { t } = hostTensor([4, 2], 'f32');
    t.write(arange(8));
    t.select(0, 2).write(Float32Array.from([40, 50]));
    expect(Array.from(t.toFloat32Array())).toEqual([0, 1, 2, 3, 40, 50, 6, 7]);
    const before = Array.from(t.toFloat32Array());
    expect(() => t.select(1, 0).write(new Float32Array(4))).toThrow(/Tensor\.write: the tensor must be contiguous; Tensor\(f32, shape \[4\], strides \[2\]/);
    expect(() => t.write(new Float32Array(3))).toThrow(/Tensor\.write: data has 3 elements but shape \[4, 2\] has 8/);
    expect(() => t.write(new Uint16Array(8))).toThrow(TypeError);
    expect(Array.from(t.toFloat32Array())).toEqual(before);
  });

  it('describes itself', () => {
    const { t } = hostTensor([2, 8, 128], 'bf16');
    expect(t.toString()).toBe('Tensor(bf16, shape [2, 8, 128], strides [1024, 128, 1], cuda:0)');
    expect(t.slice(2, 64).toString()).toBe('Tensor(bf16, shape [2, 8, 64], strides [1024, 128, 1], offset 64, cuda:0)');
    expect(`${t.select(0, 1).select(0, 0).select(0, 5)}`).toBe('Tensor(bf16, shape [], strides [], offset 1029, cuda:0)');
    expect([t.rank, t.numel, t.elementBytes, t.device]).toEqual([3, 2048, 2, 0]);
    t.dispose();
    expect(String(t)).toMatch(/cuda:0, disposed\)$/);
  });

  it('disposing a view leaves the storage; disposing the owner disposes every view', () => {
    const { t, storage } = hostTensor([4, 4], 'f16');
    const a = t.transpose(0, 1);
    const b = t.slice(0, 2);
    a.dispose();
    expect(a.disposed).toBe(true);
    expect(storage.disposed).toBe(false);
    expect(t.disposed).toBe(false);
    expect(b.toBits()).toHaveLength(8);
    expect(() => a.toBits()).toThrow(/Tensor\.toBits: Tensor used after dispose\(\)/);
    expect(() => a.slice(0, 1)).toThrow(TypeError);

    t.dispose();
    expect(storage.disposed).toBe(true);
    expect(b.disposed).toBe(true);
    expect(() => b.toFloat32Array()).toThrow(/the tensor's storage was disposed \(by the tensor that owns it\)/);
    expect(() => b.transpose(0, 1)).toThrow(TypeError);
    t.dispose(); // idempotent
    b.dispose();
  });

  it('is disposed at the end of a `using` block', () => {
    let outer: Tensor | undefined;
    let storage: HostStorage | undefined;
    {
      const made = hostTensor([2]);
      storage = made.storage;
      using t = made.t;
      outer = t;
    }
    expect(outer!.disposed).toBe(true);
    expect(storage!.disposed).toBe(true);
  });

  it('refuses a layout that reaches past its storage', () => {
    const storage = new HostStorage(16) as unknown as DeviceBuffer;
    expect(() => new Tensor(storage, 'f32', { shape: [2, 3], strides: [3, 1], offset: 0 }, true)).toThrow(/reaches element 5 of a 16-byte storage/);
  });

  it('view arguments are checked and name the method', () => {
    const { t } = hostTensor([2, 3]);
    expect(() => t.transpose(0, 2)).toThrow(/Tensor\.transpose: dim b must be in -2\.\.1, got 2/);
    expect(() => t.slice(1, 0, 4)).toThrow(/Tensor\.slice: end must be in 0\.\.3, got 4/);
    expect(() => t.select(0, 2)).toThrow(/Tensor\.select: index must be in 0\.\.1, got 2/);
    expect(() => t.view([4, 2])).toThrow(/Tensor\.view: shape \[4, 2\] has 8 elements/);
  });
});
