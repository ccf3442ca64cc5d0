// The GPU side of --preset: each config runs through the tensor API (attentionTensors), is checked
// against the general fp32 GPU reference on sampled rows, and is timed with CUDA events on the launch
// config attentionTensors builds (prepareTensorLaunch), not through an awaited Promise.
// Loaded lazily by provider.ts: it needs the native addon.
import { LSE_TOLERANCE, REL_L2_TOLERANCE } from '../api/attention.js';
import { toFloats } from '../api/half.js';
import { attentionProblem, type AttentionOptions } from '../api/problem.js';
import { queueNanCount, readCount } from '../api/check_gpu.js';
import { launchGeneralReference } from '../api/reference_gpu.js';
import { attentionTensors, prepareTensorLaunch, type RunOptions } from '../api/tensor_attention.js';
import { Tensor } from '../api/tensor.js';
import { DeviceBuffer, Stream, timeLaunches, type KernelFunction, type LaunchConfig } from '../runtime/index.js';
import { checkRows, type PresetConfig } from './presets.js';
import type { CheckResult, PreparedPreset } from './types.js';

const DEVICE = 0;
/** Input sets rotated while timing, so consecutive launches don't find their inputs in L2. */
const ROTATE = 2;
const SEED = 0x5eed;

interface InputSet {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  out: Tensor;
}

function options(c: PresetConfig): AttentionOptions & RunOptions {
  return {
    causal: c.causal, layout: c.layout, schedule: c.schedule,
    ...(c.window ? { window: c.window } : {}), ...(c.softcap > 0 ? { softcap: c.softcap } : {}),
    ...(c.knobs ? { knobs: c.knobs } : {}),
  };
}

async function inputSet(c: PresetConfig, index: number): Promise<InputSet> {
  const made: Tensor[] = [];
  try {
    const seed = SEED + 4 * index;
    for (const [heads, n, s] of [[c.headsQ, c.seqQ, 0], [c.headsKV, c.seqK, 1], [c.headsKV, c.seqK, 2]] as const) {
      made.push(await Tensor.random([c.batch, n, heads, c.headDim], { dtype: c.dtype, seed: seed + s, device: DEVICE }));
    }
    made.push(Tensor.empty([c.batch, c.seqQ, c.headsQ, c.headDim], { dtype: c.dtype, device: DEVICE }));
    const [q, k, v, out] = made;
    return { q, k, v, out };
  } catch (err) {
    made.forEach((t) => t.dispose());
    throw err;
  }
}

async function check(c: PresetConfig, set: InputSet): Promise<CheckResult> {
  const { batch: B, headsQ: H, seqQ: N, headDim: D } = c;
  const opts = options(c);
  const rows = checkRows(N, c.window, SEED ^ N);
  const R = rows.length;
  const lse = Tensor.empty([B, H, N], { dtype: 'f32', device: DEVICE });
  const bufs: DeviceBuffer[] = [];
  try {
    // 0xff bytes are NaN in f16, bf16 and f32: anything the kernel leaves unwritten shows up as NaN.
    set.out.buffer.memset8(0xff);
    lse.buffer.memset8(0xff);
    await attentionTensors(set.q, set.k, set.v, { ...opts, out: set.out, lse });
    const alloc = (bytes: number) => { const b = DeviceBuffer.alloc(bytes, { device: DEVICE }); bufs.push(b); return b; };
    const rowBuf = alloc(R * 4);
    rowBuf.upload(Int32Array.from(rows));
    const refOBuf = alloc(B * H * R * D * 4);
    const refLBuf = alloc(B * H * R * 4);
    await launchGeneralReference({ problem: attentionProblem(set.q, set.k, set.v, opts), rows: rowBuf, rowCount: R, o: refOBuf, lse: refLBuf });
    await Stream.default(DEVICE).synchronizeAsync();
    const refO = new Float32Array(B * H * R * D);
    const refL = new Float32Array(B * H * R);
    refOBuf.download(refO);
    refLBuf.download(refL);
    const gotL = new Float32Array(B * H * N);
    lse.buffer.download(gotL, lse.byteOffset);
    // Poison anywhere in O or LSE, not only in the sampled rows: counted on the GPU (check_gpu.ts).
    const counter = alloc(8);
    await queueNanCount({ o: { buffer: set.out.buffer, offsetBytes: set.out.byteOffset, elements: B * N * H * D, dtype: c.dtype }, lse: { buffer: lse.buffer, offsetBytes: lse.byteOffset, elements: B * H * N }, counter });
    const unwritten = readCount(counter);

    let errSq = 0, refSq = 0, maxAbs = 0, lseMaxErr = 0;
    const rowBits = new Uint16Array(H * D);
    for (let b = 0; b < B; b++) {
      for (const [i, r] of rows.entries()) {
        // One token's every head is contiguous in [B, N, H, D]: read only the sampled rows back.
        set.out.buffer.download(rowBits, set.out.byteOffset + (b * N + r) * H * D * 2);
        const got = toFloats(rowBits, c.dtype);
        for (let h = 0; h < H; h++) {
          for (let x = 0; x < D; x++) {
            const g = got[h * D + x];
            const want = refO[((b * H + h) * R + i) * D + x];
            const diff = g - want;
            errSq += diff * diff;
            refSq += want * want;
            maxAbs = Math.max(maxAbs, Math.abs(diff));
          }
          const gl = gotL[(b * H + h) * N + r];
          const wl = refL[(b * H + h) * R + i];
          const lseErr = gl === wl ? 0 : Math.abs(gl - wl); // both -inf: a row that sees no key
          lseMaxErr = Math.max(lseMaxErr, Number.isNaN(lseErr) ? Infinity : lseErr);
        }
      }
    }
    const relL2 = Math.sqrt(errSq / refSq);
    const nan = unwritten > 0 || !Number.isFinite(relL2);
    const ok = !nan && relL2 <= REL_L2_TOLERANCE && lseMaxErr <= LSE_TOLERANCE;
    const message = ok ? undefined
      : `relL2 ${relL2.toExponential(2)} (limit ${REL_L2_TOLERANCE}), LSE max error ${lseMaxErr.toExponential(2)} (limit ${LSE_TOLERANCE}), ` +
        `${unwritten} NaN/unwritten; rows ${rows.join(',')} of ${B} x ${H} heads, seeds ${SEED}..${SEED + 2}`;
    return { ok, relL2, maxAbs, nan, unwritten, ...(message ? { message } : {}) };
  } finally {
    bufs.forEach((b) => b.dispose());
    lse.dispose();
  }
}

export async function preparePreset(config: PresetConfig): Promise<PreparedPreset> {
  const sets: InputSet[] = [];
  const ensureSets = async (count: number) => {
    while (sets.length < count) sets.push(await inputSet(config, sets.length));
  };
  return {
    config,
    async check() {
      await ensureSets(1);
      return check(config, sets[0]);
    },
    async time(opts) {
      await ensureSets(ROTATE);
      const launches: LaunchConfig[] = [];
      let fn: KernelFunction | undefined;
      for (const s of sets) {
        const prepared = await prepareTensorLaunch(s.q, s.k, s.v, { ...options(config), out: s.out });
        fn = prepared.fn;
        launches.push(prepared.launch);
      }
      return timeLaunches(fn!, launches, opts);
    },
    dispose() {
      for (const s of sets.splice(0)) for (const t of [s.q, s.k, s.v, s.out]) t.dispose();
    },
  };
}
