// Bad arguments are refused in TS with TypeError/RangeError naming the argument, before any
// native call: these run on any machine (no GPU needed).
import { describe, expect, it } from 'vitest';
import {
  DeviceBuffer,
  KernelFunction,
  Module,
  Stream,
  compile,
  encodeLaunch,
  launch,
  synchronize,
  timeLaunches,
  type LaunchConfig,
} from '../../src/runtime/index.js';

describe('DeviceBuffer.alloc arguments', () => {
  it('rejects a non-number size with TypeError', () => {
    expect(() => DeviceBuffer.alloc('16' as unknown as number)).toThrow(TypeError);
  });
  it('rejects negative, zero, fractional and oversize sizes with RangeError', () => {
    expect(() => DeviceBuffer.alloc(-1)).toThrow(/bytes must be in 1\.\./);
    expect(() => DeviceBuffer.alloc(0)).toThrow(RangeError);
    expect(() => DeviceBuffer.alloc(1.5)).toThrow(/must be an integer/);
    expect(() => DeviceBuffer.alloc(2 ** 60)).toThrow(RangeError);
    expect(() => DeviceBuffer.alloc(Number.NaN)).toThrow(RangeError);
  });
});

describe('Module.load arguments', () => {
  it('wants a non-empty Uint8Array', () => {
    expect(() => Module.load([1, 2] as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => Module.load(new Uint8Array(0))).toThrow(/cubin is empty/);
  });
});

describe('compile arguments', () => {
  it('rejects a missing source, a bad arch and an arch among options', async () => {
    await expect(compile('' as string)).rejects.toThrow(TypeError);
    await expect(compile('x', { arch: 'compute_90a' })).rejects.toThrow(/arch must look like 'sm_90a'/);
    await expect(compile('x', { arch: 'compute_90a' })).rejects.toBeInstanceOf(RangeError);
    await expect(compile('x', { options: ['--gpu-architecture=sm_80'] })).rejects.toThrow(/opts\.arch/);
    await expect(compile('x', { headers: { 'a.h': 3 as unknown as string } })).rejects.toThrow(/header 'a.h'/);
  });
});

describe('launch configuration', () => {
  const base: LaunchConfig = { grid: [1, 1, 1], block: [128, 1, 1], sharedMemBytes: 0, params: [] };

  it('encodes scalars with their tags', () => {
    const spec = encodeLaunch({ ...base, params: [{ i32: -3 }, { u32: 7 }, { f32: 0.5 }, { u64: 9n }] });
    expect(spec.params).toEqual([[1, -3], [2, 7], [3, 0.5], [0, 9n]]);
    expect(spec.cluster).toBeUndefined();
  });
  it('checks dimensions, thread count, clusters and shared memory', () => {
    expect(() => encodeLaunch({ ...base, grid: [0, 1, 1] })).toThrow(/grid\[0\] must be in 1\.\./);
    expect(() => encodeLaunch({ ...base, grid: [1, 1] as unknown as [number, number, number] })).toThrow(TypeError);
    expect(() => encodeLaunch({ ...base, block: [64, 32, 1] })).toThrow(/2048 threads; at most 1024/);
    expect(() => encodeLaunch({ ...base, grid: [3, 1, 1], cluster: [2, 1, 1] })).toThrow(/cluster\[0\] = 2 must divide grid\[0\] = 3/);
    expect(() => encodeLaunch({ ...base, sharedMemBytes: -1 })).toThrow(/sharedMemBytes/);
  });
  it('checks parameters by kind and range', () => {
    expect(() => encodeLaunch({ ...base, params: [{ i32: 2 ** 31 }] })).toThrow(/params\[0\]\.i32 must be in/);
    expect(() => encodeLaunch({ ...base, params: [{ u32: -1 }] })).toThrow(RangeError);
    expect(() => encodeLaunch({ ...base, params: [{ u64: 1 as unknown as bigint }] })).toThrow(/must be a bigint/);
    expect(() => encodeLaunch({ ...base, params: [{ u64: -1n }] })).toThrow(RangeError);
    expect(() => encodeLaunch({ ...base, params: [{ ptr: {} as DeviceBuffer }] })).toThrow(/must be a DeviceBuffer/);
    expect(() => encodeLaunch({ ...base, params: [{ i32: 1, f32: 2 } as never] })).toThrow(/exactly one of/);
    expect(() => encodeLaunch({ ...base, params: [{ f64: 1 } as never] })).toThrow(/unknown parameter kind 'f64'/);
    expect(() => encodeLaunch({ ...base, params: [{ tensorMap: new Uint8Array(128) } as never] })).toThrow(/TensorMap/);
  });
  it('launch and timeLaunches want a KernelFunction', () => {
    expect(() => launch({} as never, base)).toThrow(TypeError);
    expect(() => timeLaunches({} as never, [base], { warmup: 1, iterations: 1 })).toThrow(TypeError);
  });
});

describe('device indices, borrowed memory and streams', () => {
  it('checks device indices wherever one is taken', () => {
    expect(() => DeviceBuffer.alloc(16, { device: -1 })).toThrow(/DeviceBuffer\.alloc: device must be in 0\.\./);
    expect(() => DeviceBuffer.alloc(16, { device: 0.5 })).toThrow(RangeError);
    expect(() => DeviceBuffer.alloc(16, 0 as never)).toThrow(/DeviceBuffer\.alloc: opts must be an object/);
    expect(() => Module.load(new Uint8Array(4), { device: '1' as never })).toThrow(TypeError);
    expect(() => Stream.create({ device: -2 })).toThrow(/Stream\.create: device must be in 0\.\./);
    expect(() => Stream.default(1.5)).toThrow(/Stream\.default: device must be an integer/);
    expect(() => synchronize(-1)).toThrow(/synchronize: device must be in 0\.\./);
  });

  it('DeviceBuffer.wrap wants a bigint address, a size, and a range inside 64 bits', () => {
    expect(() => DeviceBuffer.wrap(4096 as never, 16)).toThrow(/DeviceBuffer\.wrap: ptr must be a bigint device address, got number/);
    expect(() => DeviceBuffer.wrap(0n, 16)).toThrow(RangeError);
    expect(() => DeviceBuffer.wrap(2n ** 64n, 16)).toThrow(/ptr must be a device address in 1\.\.2\^64-1/);
    expect(() => DeviceBuffer.wrap(0x1000n, 0)).toThrow(/DeviceBuffer\.wrap: bytes must be in 1\.\./);
    expect(() => DeviceBuffer.wrap(2n ** 64n - 8n, 16)).toThrow(/passes the end of the 64-bit address space/);
    expect(() => DeviceBuffer.wrap(0x1000n, 16, { device: -1 })).toThrow(/DeviceBuffer\.wrap: device must be in 0\.\./);
  });

  it('launch wants a Stream, when given one', () => {
    const fakeModule = { disposed: false, device: 0 } as unknown as Module;
    const fn = new KernelFunction('k', fakeModule, {} as never);
    const base: LaunchConfig = { grid: [1, 1, 1], block: [32, 1, 1], sharedMemBytes: 0, params: [] };
    expect(() => launch(fn, base, {} as never)).toThrow(/launch: stream must be a Stream/);
    expect(() => launch(fn, base, 'default' as never)).toThrow(TypeError);
  });
});

describe('prepareLaunch / launchPrepared arguments', () => {
  it('refuses anything that did not come from prepareLaunch, and a non-kernel', async () => {
    const { launchPrepared, prepareLaunch } = await import('../../src/runtime/index.js');
    expect(() => launchPrepared({} as never)).toThrow(/launchPrepared: p must come from prepareLaunch\(\)/);
    expect(() => prepareLaunch({} as never, { grid: [1, 1, 1], block: [1, 1, 1], sharedMemBytes: 0, params: [] })).toThrow(/prepareLaunch: fn must be a KernelFunction/);
  });
});

describe('prepared launch specs in the addon (no device needed)', async () => {
  const { addonProblem, native } = await import('../../src/runtime/native.js');
  const problem = addonProblem();
  if (problem) console.warn(`[stagewise] skipping 'prepared launch specs in the addon': ${problem}`);
  it.skipIf(problem !== undefined)('encodes a spec once into a handle, refusing what launch() refuses; a launch with another kind of handle is refused', () => {
    const base: LaunchConfig = { grid: [2, 3, 1], block: [128, 1, 1], sharedMemBytes: 1024, params: [{ i32: 7 }, { f32: 0.5 }, { u64: 3n }] };
    const handle = native().specPrepare(encodeLaunch(base));
    expect(handle).toBeDefined();
    // The addon's own hardware limits, as launch() checks them: grid y < 2^16.
    expect(() => native().specPrepare(encodeLaunch({ ...base, grid: [1, 70000, 1] }))).toThrow(/grid/);
    // A prepared spec is not a kernel, and a kernel handle is not a prepared spec.
    expect(() => native().launchSpec(handle, handle)).toThrow(/expected a native KernelFunction handle/);
  });
});
