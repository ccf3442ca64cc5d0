// Launching kernels and timing launches. Parameters are checked and encoded here; the addon
// packs each into its own 64-byte-aligned slot (a TMA descriptor is passed by value).
import { requireArray, requireInteger, requireNumber } from './check.js';
import { DeviceBuffer, requireLiveBuffer } from './memory.js';
import { KernelFunction } from './module.js';
import { HANDLE, native, type NativeHandle, type NativeLaunchSpec, type NativeParam } from './native.js';
import { Stream } from './stream.js';
import { TensorMap } from './tensormap.js';

export type KernelParam =
  | { ptr: DeviceBuffer; offsetBytes?: number }
  | { i32: number }
  | { u32: number }
  | { f32: number }
  | { u64: bigint }
  | { tensorMap: TensorMap };

export type Dim3 = [number, number, number];

export interface LaunchConfig {
  grid: Dim3;
  block: Dim3;
  /** Thread-block cluster shape; launches through cuLaunchKernelEx when given. */
  cluster?: Dim3;
  /** Dynamic shared memory per block. */
  sharedMemBytes: number;
  params: KernelParam[];
}

export interface TimingOptions {
  warmup: number;
  iterations: number;
}

/** Enqueues one launch on `stream`, by default the kernel's device's default stream.
 * Asynchronous: a fault in the kernel surfaces at the next synchronising call (synchronize(),
 * a download, timeLaunches, Stream.synchronizeAsync(), Event.wait()). The stream, every buffer
 * and every tensor map must be on the device the kernel's module was loaded on. */
export function launch(fn: KernelFunction, config: LaunchConfig, stream?: Stream): void {
  submit(prepare(fn, config, 'launch'), stream, 'launch');
}

/**
 * A launch checked and encoded once, for a call repeated with the same arguments (the attention
 * API's hot path): launchPrepared() then only checks that its buffers, kernel and stream are alive.
 */
export class PreparedLaunch {
  /** @internal The spec as the addon holds it: decoded from JS once, at prepareLaunch. */
  readonly native: NativeHandle;
  /** @internal */
  constructor(
    readonly fn: KernelFunction,
    /** @internal */ readonly spec: NativeLaunchSpec,
    /** @internal */ readonly buffers: readonly DeviceBuffer[],
  ) {
    this.native = native().specPrepare(spec);
  }
}

function prepare(fn: KernelFunction, config: LaunchConfig, what: string): PreparedLaunch {
  requireKernel(fn, what);
  const spec = encodeLaunch(config, what);
  requireParamsOn(config.params, fn.device, what);
  const buffers = config.params.flatMap((p) => ('ptr' in p ? [p.ptr] : 'tensorMap' in p ? [p.tensorMap.buffer] : []));
  return new PreparedLaunch(fn, spec, buffers);
}

function submit(p: PreparedLaunch, stream: Stream | undefined, what: string): void {
  if (stream === undefined) {
    native().launchSpec(p.fn[HANDLE], p.native);
    return;
  }
  if (!(stream instanceof Stream)) throw new TypeError(`${what}: stream must be a Stream`);
  if (stream.disposed) throw new TypeError(`${what}: stream: Stream used after dispose()`);
  if (stream.device !== p.fn.device)
    throw new RangeError(`${what}: stream is on device ${stream.device} but kernel '${p.fn.name}' was loaded on device ${p.fn.device}`);
  native().launchSpec(p.fn[HANDLE], p.native, stream[HANDLE]);
}

/** Checks and encodes a launch once (every rule of launch()). */
export function prepareLaunch(fn: KernelFunction, config: LaunchConfig): PreparedLaunch {
  return prepare(fn, config, 'prepareLaunch');
}

/** Enqueues a prepared launch, as launch() would; refuses if any of its buffers was disposed since. */
export function launchPrepared(p: PreparedLaunch, stream?: Stream): void {
  if (!(p instanceof PreparedLaunch)) throw new TypeError('launchPrepared: p must come from prepareLaunch()');
  requireKernel(p.fn, 'launchPrepared');
  for (const b of p.buffers) if (b.disposed) throw new TypeError('launchPrepared: a buffer of this launch was disposed after prepareLaunch()');
  submit(p, stream, 'launchPrepared');
}

/** Times `iterations` launches after `warmup` untimed ones, in one native call: launch i uses
 * configs[i % configs.length] (rotate input sets to defeat L2), each between its own pair of
 * CUDA events, with one synchronisation at the end. Returns milliseconds per timed launch. */
