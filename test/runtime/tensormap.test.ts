// TMA descriptor rules, checked in TS before the driver (a stand-in buffer: no GPU needed).
import { describe, expect, it } from 'vitest';
import { tensorMapArgs, type DeviceBuffer, type TensorMapDesc } from '../../src/runtime/index.js';

const buffer = { ptr: 0x7f0000000000n, bytes: 64 * 128 * 2 * 4, disposed: false } as DeviceBuffer;
// A 256 x 128 f16 matrix (row-major), loaded in 64 x 64 boxes with 128B swizzle.
const ok: TensorMapDesc = { dtype: 'f16', buffer, dims: [128, 256], stridesBytes: [256], box: [64, 64], swizzle: '128B' };

function rejects(change: Partial<TensorMapDesc>, message: RegExp, kind: ErrorConstructor = RangeError) {
  expect(() => tensorMapArgs({ ...ok, ...change })).toThrow(message);
  expect(() => tensorMapArgs({ ...ok, ...change })).toThrow(kind);
}

describe('tensorMapArgs', () => {
  it('encodes a valid description with cuda.h enum values', () => {
    expect(tensorMapArgs({ ...ok, l2Promotion: '256B', oobFill: 'nan' })).toEqual({
      dataType: 6,
      address: buffer.ptr,
      dims: [128, 256],
      stridesBytes: [256],
      box: [64, 64],
      elementStrides: [1, 1],
      swizzle: 3,
      l2Promotion: 3,
      oobFill: 1,
    });
    expect(tensorMapArgs({ ...ok, dtype: 'bf16' }).dataType).toBe(9);
    expect(tensorMapArgs({ ...ok, dtype: 'f32', dims: [128, 64], stridesBytes: [512], box: [32, 64] }).dataType).toBe(7);
  });

  it('names the argument and the rule it breaks', () => {
    rejects({ dtype: 'f8' as never }, /dtype must be one of 'f16', 'bf16', 'f32'/, TypeError);
    rejects({ dims: [], stridesBytes: [], box: [] }, /dims must have 1\.\.5 entries/);
    rejects({ dims: [2, 2, 2, 2, 2, 2], stridesBytes: [16, 16, 16, 16, 16], box: [8, 1, 1, 1, 1, 1] }, /1\.\.5 entries/);
    rejects({ stridesBytes: [] }, /stridesBytes must have rank-1 = 1 entries/);
    rejects({ stridesBytes: [250] }, /stridesBytes\[0\] = 250 must be a multiple of 16/);
    rejects({ box: [64, 300] }, /box\[1\] must be in 1\.\.256/);
    rejects({ box: [4, 64], swizzle: 'none' }, /box\[0\] \* element size = 8 B must be a multiple of 16/);
    rejects({ box: [128, 64] }, /256 B exceeds the 128B swizzle span; at most 64 elements/);
    rejects({ box: [32, 64], swizzle: '32B' }, /exceeds the 32B swizzle span/);
    rejects({ elementStrides: [1, 9] }, /elementStrides\[1\] must be in 1\.\.8/);
    rejects({ offsetBytes: 8 }, /must be 16-byte aligned/);
    rejects({ dims: [128, 512] }, /reaches byte .* of a 65536-byte buffer/);
    rejects({ swizzle: '256B' as never }, /swizzle must be one of/, TypeError);
    rejects({ l2Promotion: '512B' as never }, /l2Promotion must be one of/, TypeError);
    rejects({ buffer: {} as DeviceBuffer }, /buffer must be a DeviceBuffer/, TypeError);
    rejects({ buffer: { ...buffer, disposed: true } as DeviceBuffer }, /used after dispose/, TypeError);
  });
});
