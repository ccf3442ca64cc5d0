// A loaded cubin (cuModuleLoadData) and its kernels. A kernel keeps its module alive natively;
// after module.dispose() its kernels refuse to run.
import { requireDevice, requireInteger, requireOptions, requireString } from './check.js';
import type { DeviceOptions } from './memory.js';
import { HANDLE, native, type NativeHandle } from './native.js';

export interface KernelAttributes {
  numRegs: number;
  localSizeBytes: number;
  maxThreadsPerBlock: number;
  /** Static shared memory. */
  sharedSizeBytes: number;
}

export class Module {
  /** @internal */
  readonly [HANDLE]: NativeHandle;
  /** The CUDA device whose context holds the module; its kernels launch there only. */
  readonly device: number;
  #disposed = false;

  private constructor(handle: NativeHandle, device: number) {
    this[HANDLE] = handle;
    this.device = device;
  }

  static load(cubin: Uint8Array, opts?: DeviceOptions): Module {
    if (!(cubin instanceof Uint8Array)) throw new TypeError('Module.load: cubin must be a Uint8Array');
    if (cubin.byteLength === 0) throw new RangeError('Module.load: cubin is empty');
    const device = requireDevice(requireOptions(opts, 'Module.load: opts').device ?? 0, 'Module.load: device');
    return new Module(native().moduleLoad(cubin, device), device);
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** The kernel by its symbol name (declare kernels extern "C" to keep names unmangled). */
  getFunction(name: string): KernelFunction {
    requireString(name, 'getFunction: name');
    if (this.#disposed) throw new TypeError('getFunction: Module used after dispose()');
    return new KernelFunction(name, this, native().moduleGetFunction(this[HANDLE], name));
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    native().moduleUnload(this[HANDLE]);
  }
}

export class KernelFunction {
  /** @internal */
  readonly [HANDLE]: NativeHandle;

  /** @internal: use Module.getFunction. */
  constructor(
    readonly name: string,
    readonly module: Module,
    handle: NativeHandle,
  ) {
    this[HANDLE] = handle;
  }

  get device(): number {
    return this.module.device;
  }

  /** Lets launches ask for up to `bytes` of dynamic shared memory (above 48 KiB needs this). */
  setMaxDynamicSharedMemory(bytes: number): void {
    requireInteger(bytes, 'setMaxDynamicSharedMemory: bytes', 0, 2 ** 31 - 1);
    this.requireLive();
    native().funcSetMaxDynamicShared(this[HANDLE], bytes);
  }

  /**
   * How many clusters of `clusterSize` CTAs (`threads` each, `sharedMemBytes` of dynamic shared
   * memory) the device runs at once; set the shared-memory limit first. A persistent grid of more
   * clusters than this runs a second wave.
   */
  maxActiveClusters(clusterSize: number, threads: number, sharedMemBytes: number): number {
    requireInteger(clusterSize, 'maxActiveClusters: clusterSize', 1, 16);
    requireInteger(threads, 'maxActiveClusters: threads', 1, 1024);
    requireInteger(sharedMemBytes, 'maxActiveClusters: sharedMemBytes', 0, 2 ** 31 - 1);
    this.requireLive();
    return native().funcMaxActiveClusters(this[HANDLE], clusterSize, threads, sharedMemBytes);
  }

  attributes(): KernelAttributes {
    this.requireLive();
    return native().funcAttributes(this[HANDLE]);
  }

  /** @internal */
  requireLive(): void {
    if (this.module.disposed) throw new TypeError(`kernel '${this.name}': its Module was disposed`);
  }
}
