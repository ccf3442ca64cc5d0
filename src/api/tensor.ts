// Tensors: device memory with a dtype and a layout (shape, strides and offset, in elements; see
// layout.ts). Views (transpose, view, slice, select) share the storage and copy nothing. A
// tensor made by this module (empty, zeros, random, from, fromDevicePointer) owns its storage
// handle: disposing it frees the memory (or, for borrowed memory, only forgets it), and every
// view of it then reports disposed. Disposing a view frees nothing.
//
// Host data crosses as Float32Array (converted to f16/bf16 with round-to-nearest-even, half.ts)
// or as Uint16Array of raw f16/bf16 bits; an i32 tensor (cuSeqlens of a packed batch) takes and
// gives an Int32Array. Every bad argument throws a TypeError or RangeError
// naming the argument and the rule before anything is allocated or copied.
import { requireDevice, requireInteger, requireOneOf, requireOptions } from '../runtime/check.js';
import { DeviceBuffer, requireAddress } from '../runtime/memory.js';
import { fillRandom, freshSeed } from './fill.js';
import { floatsToBits, toFloats } from './half.js';
import {
  gather,
  isContiguous,
  lastElement,
  makeLayout,
  numel,
  selectLayout,
  sliceLayout,
  transposeLayout,
  viewLayout,
  type Layout,
} from './layout.js';

export type TensorDtype = 'f16' | 'bf16' | 'f32' | 'i32';
export type FloatDtype = Exclude<TensorDtype, 'i32'>;
export const DTYPES: readonly TensorDtype[] = ['f16', 'bf16', 'f32', 'i32'];
/** The dtypes that hold values (random fill, Float32Array reads). */
export const FLOAT_DTYPES: readonly FloatDtype[] = ['f16', 'bf16', 'f32'];
export const DTYPE_BYTES: Readonly<Record<TensorDtype, number>> = { f16: 2, bf16: 2, f32: 4, i32: 4 };

export interface TensorOptions {
  dtype: TensorDtype;
  /** CUDA device index; default 0. */
  device?: number;
}

export interface FromOptions extends TensorOptions {
  /** Default: [data.length]. */
  shape?: readonly number[];
}

export interface RandomOptions extends TensorOptions {
  dtype: FloatDtype;
  /** 0..2^32-1; the same seed gives the same values. Default: a fresh one. */
  seed?: number;
}

export interface DevicePointerOptions extends TensorOptions {
  shape: readonly number[];
  /** In elements; default row-major contiguous. */
  strides?: readonly number[];
}

type HostData = Float32Array | Uint16Array | Int32Array;

export class Tensor {
  readonly dtype: TensorDtype;
  readonly shape: readonly number[];
  /** In elements. */
  readonly strides: readonly number[];
  /** Of the first element in the storage, in elements. */
  readonly offset: number;
  /** The storage, shared with every view. */
  readonly buffer: DeviceBuffer;
  readonly #ownsStorage: boolean;
  #disposed = false;

  /** @internal: use the static constructors. `buffer` may be a stand-in with the same methods. */
  constructor(buffer: DeviceBuffer, dtype: TensorDtype, layout: Layout, ownsStorage: boolean) {
    const bytes = DTYPE_BYTES[dtype];
    if ((lastElement(layout) + 1) * bytes > buffer.bytes)
      throw new RangeError(`Tensor: the layout reaches element ${lastElement(layout)} of a ${buffer.bytes}-byte storage of ${dtype}`);
    this.buffer = buffer;
    this.dtype = dtype;
    this.shape = Object.freeze([...layout.shape]);
    this.strides = Object.freeze([...layout.strides]);
    this.offset = layout.offset;
    this.#ownsStorage = ownsStorage;
  }

  /** Uninitialised device memory. */
  static empty(shape: readonly number[], opts: TensorOptions): Tensor {
    const { dtype, device, layout } = creation(shape, opts, 'Tensor.empty');
    return new Tensor(DeviceBuffer.alloc(numel(layout.shape) * DTYPE_BYTES[dtype], { device }), dtype, layout, true);
  }

  /** All bits zero (+0.0 in every dtype). */
  static zeros(shape: readonly number[], opts: TensorOptions): Tensor {
    const { dtype, device, layout } = creation(shape, opts, 'Tensor.zeros');
    const buffer = DeviceBuffer.alloc(numel(layout.shape) * DTYPE_BYTES[dtype], { device });
    try {
      buffer.memset8(0);
    } catch (err) {
      buffer.dispose();
      throw err;
    }
    return new Tensor(buffer, dtype, layout, true);
  }

  /** Roughly N(0, 1) values generated on the device from `seed` (see fill.ts). */
  static async random(shape: readonly number[], opts: RandomOptions): Promise<Tensor> {
    const { dtype, device, layout } = creation(shape, opts, 'Tensor.random', FLOAT_DTYPES);
    const seed = requireInteger(opts.seed ?? freshSeed(), 'Tensor.random: seed', 0, 2 ** 32 - 1);
    const count = numel(layout.shape);
    const buffer = DeviceBuffer.alloc(count * DTYPE_BYTES[dtype], { device });
    try {
      await fillRandom(buffer, count, dtype as FloatDtype, seed);
    } catch (err) {
      buffer.dispose();
      throw err;
    }
    return new Tensor(buffer, dtype, layout, true);
  }

