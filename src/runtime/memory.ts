// Device memory: a DeviceBuffer owns one cuMemAlloc allocation, or borrows memory another
// library owns (wrap). dispose() frees owned memory at once; a native finalizer frees it when
// the object is garbage collected, as a safety net only. Borrowed memory is never freed here.
import { bytesOf, requireDevice, requireInteger, requireOptions, MAX_SAFE } from './check.js';
import { HANDLE, native, type NativeHandle } from './native.js';

export interface DeviceOptions {
  /** CUDA device index; default 0. */
  device?: number;
}

export class DeviceBuffer {
  readonly bytes: number;
  /** The device address (CUdeviceptr). */
  readonly ptr: bigint;
  /** The CUDA device index the memory belongs to. */
  readonly device: number;
  /** False for memory borrowed with wrap(): dispose() then only forgets it. */
  readonly owned: boolean;
  /** @internal */
  readonly [HANDLE]: NativeHandle;
  #disposed = false;

  private constructor(bytes: number, handle: NativeHandle, ptr: bigint, device: number, owned: boolean) {
    this.bytes = bytes;
    this[HANDLE] = handle;
    this.ptr = ptr;
    this.device = device;
    this.owned = owned;
  }

  static alloc(bytes: number, opts?: DeviceOptions): DeviceBuffer {
    requireInteger(bytes, 'DeviceBuffer.alloc: bytes', 1, MAX_SAFE);
    const device = requireDevice(requireOptions(opts, 'DeviceBuffer.alloc: opts').device ?? 0, 'DeviceBuffer.alloc: device');
    const { handle, ptr } = native().memAlloc(bytes, device);
    return new DeviceBuffer(bytes, handle, ptr, device, true);
  }

  /** Borrows `bytes` of device memory at `ptr` that another GPU library in this process owns
   * (it must stay allocated while this buffer is used). Never freed by stagewise. The driver
   * must know ptr as memory of `device` (cuPointerGetAttribute), else RangeError. */
  static wrap(ptr: bigint, bytes: number, opts?: DeviceOptions): DeviceBuffer {
    const what = 'DeviceBuffer.wrap';
    requireAddress(ptr, `${what}: ptr`);
    requireInteger(bytes, `${what}: bytes`, 1, MAX_SAFE);
    if (ptr + BigInt(bytes) > 2n ** 64n) throw new RangeError(`${what}: ptr + bytes passes the end of the 64-bit address space`);
    const device = requireDevice(requireOptions(opts, `${what}: opts`).device ?? 0, `${what}: device`);
    return new DeviceBuffer(bytes, native().memWrap(ptr, bytes, device), ptr, device, false);
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Copies src (all of it) into the buffer at dstOffsetBytes. Synchronous. */
  upload(src: ArrayBufferView, dstOffsetBytes = 0): void {
    const bytes = bytesOf(src, 'upload: src');
    this.#requireSpan('upload', dstOffsetBytes, bytes.byteLength, 'dstOffsetBytes');
    native().memUpload(this[HANDLE], bytes, dstOffsetBytes);
  }

  /** Fills dst (all of it) from the buffer starting at srcOffsetBytes. Synchronous. */
  download(dst: ArrayBufferView, srcOffsetBytes = 0): void {
    const bytes = bytesOf(dst, 'download: dst');
    this.#requireSpan('download', srcOffsetBytes, bytes.byteLength, 'srcOffsetBytes');
    native().memDownload(this[HANDLE], bytes, srcOffsetBytes);
  }

  /** Device-to-device copy; bytes defaults to the rest of src from srcOffset. */
  copyFrom(src: DeviceBuffer, bytes?: number, dstOffset = 0, srcOffset = 0): void {
    if (!(src instanceof DeviceBuffer)) throw new TypeError('copyFrom: src must be a DeviceBuffer');
    src.#requireLive('copyFrom: src');
    if (src.device !== this.device)
      throw new RangeError(`copyFrom: src is memory of device ${src.device}, the destination of device ${this.device}; copies stay on one device`);
    requireInteger(srcOffset, 'copyFrom: srcOffset', 0, src.bytes);
    const count = bytes ?? src.bytes - srcOffset;
    requireInteger(count, 'copyFrom: bytes', 0, MAX_SAFE);
    src.#requireSpan('copyFrom source', srcOffset, count, 'srcOffset');
    this.#requireSpan('copyFrom destination', dstOffset, count, 'dstOffset');
    native().memCopy(this[HANDLE], src[HANDLE], count, dstOffset, srcOffset);
  }

  /** Fills every byte with `byte`. */
  memset8(byte: number): void {
    this.#memset(1, byte, 0xff);
  }

  /** Fills every 16-bit word with `value`, e.g. 0x7E00 (f16 NaN) or 0x7FC0 (bf16 NaN). */
  memset16(value: number): void {
    this.#memset(2, value, 0xffff);
  }

  /** Fills every 32-bit word with `value`, e.g. 0x7FC00000 (f32 NaN). */
  memset32(value: number): void {
    this.#memset(4, value, 0xffffffff);
  }

  /** Frees the allocation now (borrowed memory is only forgotten); later use throws. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    native().memFree(this[HANDLE]);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #memset(width: 1 | 2 | 4, value: number, max: number): void {
    this.#requireLive(`memset${8 * width}`);
    requireInteger(value, `memset${8 * width}: value`, 0, max);
    if (this.bytes % width !== 0)
      throw new RangeError(`memset${8 * width}: the buffer's ${this.bytes} bytes are not a multiple of ${width}`);
    native().memSet(this[HANDLE], width, value);
  }

  #requireLive(what: string): void {
    if (this.#disposed) throw new TypeError(`${what}: DeviceBuffer used after dispose()`);
  }

  #requireSpan(what: string, offset: number, count: number, offsetName: string): void {
    this.#requireLive(what);
    requireInteger(offset, `${what}: ${offsetName}`, 0, this.bytes);
    if (offset + count > this.bytes)
      throw new RangeError(`${what}: ${count} bytes at offset ${offset} exceed the buffer's ${this.bytes} bytes`);
  }
}

/** @internal: throws unless buf is a live DeviceBuffer. */
export function requireLiveBuffer(buf: unknown, name: string): DeviceBuffer {
  if (!(buf instanceof DeviceBuffer)) throw new TypeError(`${name} must be a DeviceBuffer`);
  if (buf.disposed) throw new TypeError(`${name}: DeviceBuffer used after dispose()`);
  return buf;
}

/** A device address: a bigint in 1..2^64-1. */
export function requireAddress(ptr: unknown, name: string): bigint {
  if (typeof ptr !== 'bigint') throw new TypeError(`${name} must be a bigint device address, got ${typeof ptr}`);
  if (ptr <= 0n || ptr >= 2n ** 64n) throw new RangeError(`${name} must be a device address in 1..2^64-1, got ${ptr}`);
  return ptr;
}
