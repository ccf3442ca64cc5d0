// A host-memory stand-in for device storage, answering the DeviceBuffer calls a Tensor makes
// (upload, download, dispose, ptr, bytes, device), so tensors, their views and the checks of the
// tensor API run on any machine. A virtual storage has an address and a size but no memory: for
// layouts far larger than the host has (size limits), never read or written.
import { contiguousStrides, type Layout } from '../../src/api/layout.js';
import { DTYPE_BYTES, Tensor, type TensorDtype } from '../../src/api/tensor.js';
import type { DeviceBuffer } from '../../src/runtime/index.js';

export interface HostStorageOptions {
  /** Default 0x7f0000000000 (aligned to 4 KiB). */
  ptr?: bigint;
  device?: number;
  /** No memory behind it: upload and download throw. */
  virtual?: boolean;
}

export class HostStorage {
  readonly ptr: bigint;
  readonly device: number;
  readonly owned = true;
  readonly memory: Uint8Array;
  disposed = false;
  /** Calls made, to prove a check wrote (or read) nothing. */
  uploads = 0;
  downloads = 0;
  constructor(
    readonly bytes: number,
    readonly opts: HostStorageOptions = {},
  ) {
    this.ptr = opts.ptr ?? 0x7f0000000000n;
    this.device = opts.device ?? 0;
    this.memory = new Uint8Array(opts.virtual ? 0 : bytes);
  }
  upload(src: ArrayBufferView, offset = 0) {
    this.uploads++;
    this.#requireMemory('upload');
    this.memory.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), offset);
  }
  download(dst: ArrayBufferView, offset = 0) {
    this.downloads++;
    this.#requireMemory('download');
    new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).set(this.memory.subarray(offset, offset + dst.byteLength));
  }
  dispose() {
    this.disposed = true;
  }
  #requireMemory(what: string) {
    if (this.disposed) throw new TypeError(`${what}: DeviceBuffer used after dispose()`);
    if (this.opts.virtual) throw new Error(`${what}: a virtual host storage has no memory`);
  }
}

export interface HostTensorOptions extends HostStorageOptions {
  dtype?: TensorDtype;
  /** Default row-major. */
  strides?: number[];
  /** In elements; default 0. */
  offset?: number;
}

/** A tensor owning a host storage just large enough for its layout. */
export function hostTensor(shape: number[], opts: HostTensorOptions = {}): { t: Tensor; storage: HostStorage } {
  const dtype = opts.dtype ?? 'f16';
  const layout: Layout = { shape, strides: opts.strides ?? contiguousStrides(shape), offset: opts.offset ?? 0 };
  const last = layout.shape.reduce((end, size, d) => end + Math.max(0, size - 1) * layout.strides[d], layout.offset);
  const storage = new HostStorage((last + 1) * DTYPE_BYTES[dtype], opts);
  return { t: new Tensor(storage as unknown as DeviceBuffer, dtype, layout, true), storage };
}