export function timeLaunches(fn: KernelFunction, configs: LaunchConfig[], opts: TimingOptions): number[] {
  requireKernel(fn, 'timeLaunches');
  requireArray(configs, 'timeLaunches: configs');
  if (configs.length === 0) throw new RangeError('timeLaunches: configs must not be empty');
  if (typeof opts !== 'object' || opts === null) throw new TypeError('timeLaunches: opts must be { warmup, iterations }');
  requireInteger(opts.warmup, 'timeLaunches: warmup', 0, 1e6);
  requireInteger(opts.iterations, 'timeLaunches: iterations', 1, 1e6);
  const specs = configs.map((c, i) => encodeLaunch(c, `timeLaunches: configs[${i}]`));
  configs.forEach((c, i) => requireParamsOn(c.params, fn.device, `timeLaunches: configs[${i}]`));
  return native().timeLaunches(fn[HANDLE], specs, opts.warmup, opts.iterations);
}

function requireKernel(fn: unknown, what: string): asserts fn is KernelFunction {
  if (!(fn instanceof KernelFunction)) throw new TypeError(`${what}: fn must be a KernelFunction`);
  fn.requireLive();
}

/** Memory of another device would fault in the kernel (no peer access is ever enabled), and a
 * fault kills the context: refuse it here. Runs after encodeLaunch has checked each param. */
function requireParamsOn(params: KernelParam[], device: number, what: string): void {
  params.forEach((p, i) => {
    const buffer = 'ptr' in p ? p.ptr : 'tensorMap' in p ? p.tensorMap.buffer : undefined;
    if (buffer && buffer.device !== device)
      throw new RangeError(`${what}: params[${i}] is memory of device ${buffer.device} but the kernel runs on device ${device}`);
  });
}

function dim3(value: unknown, name: string): Dim3 {
  const dims = requireArray(value, name);
  if (dims.length !== 3) throw new TypeError(`${name} must be [x, y, z]`);
  return dims.map((d, i) => requireInteger(d, `${name}[${i}]`, 1, 2 ** 31 - 1)) as Dim3;
}

/** Checks a LaunchConfig and encodes it for the addon (exported for tests). */
export function encodeLaunch(config: LaunchConfig, what = 'launch'): NativeLaunchSpec {
  if (typeof config !== 'object' || config === null) throw new TypeError(`${what}: config must be an object`);
  const grid = dim3(config.grid, `${what}: grid`);
  const block = dim3(config.block, `${what}: block`);
  const threads = block[0] * block[1] * block[2];
  if (threads > 1024) throw new RangeError(`${what}: block has ${threads} threads; at most 1024`);
  const spec: NativeLaunchSpec = {
    grid,
    block,
    sharedMemBytes: requireInteger(config.sharedMemBytes, `${what}: sharedMemBytes`, 0, 2 ** 32 - 1),
    params: requireArray(config.params, `${what}: params`).map((p, i) => encodeParam(p, `${what}: params[${i}]`)),
  };
  if (config.cluster !== undefined) {
    const cluster = dim3(config.cluster, `${what}: cluster`);
    cluster.forEach((c, i) => {
      if (grid[i] % c !== 0) throw new RangeError(`${what}: cluster[${i}] = ${c} must divide grid[${i}] = ${grid[i]}`);
    });
    spec.cluster = cluster;
  }
  return spec;
}

const INT32 = [-(2 ** 31), 2 ** 31 - 1] as const;
const UINT32 = [0, 2 ** 32 - 1] as const;

function encodeParam(p: unknown, name: string): NativeParam {
  if (typeof p !== 'object' || p === null) throw new TypeError(`${name} must be an object such as { ptr }, { i32 }, { f32 }`);
  const keys = Object.keys(p).filter((k) => k !== 'offsetBytes');
  if (keys.length !== 1) throw new TypeError(`${name} must have exactly one of ptr, i32, u32, f32, u64, tensorMap`);
  const param = p as Record<string, unknown>;
  switch (keys[0]) {
    case 'ptr': {
      const buf = requireLiveBuffer(param.ptr, `${name}.ptr`);
      const offset = requireInteger(param.offsetBytes ?? 0, `${name}.offsetBytes`, 0, buf.bytes);
      return [0, buf.ptr + BigInt(offset)];
    }
    case 'i32':
      return [1, requireInteger(param.i32, `${name}.i32`, ...INT32)];
    case 'u32':
      return [2, requireInteger(param.u32, `${name}.u32`, ...UINT32)];
    case 'f32':
      return [3, requireNumber(param.f32, `${name}.f32`)];
    case 'u64': {
      const v = param.u64;
      if (typeof v !== 'bigint') throw new TypeError(`${name}.u64 must be a bigint`);
      if (v < 0n || v >= 1n << 64n) throw new RangeError(`${name}.u64 must be in 0..2^64-1`);
      return [0, v];
    }
    case 'tensorMap': {
      const map = param.tensorMap;
      if (!(map instanceof TensorMap)) throw new TypeError(`${name}.tensorMap must be a TensorMap from encodeTensorMap()`);
      requireLiveBuffer(map.buffer, `${name}.tensorMap.buffer`);
      return [4, map.bytes];
    }
    default:
      throw new TypeError(`${name}: unknown parameter kind '${keys[0]}'; use ptr, i32, u32, f32, u64 or tensorMap`);
  }
}
