// Streams and events on the GPU: awaiting a long kernel leaves the JS thread free (a 2 ms timer
// keeps firing), waits settle in order, and a kernel fault rejects the wait and kills the
// context as synchronize() does. Needs a Hopper GPU and NVRTC, else skipped with the reason.
// The fault runs last: it kills the CUDA context for the rest of this file's process.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeviceBuffer,
  Event,
  Module,
  Stream,
  compile,
  devices,
  launch,
  synchronize,
  type KernelFunction,
  type LaunchConfig,
} from '../../src/runtime/index.js';
import { describeGpu } from '../gpu.js';

let cacheDir: string;
const savedCacheDir = process.env.STAGEWISE_CACHE_DIR;
beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), 'stagewise-async-'));
  process.env.STAGEWISE_CACHE_DIR = cacheDir;
});
afterAll(async () => {
  if (savedCacheDir === undefined) delete process.env.STAGEWISE_CACHE_DIR;
  else process.env.STAGEWISE_CACHE_DIR = savedCacheDir;
  await rm(cacheDir, { recursive: true, force: true });
});

// Spins on the global nanosecond timer (bounded, so a stuck timer cannot hang the test), then
// counts itself done; with `address` set it then faults on that address.
const SPIN = `
__device__ unsigned long long nowNs() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}
extern "C" __global__ void spin(unsigned long long ns, unsigned* done, unsigned long long address) {
  const unsigned long long start = nowNs();
  for (unsigned long long i = 0; i < (1ull << 32) && nowNs() - start < ns; ++i) {
  }
  if (address) *reinterpret_cast<volatile int*>(address) = 1;
  atomicAdd(done, 1u);
}`;

let spinFn: KernelFunction | undefined;
async function spinKernel(): Promise<KernelFunction> {
  if (!spinFn) {
    const { cubin } = await compile(SPIN, { name: 'spin.cu' });
    spinFn = Module.load(cubin).getFunction('spin');
  }
  return spinFn;
}

function spinConfig(ms: number, done: DeviceBuffer, faultAddress = 0n): LaunchConfig {
  return {
    grid: [1, 1, 1],
    block: [1, 1, 1],
    sharedMemBytes: 0,
    params: [{ u64: BigInt(Math.round(ms * 1e6)) }, { ptr: done }, { u64: faultAddress }],
  };
}

function readCounter(done: DeviceBuffer): number {
  const out = new Uint32Array(1);
  done.download(out);
  return out[0];
}

/** Counts how often a 2 ms interval timer fires while `body` runs. */
async function ticksDuring(body: () => Promise<void> | void): Promise<{ ticks: number; ms: number }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 2);
  const start = performance.now();
  try {
    await body();
  } finally {
    clearInterval(timer);
  }
  return { ticks, ms: performance.now() - start };
}

