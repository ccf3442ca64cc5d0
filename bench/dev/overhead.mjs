// Host cost of a call (issue #11, item 8): on a small problem (1 x 256 tokens x 8 heads x 128, f16,
// BNHD tensors), (a) N calls queued back to back on one stream, awaiting all at the end: host time
// per call beyond the kernel's own time; (b) one awaited call at a time: latency beyond the kernel.
// The kernel's time comes from CUDA events over the same launch. usage: node bench/dev/overhead.mjs [N]
import { attention, compileAttention, Tensor } from '../../dist/api/index.js';
import { Stream, timeLaunches } from '../../dist/runtime/index.js';

const N = Number(process.argv[2] ?? 2000);
const [B, S, H, D] = [1, 256, 8, 128];
const q = await Tensor.random([B, S, H, D], { dtype: 'f16', seed: 1 });
const k = await Tensor.random([B, S, H, D], { dtype: 'f16', seed: 2 });
const v = await Tensor.random([B, S, H, D], { dtype: 'f16', seed: 3 });
const out = Tensor.empty([B, S, H, D], { dtype: 'f16' });
const stream = Stream.create();
const opts = { out, stream, schedule: 'secondDot' };
for (let i = 0; i < 50; i++) await attention(q, k, v, opts); // compile, cache descriptors, warm up

// The kernel alone: the buffer-level API's kernel for the same shape in BHND (same code, same tile).
const c = await compileAttention({ batch: B, heads: H, seqLen: S, headDim: D, dtype: 'f16', causal: false, schedule: 'secondDot', load: 'tma' });
const { launchConfig } = await import('../../dist/api/index.js');
const { DeviceBuffer } = await import('../../dist/runtime/index.js');
const bufs = [0, 1, 2, 3].map(() => DeviceBuffer.alloc(B * S * H * D * 2));
const lse = DeviceBuffer.alloc(B * S * H * 4);
const times = timeLaunches(c.fn, [launchConfig(c, { batch: B, heads: H, seqLen: S, headDim: D, dtype: 'f16', causal: false, schedule: 'secondDot', load: 'tma' }, { q: bufs[0], k: bufs[1], v: bufs[2], o: bufs[3], lse })], { warmup: 20, iterations: 200 });
const kernelUs = [...times].sort((a, b) => a - b)[100] * 1000;

let t0 = process.hrtime.bigint();
const pending = [];
for (let i = 0; i < N; i++) pending.push(attention(q, k, v, opts));
const issuedUs = Number(process.hrtime.bigint() - t0) / 1000;
await Promise.all(pending);
const queuedUs = Number(process.hrtime.bigint() - t0) / 1000;

const lat = [];
for (let i = 0; i < 300; i++) {
  t0 = process.hrtime.bigint();
  await attention(q, k, v, opts);
  lat.push(Number(process.hrtime.bigint() - t0) / 1000);
}
lat.sort((a, b) => a - b);
const med = lat[150];
console.log(`kernel ${kernelUs.toFixed(1)} us (CUDA events, median of 200)`);
console.log(`queued: ${N} calls issued in ${(issuedUs / N).toFixed(1)} us each; all done after ${(queuedUs / N).toFixed(1)} us per call; host cost beyond the kernel ${(queuedUs / N - kernelUs).toFixed(1)} us per call (target <= 15)`);
console.log(`awaited one at a time: median ${med.toFixed(1)} us, ${(med - kernelUs).toFixed(1)} us beyond the kernel (target <= 50); p90 ${lat[270].toFixed(1)} us`);

// Where a call's host time goes: the checks and cached lookups (prepareTensorLaunch), the launch
// itself, and the wait for completion through a worker thread.
const { prepareTensorLaunch } = await import('../../dist/api/index.js');
const { launch } = await import('../../dist/runtime/index.js');
const parts = { prepare: [], launch: [], wait: [] };
for (let i = 0; i < 300; i++) {
  const a = process.hrtime.bigint();
  const p = await prepareTensorLaunch(q, k, v, opts);
  const b = process.hrtime.bigint();
  launch(p.fn, p.launch, stream);
  const c2 = process.hrtime.bigint();
  await stream.synchronizeAsync();
  const d = process.hrtime.bigint();
  parts.prepare.push(Number(b - a) / 1000);
  parts.launch.push(Number(c2 - b) / 1000);
  parts.wait.push(Number(d - c2) / 1000);
}
for (const [name, xs] of Object.entries(parts)) {
  xs.sort((x, y) => x - y);
  console.log(`breakdown ${name}: median ${xs[150].toFixed(1)} us, p90 ${xs[270].toFixed(1)} us`);
}