  /** A contiguous tensor holding host data: a Float32Array of values (rounded to nearest even
   * for f16/bf16), a Uint16Array of raw f16/bf16 bits, or an Int32Array for dtype 'i32'. */
  static from(data: HostData, opts: FromOptions): Tensor {
    const what = 'Tensor.from';
    const o = requireOptions(opts, `${what}: opts`);
    const dtype = requireOneOf(o.dtype, `${what}: dtype`, DTYPES);
    requireHostData(data, dtype, `${what}: data`);
    const { device, layout } = creation(o.shape ?? [data.length], o, what);
    requireLength(data, layout.shape, `${what}: data`);
    const raw = deviceBits(data, dtype);
    const buffer = DeviceBuffer.alloc(raw.byteLength, { device });
    try {
      buffer.upload(raw);
    } catch (err) {
      buffer.dispose();
      throw err;
    }
    return new Tensor(buffer, dtype, layout, true);
  }

  /** Wraps device memory another GPU library in this process owns (a PyTorch tensor's
   * data_ptr(), say) without a copy and without taking ownership: stagewise never frees it, and
   * the owner must keep it alive while this tensor is used. `ptr` is the first element's address. */
  static fromDevicePointer(ptr: bigint, opts: DevicePointerOptions): Tensor {
    const what = 'Tensor.fromDevicePointer';
    requireAddress(ptr, `${what}: ptr`);
    const o = requireOptions(opts, `${what}: opts`);
    if (o.shape === undefined) throw new TypeError(`${what}: shape is required`);
    const dtype = requireOneOf(o.dtype, `${what}: dtype`, DTYPES);
    const bytes = DTYPE_BYTES[dtype];
    if (ptr % BigInt(bytes) !== 0n)
      throw new RangeError(`${what}: ptr 0x${ptr.toString(16)} must be aligned to the ${bytes}-byte ${dtype} element`);
    const device = requireDevice(o.device ?? 0, `${what}: device`);
    const layout = makeLayout(o.shape, o.strides, 0, what);
    const buffer = DeviceBuffer.wrap(ptr, (lastElement(layout) + 1) * bytes, { device });
    return new Tensor(buffer, dtype, layout, true);
  }

  get device(): number {
    return this.buffer.device;
  }

  get rank(): number {
    return this.shape.length;
  }

  get numel(): number {
    return numel(this.shape);
  }

  get elementBytes(): number {
    return DTYPE_BYTES[this.dtype];
  }

  /** Of the first element within the storage. */
  get byteOffset(): number {
    return this.offset * this.elementBytes;
  }

  /** The device address of the first element. */
  get ptr(): bigint {
    return this.buffer.ptr + BigInt(this.byteOffset);
  }

  get isContiguous(): boolean {
    return isContiguous(this);
  }

  /** True once this tensor, or the tensor that owns its storage, was disposed. */
  get disposed(): boolean {
    return this.#disposed || this.buffer.disposed;
  }

  /** Overwrites a contiguous tensor with host data (as `from` takes it); allocates nothing. */
  write(data: HostData): void {
    const what = 'Tensor.write';
    this.#requireLive(what);
    requireHostData(data, this.dtype, `${what}: data`);
    requireLength(data, this.shape, `${what}: data`);
    if (!this.isContiguous) throw new RangeError(`${what}: the tensor must be contiguous; ${this} is not`);
    this.buffer.upload(deviceBits(data, this.dtype), this.byteOffset);
  }

