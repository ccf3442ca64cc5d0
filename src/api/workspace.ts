// What a persistent launch needs beyond its operands: the device's SM count and L2 size (for the
// grid and the scheduler's head sections) and the dynamic scheduler's tile counter.
import { DeviceBuffer, devices, type Stream } from '../runtime/index.js';
import type { LaunchProblem } from './launch_args.js';

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

/** A persistent launch's arguments: the device's shape (its SM count capped by `ctas`) and the stream's tile counter. */
export function persistentArgs(device: number, stream?: Stream, ctas?: number): NonNullable<LaunchProblem['persistent']> {
  const shape = deviceShape(device);
  const counter = tileCounter(device, stream);
  return { smCount: ctas ?? shape.smCount, l2Bytes: shape.l2Bytes, tileCounter: counter };
}
