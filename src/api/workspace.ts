// What a persistent launch needs beyond its operands: the device's SM count and L2 size (for the
// grid and the scheduler's head sections) and the dynamic scheduler's tile counter.
import type { GeneratedKernel } from '../codegen/index.js';
import { DeviceBuffer, devices, Module, type KernelFunction, type Stream } from '../runtime/index.js';
import { tailWorkspaceBytes, type LaunchProblem } from './launch_args.js';

export interface DeviceShape {
  smCount: number;
  l2Bytes: number;
}

const shapes = new Map<number, DeviceShape>();

/** SM count and L2 size of a device, read once per process. */
export function deviceShape(device: number): DeviceShape {
  let s = shapes.get(device);
  if (!s) {
    const info = devices().devices.find((d) => d.index === device);
    if (!info) throw new RangeError(`device ${device}: no such CUDA device`);
    s = { smCount: info.smCount, l2Bytes: info.l2CacheBytes };
    shapes.set(device, s);
  }
  return s;
}

// The dynamic scheduler's two int32 counters (next tile, finished CTAs): zero between launches,
// because the last CTA of each launch resets them. Launches on one stream run one after the
// other, so each stream has its own pair; launches on two streams at once never share one.
const perStream = new WeakMap<Stream, DeviceBuffer>();
const perDevice = new Map<number, DeviceBuffer>();

function zeroed(device: number): DeviceBuffer {
  const b = DeviceBuffer.alloc(8, { device });
  b.memset32(0);
  return b;
}

/** The counter pair of a stream; without one, the device's pair (the buffer API and the bench's timed launches). */
export function tileCounter(device: number, stream?: Stream): DeviceBuffer {
  if (stream) {
    let b = perStream.get(stream);
    if (!b || b.disposed) perStream.set(stream, (b = zeroed(device)));
    return b;
  }
  let b = perDevice.get(device);
  if (!b || b.disposed) perDevice.set(device, (b = zeroed(device)));
  return b;
}

/**
 * The most CTAs a persistent launch of this loaded kernel runs in one wave, where its SM count is
 * not the bound: kvShare 2 launches clusters of two CTAs, which must sit on two SMs of one GPC at
 * once, and a GPC with an odd number of free SMs leaves one idle (an H100 SXM fits 66 clusters of
 * two 230 KB CTAs on its 132 SMs, bench/NOTES.md session 11; another part may fit fewer). A larger
 * grid would run its last clusters as a second wave, doubling the kernel's time. Undefined: no cap.
 */
export function clusterCtaCap(kernel: GeneratedKernel, fn: KernelFunction): number | undefined {
  if (kernel.plan.kvShare !== 2) return undefined;
  const clusters = fn.maxActiveClusters(2, kernel.threads, kernel.sharedMemBytes);
  if (clusters < 1) {
    throw new RangeError(`kvShare 2: device ${fn.device} fits no cluster of two CTAs with ${kernel.sharedMemBytes} bytes of shared memory each; use kvShare 1`);
  }
  return 2 * clusters;
}

/**
 * A generated kernel's cubin loaded on `device` (default 0): its function, allowed the launch's
 * dynamic shared memory, and clusterCtaCap's bound where it has one.
 */
export function loadKernel(cubin: Uint8Array, kernel: GeneratedKernel, device?: number): { fn: KernelFunction; maxCtas?: number } {
  const fn = Module.load(cubin, device !== undefined ? { device } : undefined).getFunction(kernel.name);
  fn.setMaxDynamicSharedMemory(kernel.sharedMemBytes);
  const maxCtas = clusterCtaCap(kernel, fn);
  return { fn, ...(maxCtas !== undefined ? { maxCtas } : {}) };
}

// splitTail's workspace (kernels/attention.cuh mergeTail): 1024 int32 arrival counts, zero between
// launches (each launch's last pieces reset theirs), then one slot per piece of the last round, at
// most one per CTA. Per stream like the counter pair, for the same reason. Never freed while the
// process may still launch on it: a larger need allocates a larger one and keeps the old alive.
const tailPerStream = new WeakMap<Stream, DeviceBuffer[]>();
const tailPerDevice = new Map<number, DeviceBuffer[]>();


/** A zeroed splitTail workspace of at least `bytes` on the stream (or the device's, without one). */
export function tailWorkspace(device: number, bytes: number, stream?: Stream): DeviceBuffer {
  let list = stream ? tailPerStream.get(stream) : tailPerDevice.get(device);
  if (!list) {
    list = [];
    if (stream) tailPerStream.set(stream, list);
    else tailPerDevice.set(device, list);
  }
  const have = list[list.length - 1];
  if (have && !have.disposed && have.bytes >= bytes) return have;
  const b = DeviceBuffer.alloc(bytes, { device });
  b.memset32(0);
  list.push(b);
  return b;
}

/**
 * A persistent launch's arguments: the device's shape (its SM count capped by `ctas`, and by
 * `cap`, clusterCtaCap's bound), the stream's tile counter and, for a splitTail kernel, its workspace
 * (sized for a grid of the SM count: the grid never exceeds it).
 */
export function persistentArgs(device: number, stream?: Stream, ctas?: number, cap?: number, kernel?: GeneratedKernel): NonNullable<LaunchProblem['persistent']> {
  const shape = deviceShape(device);
  const counter = tileCounter(device, stream);
  const smCount = Math.min(ctas ?? shape.smCount, cap ?? Infinity);
  const tail = kernel?.plan.splitTail ? tailWorkspace(device, tailWorkspaceBytes(kernel, Math.max(smCount, shape.smCount)), stream) : undefined;
  return { smCount, l2Bytes: shape.l2Bytes, tileCounter: counter, ...(tail ? { tailWorkspace: tail } : {}) };
}
