// TMA descriptors (cuTensorMapEncodeTiled). Every rule of the driver is checked here first,
// with the argument and the rule named, because the driver only answers CUDA_ERROR_INVALID_VALUE.
// The 128-byte result is passed to a kernel by value:
//   struct alignas(64) CUtensorMap_t { char bytes[128]; };  ... const __grid_constant__ CUtensorMap_t tmap
import { requireArray, requireInteger, requireOneOf, MAX_SAFE } from './check.js';
import type { DeviceBuffer } from './memory.js';
import { native } from './native.js';

export type TmaDtype = 'f16' | 'bf16' | 'f32';
export type TmaSwizzle = 'none' | '32B' | '64B' | '128B';
export type TmaL2Promotion = 'none' | '64B' | '128B' | '256B';

export interface TensorMapDesc {
  dtype: TmaDtype;
  buffer: DeviceBuffer;
  /** Start of the tensor inside the buffer; the address must stay 16-byte aligned. */
  offsetBytes?: number;
  /** Extent per dimension, innermost first. */
  dims: number[];
  /** Byte stride of dims 1..rank-1 (rank-1 entries), each a multiple of 16. */
  stridesBytes: number[];
  /** Box (tile) copied per TMA operation, innermost first, entries 1..256. */
  box: number[];
  /** Traversal stride per dimension, 1..8; default all 1. */
  elementStrides?: number[];
  swizzle: TmaSwizzle;
  /** Default 'none'. */
  l2Promotion?: TmaL2Promotion;
  /** 'zero' (default) fills out-of-bounds elements with 0; 'nan' requests NaN. */
  oobFill?: 'zero' | 'nan';
}

/** The encoded descriptor. Holds its buffer so the memory it points at is not collected. */
export class TensorMap {
  constructor(
    readonly bytes: Uint8Array,
    readonly buffer: DeviceBuffer,
    readonly desc: Readonly<TensorMapDesc>,
  ) {}
}

const DTYPES: Record<TmaDtype, { code: number; bytes: number }> = {
  f16: { code: 6, bytes: 2 },
  f32: { code: 7, bytes: 4 },
  bf16: { code: 9, bytes: 2 },
};
const SWIZZLES: Record<TmaSwizzle, { code: number; spanBytes: number }> = {
  none: { code: 0, spanBytes: Infinity },
  '32B': { code: 1, spanBytes: 32 },
  '64B': { code: 2, spanBytes: 64 },
  '128B': { code: 3, spanBytes: 128 },
};
const L2: Record<TmaL2Promotion, number> = { none: 0, '64B': 1, '128B': 2, '256B': 3 };
const OOB = { zero: 0, nan: 1 } as const;

/** Checks a description against the rules of cuTensorMapEncodeTiled and returns the addon's
 * arguments. Only buffer.ptr/bytes/disposed are read, so tests can pass a stand-in buffer. */
export function tensorMapArgs(desc: TensorMapDesc) {
  const e = 'encodeTensorMap';
  if (typeof desc !== 'object' || desc === null) throw new TypeError(`${e}: the description must be an object`);
  const dtype = DTYPES[requireOneOf(desc.dtype, `${e}: dtype`, ['f16', 'bf16', 'f32'] as const)];
  const buffer = desc.buffer as Partial<DeviceBuffer> | undefined;
  if (typeof buffer !== 'object' || buffer === null || typeof buffer.ptr !== 'bigint' || typeof buffer.bytes !== 'number')
    throw new TypeError(`${e}: buffer must be a DeviceBuffer`);
  if (buffer.disposed) throw new TypeError(`${e}: buffer: DeviceBuffer used after dispose()`);
  const offset = requireInteger(desc.offsetBytes ?? 0, `${e}: offsetBytes`, 0, buffer.bytes - 1);
  const address = buffer.ptr + BigInt(offset);
  if (address % 16n !== 0n) throw new RangeError(`${e}: the global address (buffer.ptr + offsetBytes = 0x${address.toString(16)}) must be 16-byte aligned`);

  const dims = requireArray(desc.dims, `${e}: dims`);
  const rank = dims.length;
  if (rank < 1 || rank > 5) throw new RangeError(`${e}: dims must have 1..5 entries (the rank), got ${rank}`);
  dims.forEach((d, i) => requireInteger(d, `${e}: dims[${i}]`, 1, 2 ** 32));
  const strides = requireArray(desc.stridesBytes, `${e}: stridesBytes`);
  if (strides.length !== rank - 1) throw new RangeError(`${e}: stridesBytes must have rank-1 = ${rank - 1} entries, got ${strides.length}`);
  strides.forEach((s, i) => {
    requireInteger(s, `${e}: stridesBytes[${i}]`, 16, 2 ** 40 - 1);
    if ((s as number) % 16 !== 0) throw new RangeError(`${e}: stridesBytes[${i}] = ${s} must be a multiple of 16`);
  });
  const box = requireArray(desc.box, `${e}: box`);
  if (box.length !== rank) throw new RangeError(`${e}: box must have rank = ${rank} entries, got ${box.length}`);
  box.forEach((b, i) => requireInteger(b, `${e}: box[${i}]`, 1, 256));
  const innerBytes = (box[0] as number) * dtype.bytes;
  if (innerBytes % 16 !== 0) throw new RangeError(`${e}: box[0] * element size = ${innerBytes} B must be a multiple of 16 B`);
  const swizzle = SWIZZLES[requireOneOf(desc.swizzle, `${e}: swizzle`, ['none', '32B', '64B', '128B'] as const)];
  if (innerBytes > swizzle.spanBytes)
    throw new RangeError(`${e}: box[0] * element size = ${innerBytes} B exceeds the ${desc.swizzle} swizzle span; at most ${swizzle.spanBytes / dtype.bytes} elements`);
  const elementStrides = requireArray(desc.elementStrides ?? dims.map(() => 1), `${e}: elementStrides`);
  if (elementStrides.length !== rank) throw new RangeError(`${e}: elementStrides must have rank = ${rank} entries`);
  elementStrides.forEach((s, i) => requireInteger(s, `${e}: elementStrides[${i}]`, 1, 8));
  const l2Promotion = L2[requireOneOf(desc.l2Promotion ?? 'none', `${e}: l2Promotion`, ['none', '64B', '128B', '256B'] as const)];
  const oobFill = OOB[requireOneOf(desc.oobFill ?? 'zero', `${e}: oobFill`, ['zero', 'nan'] as const)];

  // The farthest byte the tensor reaches must lie inside the buffer.
  let lastByte = offset + (dims[0] as number) * dtype.bytes;
  strides.forEach((s, i) => (lastByte += ((dims[i + 1] as number) - 1) * (s as number)));
  if (lastByte > buffer.bytes || lastByte > MAX_SAFE)
    throw new RangeError(`${e}: the tensor reaches byte ${lastByte} of a ${buffer.bytes}-byte buffer (check dims, stridesBytes, offsetBytes)`);

  return {
    dataType: dtype.code,
    address,
    dims: dims as number[],
    stridesBytes: strides as number[],
    box: box as number[],
    elementStrides: elementStrides as number[],
    swizzle: swizzle.code,
    l2Promotion,
    oobFill,
  };
}

export function encodeTensorMap(desc: TensorMapDesc): TensorMap {
  const args = tensorMapArgs(desc);
  return new TensorMap(native().encodeTensorMap({ ...args, device: desc.buffer.device }), desc.buffer, { ...desc });
}