  /** The values in logical (row-major) order, as float32. Synchronous: waits for the work
   * queued before it (the download runs on the device's default stream). */
  toFloat32Array(): Float32Array {
    this.#requireLive('Tensor.toFloat32Array');
    if (this.dtype === 'i32') throw new TypeError('Tensor.toFloat32Array: an i32 tensor holds integers; use toInt32Array()');
    if (this.dtype === 'f32') return this.#read(Float32Array);
    return toFloats(this.#read(Uint16Array), this.dtype);
  }

  /** The raw f16/bf16 bit patterns in logical order. */
  toBits(): Uint16Array {
    this.#requireLive('Tensor.toBits');
    if (this.dtype === 'f32') throw new TypeError('Tensor.toBits: an f32 tensor has 32-bit elements; use toFloat32Array()');
    if (this.dtype === 'i32') throw new TypeError('Tensor.toBits: an i32 tensor has 32-bit elements; use toInt32Array()');
    return this.#read(Uint16Array);
  }

  /** The values of an i32 tensor in logical order. Synchronous, as toFloat32Array(). */
  toInt32Array(): Int32Array {
    this.#requireLive('Tensor.toInt32Array');
    if (this.dtype !== 'i32') throw new TypeError(`Tensor.toInt32Array: only an i32 tensor reads as integers; this one is ${this.dtype} (use toFloat32Array())`);
    return this.#read(Int32Array);
  }

  /** Swaps two dimensions (negative counts from the end). A view: no copy. */
  transpose(a: number, b: number): Tensor {
    this.#requireLive('Tensor.transpose');
    return this.#view(transposeLayout(this, a, b, 'Tensor.transpose'));
  }

  /** The same elements with a new shape (one entry may be -1); only for contiguous tensors. */
  view(shape: readonly number[]): Tensor {
    this.#requireLive('Tensor.view');
    return this.#view(viewLayout(this, shape, 'Tensor.view'));
  }

  /** Elements start..end-1 (end exclusive, default the size) along `dim`. A view: no copy. */
  slice(dim: number, start: number, end?: number): Tensor {
    this.#requireLive('Tensor.slice');
    return this.#view(sliceLayout(this, dim, start, end, 'Tensor.slice'));
  }

  /** Index `index` along `dim`, which disappears from the shape. A view: no copy. */
  select(dim: number, index: number): Tensor {
    this.#requireLive('Tensor.select');
    return this.#view(selectLayout(this, dim, index, 'Tensor.select'));
  }

  /** Frees the storage if this tensor owns it (views of it become disposed); for a view, only
   * the view becomes unusable. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#ownsStorage) this.buffer.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    const offset = this.offset ? `, offset ${this.offset}` : '';
    const disposed = this.disposed ? ', disposed' : '';
    return `Tensor(${this.dtype}, shape [${this.shape.join(', ')}], strides [${this.strides.join(', ')}]${offset}, cuda:${this.device}${disposed})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  #view(layout: Layout): Tensor {
    return new Tensor(this.buffer, this.dtype, layout, false);
  }

  /** Downloads the span of storage the tensor covers and gathers its elements. */
  #read<T extends Float32Array | Uint16Array | Int32Array>(Kind: { new (length: number): T }): T {
    const out = new Kind(this.numel);
    if (this.isContiguous) {
      this.buffer.download(out, this.byteOffset);
      return out;
    }
    const window = new Kind(lastElement(this) - this.offset + 1);
    this.buffer.download(window, this.byteOffset);
    gather(window, this, this.offset, out);
    return out;
  }

  #requireLive(what: string): void {
    if (this.#disposed) throw new TypeError(`${what}: Tensor used after dispose()`);
    if (this.buffer.disposed) throw new TypeError(`${what}: the tensor's storage was disposed (by the tensor that owns it)`);
  }
}

/** Checks what every creator takes: shape, dtype and device, giving a contiguous layout. */
function creation(shape: unknown, opts: Partial<TensorOptions> | undefined, what: string, dtypes: readonly TensorDtype[] = DTYPES) {
  const o = requireOptions(opts, `${what}: opts`);
  const dtype = requireOneOf(o.dtype, `${what}: dtype`, dtypes);
  const device = requireDevice(o.device ?? 0, `${what}: device`);
  const layout = makeLayout(shape, undefined, 0, what); // contiguous strides
  if (numel(layout.shape) * DTYPE_BYTES[dtype] > Number.MAX_SAFE_INTEGER)
    throw new RangeError(`${what}: shape [${layout.shape.join(', ')}] of ${dtype} needs more than 2^53-1 bytes`);
  return { dtype, device, layout };
}

function requireHostData(data: unknown, dtype: TensorDtype, name: string): asserts data is HostData {
  if (dtype === 'i32') {
    if (data instanceof Int32Array) return;
    throw new TypeError(`${name}: dtype 'i32' takes an Int32Array, got ${kindOf(data)}`);
  }
  if (data instanceof Int32Array)
    throw new TypeError(`${name}: an Int32Array holds i32 values; dtype '${dtype}' takes a Float32Array${dtype === 'f32' ? '' : ' or a Uint16Array'}`);
  if (data instanceof Float32Array) return;
  if (data instanceof Uint16Array) {
    if (dtype === 'f32') throw new TypeError(`${name}: a Uint16Array holds raw 16-bit bits; dtype 'f32' takes a Float32Array`);
    return;
  }
  throw new TypeError(`${name} must be a Float32Array (values) or a Uint16Array (raw f16/bf16 bits), got ${kindOf(data)}`);
}

function kindOf(data: unknown): string {
  return data === null ? 'null' : typeof data === 'object' ? (data.constructor?.name ?? 'object') : typeof data;
}

/** Checked host data as the elements the device holds for `dtype`. */
function deviceBits(data: HostData, dtype: TensorDtype): HostData {
  return data instanceof Float32Array && (dtype === 'f16' || dtype === 'bf16') ? floatsToBits(data, dtype) : data;
}

function requireLength(data: HostData, shape: readonly number[], name: string): void {
  if (data.length !== numel(shape))
    throw new RangeError(`${name} has ${data.length} elements but shape [${shape.join(', ')}] has ${numel(shape)}`);
}