describeGpu('streams and events (Hopper)', () => {
  it('awaiting a 50 ms kernel leaves the JS thread free: a 2 ms timer keeps firing', async () => {
    const fn = await spinKernel();
    using done = DeviceBuffer.alloc(4);
    done.memset32(0);
    using stream = Stream.create();
    launch(fn, spinConfig(1, done), stream); // warm-up: the first launch loads the module lazily
    await stream.synchronizeAsync();

    const awaited = await ticksDuring(async () => {
      launch(fn, spinConfig(50, done), stream);
      await stream.synchronizeAsync();
    });
    expect(readCounter(done)).toBe(2);
    expect(awaited.ms).toBeGreaterThanOrEqual(45);
    expect(awaited.ticks).toBeGreaterThanOrEqual(5); // about 25 expected; 0 when the thread blocks

    // The same kernel under the blocking synchronize(): no timer callback can run meanwhile.
    const blocked = await ticksDuring(() => {
      launch(fn, spinConfig(50, done), stream);
      synchronize();
    });
    expect(blocked.ms).toBeGreaterThanOrEqual(45);
    expect(blocked.ticks).toBe(0);
  });

  it('an event is pending while its work runs, settles off the thread, and can be recorded again', async () => {
    const fn = await spinKernel();
    using done = DeviceBuffer.alloc(4);
    done.memset32(0);
    using stream = Stream.create();
    launch(fn, spinConfig(30, done), stream);
    using event = stream.record();
    expect(event).toBeInstanceOf(Event);
    expect(event.device).toBe(0);
    expect(event.query()).toBe(false);
    await event.wait();
    expect(event.query()).toBe(true);
    expect(readCounter(done)).toBe(1);

    launch(fn, spinConfig(30, done), stream);
    expect(stream.record(event)).toBe(event);
    expect(event.query()).toBe(false);
    await event.wait();
    expect(readCounter(done)).toBe(2);
  });

  it('queues launches back to back and waits once for all of them', async () => {
    const fn = await spinKernel();
    using done = DeviceBuffer.alloc(4);
    done.memset32(0);
    using stream = Stream.create();
    for (let i = 0; i < 20; i++) launch(fn, spinConfig(0.5, done), stream);
    await stream.synchronizeAsync();
    expect(readCounter(done)).toBe(20);
  });

  it('a created stream is ordered with the default stream, where downloads run', async () => {
    const fn = await spinKernel();
    using done = DeviceBuffer.alloc(4);
    done.memset32(0);
    using stream = Stream.create();
    launch(fn, spinConfig(20, done), stream);
    expect(readCounter(done)).toBe(1); // the synchronous download waited for the launch

    launch(fn, spinConfig(5, done)); // no stream: the device's default stream
    const dflt = Stream.default();
    expect(dflt.isDefault).toBe(true);
    expect(Stream.default(0)).toBe(dflt);
    await dflt.synchronizeAsync();
    expect(readCounter(done)).toBe(2);
    dflt.dispose(); // the default stream is never destroyed
    expect(dflt.disposed).toBe(false);
  });

  it('disposing a stream or an event with work in flight lets the work finish', async () => {
    const fn = await spinKernel();
    using done = DeviceBuffer.alloc(4);
    done.memset32(0);
    const stream = Stream.create();
    launch(fn, spinConfig(20, done), stream);
    const event = stream.record();
    const waited = event.wait();
    event.dispose();
    stream.dispose();
    await waited;
    expect(readCounter(done)).toBe(1);
    expect(() => launch(fn, spinConfig(1, done), stream)).toThrow(/launch: stream: Stream used after dispose\(\)/);
    expect(() => stream.record()).toThrow(/Stream\.record: Stream used after dispose\(\)/);
    await expect(stream.synchronizeAsync()).rejects.toThrow(TypeError);
    await expect(event.wait()).rejects.toThrow(/Event\.wait: Event used after dispose\(\)/);
    expect(() => event.query()).toThrow(TypeError);
    stream.dispose(); // idempotent
  });

  it('refuses a device that does not exist and a stream of another device', async () => {
    const count = devices().devices.length;
    expect(() => Stream.create({ device: count })).toThrow(RangeError);
    expect(() => Stream.create({ device: count })).toThrow(new RegExp(`device ${count} does not exist`));
    if (count < 2) return;
    const fn = await spinKernel();
    using done = DeviceBuffer.alloc(4);
    using other = Stream.create({ device: 1 });
    expect(() => launch(fn, spinConfig(1, done), other)).toThrow(/stream is on device 1 but kernel 'spin' was loaded on device 0/);
    using far = DeviceBuffer.alloc(4, { device: 1 });
    expect(() => launch(fn, spinConfig(1, far))).toThrow(/params\[1\] is memory of device 1 but the kernel runs on device 0/);
    expect(() => far.copyFrom(done)).toThrow(/src is memory of device 0, the destination of device 1; copies stay on one device/);
    using event = other.record();
    using here = Stream.create();
    expect(() => here.record(event)).toThrow(/reuse belongs to device 1, the stream to device 0/);
  });

  // Last: the fault is sticky and every later GPU call in this process fails.
  describe('a faulting kernel (runs last: it kills the context)', () => {
    it('rejects the awaited wait with the CUDA error, then refuses further GPU work', async () => {
      const fn = await spinKernel();
      const done = DeviceBuffer.alloc(4);
      const stream = Stream.create();
      // Spin first, so the fault happens after the event is recorded: the wait reports it.
      launch(fn, spinConfig(20, done, 0x10n), stream);
      let failure: unknown;
      try {
        await stream.synchronizeAsync();
      } catch (e) {
        failure = e;
      }
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(/^cuEventSynchronize: CUDA_ERROR_(ILLEGAL_ADDRESS|LAUNCH_FAILED)/);
      expect((failure as { code?: string }).code).toMatch(/^CUDA_ERROR_(ILLEGAL_ADDRESS|LAUNCH_FAILED)$/);
      expect(() => Stream.create()).toThrow(/CUDA_ERROR_CONTEXT_LOST.*restart the process/);
      await expect(stream.synchronizeAsync()).rejects.toThrow(/CUDA_ERROR_CONTEXT_LOST/);
      expect(() => DeviceBuffer.alloc(16)).toThrow(/CUDA_ERROR_CONTEXT_LOST/);
      expect(devices().contextLost).toMatch(/cuEventSynchronize failed/);
      stream.dispose();
      done.dispose();
    });
  });
});
