// Streams and events: where launches queue, and how to wait for them without blocking the JS
// thread. Waiting (Event.wait, Stream.synchronizeAsync) runs cuEventSynchronize on a libuv
// worker thread, so timers and I/O keep running while the GPU works; a kernel fault rejects the
// Promise ("cuEventSynchronize: CUDA_ERROR_ILLEGAL_ADDRESS") and, being sticky, kills the
// context for the rest of the process as synchronize() does.
import { requireDevice, requireOptions } from './check.js';
import type { DeviceOptions } from './memory.js';
import { HANDLE, native, type NativeHandle } from './native.js';

const defaultStreams = new Map<number, Stream>();

export class Stream {
  /** @internal */
  readonly [HANDLE]: NativeHandle;
  readonly device: number;
  /** The device's default stream (the legacy NULL stream): dispose() leaves it alone. */
  readonly isDefault: boolean;
  #disposed = false;

  private constructor(handle: NativeHandle, device: number, isDefault: boolean) {
    this[HANDLE] = handle;
    this.device = device;
    this.isDefault = isDefault;
  }

  /** A new stream on the device (cuStreamCreate). It is a blocking stream: ordered with the
   * default stream, on which uploads and downloads run, so a download after a launch on it
   * sees the launch's results without an explicit wait. */
  static create(opts?: DeviceOptions): Stream {
    const device = requireDevice(requireOptions(opts, 'Stream.create: opts').device ?? 0, 'Stream.create: device');
    return new Stream(native().streamCreate(device), device, false);
  }

  /** The device's default stream: where launch() queues when given no stream. One object per device. */
  static default(device = 0): Stream {
    requireDevice(device, 'Stream.default: device');
    let stream = defaultStreams.get(device);
    if (!stream) {
      stream = new Stream(native().streamDefault(device), device, true);
      defaultStreams.set(device, stream);
    }
    return stream;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Records an event that completes when the work queued on this stream so far has finished.
   * Pass an event of this device to record it again instead of creating one. */
  record(reuse?: Event): Event {
    this.#requireLive('record');
    if (reuse === undefined) return new Event(native().eventRecord(this[HANDLE]), this.device);
    if (!(reuse instanceof Event)) throw new TypeError('Stream.record: reuse must be an Event');
    if (reuse.disposed) throw new TypeError('Stream.record: reuse: Event used after dispose()');
    if (reuse.device !== this.device)
      throw new RangeError(`Stream.record: reuse belongs to device ${reuse.device}, the stream to device ${this.device}`);
    native().eventRecord(this[HANDLE], reuse[HANDLE]);
    return reuse;
  }

  /** Resolves once the work queued on this stream so far has finished, without blocking the
   * JS thread (an event recorded now, waited for on a worker thread). */
  async synchronizeAsync(): Promise<void> {
    this.#requireLive('synchronizeAsync');
    await native().streamSynchronizeAsync(this[HANDLE]);
  }

  /** Destroys the stream; work already queued still runs to completion. Idempotent; the
   * default stream is never destroyed. */
  dispose(): void {
    if (this.#disposed || this.isDefault) return;
    this.#disposed = true;
    native().streamDestroy(this[HANDLE]);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return `Stream(${this.isDefault ? 'default' : 'created'}, cuda:${this.device}${this.#disposed ? ', disposed' : ''})`;
  }

  #requireLive(what: string): void {
    if (this.#disposed) throw new TypeError(`Stream.${what}: Stream used after dispose()`);
  }
}

/** A completion event (no timestamp), from Stream.record(). */
export class Event {
  /** @internal */
  readonly [HANDLE]: NativeHandle;
  readonly device: number;
  #disposed = false;

  /** @internal: use Stream.record. */
  constructor(handle: NativeHandle, device: number) {
    this[HANDLE] = handle;
    this.device = device;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Whether the recorded work has finished (cuEventQuery); never blocks. */
  query(): boolean {
    this.#requireLive('query');
    return native().eventQuery(this[HANDLE]);
  }

  /** Resolves when the recorded work has finished; the wait runs on a worker thread. */
  async wait(): Promise<void> {
    this.#requireLive('wait');
    await native().eventWait(this[HANDLE]);
  }

  /** Destroys the event; a wait already in flight still settles. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    native().eventDestroy(this[HANDLE]);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #requireLive(what: string): void {
    if (this.#disposed) throw new TypeError(`Event.${what}: Event used after dispose()`);
  }
}
