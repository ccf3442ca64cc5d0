// The attention API: resolve a schedule and config, generate and compile the kernel (NVRTC, disk
// cache, in-process memo), launch it on device buffers, check it against the fp32 reference and
// time it. Layout: Q, K, V, O are [batch, heads, seqLen, headDim] contiguous; LSE is
// [batch, heads, seqLen] float32 (natural log).
import { createHash } from 'node:crypto';
import { generate, type GeneratedKernel, type KernelConfigInput, type LoadKind } from '../codegen/index.js';
import {
  compile, devices, DeviceBuffer, encodeTensorMap, launch, Module, synchronize, timeLaunches,
  type KernelFunction, type LaunchConfig,
} from '../runtime/index.js';
import { NAMED, validate, type Schedule } from '../schedule/index.js';
import { fillRandom, freshSeed } from './fill.js';
import { F32_NAN_BITS, NAN_BITS, toFloats, type HalfDtype } from './half.js';
import { referenceRows } from './reference.js';

export interface AttentionConfig {
  batch: number;
  heads: number;
  seqLen: number;
  headDim: 64 | 128 | 256;
  dtype: HalfDtype;
  causal: boolean;
  /** A named schedule ('baseline', 'firstDot', 'secondDot') or a schedule object. */
  schedule: string | Schedule;
  load: LoadKind;
  /** Softmax scale; default 1/sqrt(headDim). */
  scale?: number;
  blockM?: 64 | 128;
  blockN?: number;
  /** Kernel variant knobs (codegen KernelConfig); each defaults to what measured fastest. */
  pingpong?: boolean;
  warpSpecialized?: boolean;
  pShared?: boolean;
}

export interface CompiledAttention {
  kernel: GeneratedKernel;
  fn: KernelFunction;
  /** NVRTC's log (ptxas -v: registers, spills). */
  log: string;
  cached: boolean;
}

export interface CheckResult {
  ok: boolean;
  relL2: number;
  maxAbs: number;
  lseMaxErr: number;
  nan: boolean;
  /** Output elements still holding the poison (NaN) after the launch. */
  unwritten: number;
  message?: string;
}

/** Accepted error: relative L2 of O over the checked rows (16-bit inputs and P). */
export const REL_L2_TOLERANCE = 1e-2;
export const LSE_TOLERANCE = 1e-2;

export function resolveSchedule(schedule: string | Schedule): Schedule {
  if (typeof schedule === 'string') {
    const named = (NAMED as Record<string, Schedule>)[schedule];
    if (!named) throw new RangeError(`schedule must be one of ${Object.keys(NAMED).join(', ')} or a schedule object, got '${schedule}'`);
    return named;
  }
  validate(schedule);
  return schedule;
}

function requirePositiveInt(value: unknown, name: string, max = 2 ** 31 - 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${name} must be an integer in 1..${max}, got ${String(value)}`);
  }
  return value;
}

function checkShape(cfg: AttentionConfig): void {
  if (typeof cfg !== 'object' || cfg === null) throw new TypeError('config must be an object');
  requirePositiveInt(cfg.batch, 'batch');
  requirePositiveInt(cfg.heads, 'heads');
  requirePositiveInt(cfg.seqLen, 'seqLen');
  if (cfg.batch * cfg.heads > 65535) throw new RangeError(`batch * heads must be at most 65535 (grid y), got ${cfg.batch * cfg.heads}`);
  if (cfg.scale !== undefined && !(typeof cfg.scale === 'number' && Number.isFinite(cfg.scale) && cfg.scale > 0)) {
    throw new RangeError(`scale must be a positive finite number, got ${String(cfg.scale)}`);
  }
}

function kernelInput(cfg: AttentionConfig): KernelConfigInput {
  return {
    headDim: cfg.headDim, dtype: cfg.dtype, load: cfg.load, causal: cfg.causal,
    ...(cfg.blockM !== undefined ? { blockM: cfg.blockM } : {}),
    ...(cfg.blockN !== undefined ? { blockN: cfg.blockN } : {}),
    ...(cfg.pingpong !== undefined ? { pingpong: cfg.pingpong } : {}),
    ...(cfg.warpSpecialized !== undefined ? { warpSpecialized: cfg.warpSpecialized } : {}),
    ...(cfg.pShared !== undefined ? { pShared: cfg.pShared } : {}),
  };
}

export interface BuiltAttention {
  kernel: GeneratedKernel;
  cubin: Uint8Array;
  log: string;
  cached: boolean;
}

/** Generates and compiles to a cubin (NVRTC through the disk cache); needs no GPU. */
export async function buildAttention(cfg: AttentionConfig): Promise<BuiltAttention> {
  const kernel = generate(resolveSchedule(cfg.schedule), kernelInput(cfg));
  const r = await compile(kernel.source, { name: 'stagewise_attention.cu', headers: kernel.headers, options: ['-lineinfo'] });
  return { kernel, cubin: r.cubin, log: r.log, cached: r.cached };
}

const compiled = new Map<string, Promise<CompiledAttention>>();

/** Builds and loads (once per process and source; NVRTC once per disk cache). */
export function compileAttention(cfg: AttentionConfig): Promise<CompiledAttention> {
  const kernel = generate(resolveSchedule(cfg.schedule), kernelInput(cfg));
  const key = createHash('sha256').update(kernel.source).update(JSON.stringify(kernel.headers)).digest('hex');
  let entry = compiled.get(key);
  if (!entry) {
    entry = buildAttention(cfg).then((b) => {
      const fn = Module.load(b.cubin).getFunction(b.kernel.name);
      fn.setMaxDynamicSharedMemory(b.kernel.sharedMemBytes);
      return { kernel: b.kernel, fn, log: b.log, cached: b.cached };
    });
    entry.catch(() => compiled.delete(key));
    compiled.set(key, entry);
  }
  return entry;
}

export interface AttentionBuffers {
  q: DeviceBuffer;
  k: DeviceBuffer;
  v: DeviceBuffer;
  o: DeviceBuffer;
  /** Optional; a scratch buffer is used when absent. */
  lse?: DeviceBuffer;
}

function elements(cfg: AttentionConfig): number {
  return cfg.batch * cfg.heads * cfg.seqLen * cfg.headDim;
}

/** The launch of one kernel on one set of buffers. */
export function launchConfig(c: CompiledAttention, cfg: AttentionConfig, b: Required<AttentionBuffers>): LaunchConfig {
  const { headDim: d, seqLen: n } = cfg;
  const bh = cfg.batch * cfg.heads;
  const map = (buffer: DeviceBuffer, rows: number) =>
    encodeTensorMap({
      dtype: cfg.dtype, buffer, dims: [d, n, bh], stridesBytes: [d * 2, n * d * 2], box: [64, rows, 1],
      swizzle: '128B', l2Promotion: '256B',
    });
  const kc = c.kernel.config;
  const scale = cfg.scale ?? 1 / Math.sqrt(d);
  return {
    grid: [Math.ceil(n / kc.blockM), bh, 1],
    block: [c.kernel.threads, 1, 1],
    sharedMemBytes: c.kernel.sharedMemBytes,
    params: [
      { tensorMap: map(b.q, 64) }, { tensorMap: map(b.k, kc.blockN) }, { tensorMap: map(b.v, kc.blockN) },
      { ptr: b.q }, { ptr: b.k }, { ptr: b.v }, { ptr: b.o }, { ptr: b.lse },
      { i32: n }, { f32: scale * Math.LOG2E },
    ],
  };
}

function requireBuffer(buf: unknown, name: string, bytes: number): DeviceBuffer {
  if (!(buf instanceof DeviceBuffer)) throw new TypeError(`${name} must be a DeviceBuffer`);
  if (buf.disposed) throw new TypeError(`${name} was disposed`);
  if (buf.bytes < bytes) throw new RangeError(`${name} holds ${buf.bytes} bytes; this shape needs ${bytes}`);
  return buf;
}

/**
 * Computes attention on device buffers and waits for it. Inputs are checked before anything is
 * launched; a kernel fault surfaces as an Error naming the CUDA error.
 */
export async function attention(buffers: AttentionBuffers, cfg: AttentionConfig): Promise<CompiledAttention> {
  checkShape(cfg);
  const bytes = elements(cfg) * 2;
  const lseBytes = cfg.batch * cfg.heads * cfg.seqLen * 4;
  const b = {
    q: requireBuffer(buffers.q, 'q', bytes), k: requireBuffer(buffers.k, 'k', bytes),
    v: requireBuffer(buffers.v, 'v', bytes), o: requireBuffer(buffers.o, 'o', bytes),
  };
  const c = await compileAttention(cfg);
  const scratch = buffers.lse === undefined ? DeviceBuffer.alloc(lseBytes) : undefined;
  try {
    const lse = scratch ?? requireBuffer(buffers.lse, 'lse', lseBytes);
    launch(c.fn, launchConfig(c, cfg, { ...b, lse }));
    synchronize();
  } finally {
    scratch?.dispose();
  }
  return c;
}

class InputSet {
  readonly q: DeviceBuffer;
  readonly k: DeviceBuffer;
  readonly v: DeviceBuffer;
  readonly o: DeviceBuffer;
  readonly lse: DeviceBuffer;
  constructor(readonly cfg: AttentionConfig) {
    const bytes = elements(cfg) * 2;
    const made: DeviceBuffer[] = [];
    try {
      for (let i = 0; i < 4; i++) made.push(DeviceBuffer.alloc(bytes));
      made.push(DeviceBuffer.alloc(cfg.batch * cfg.heads * cfg.seqLen * 4));
    } catch (e) {
      made.forEach((m) => m.dispose());
      throw e;
    }
    [this.q, this.k, this.v, this.o, this.lse] = made;
  }
  async refill(): Promise<void> {
    const seed = freshSeed();
    const n = elements(this.cfg);
    await fillRandom(this.q, n, this.cfg.dtype, seed);
    await fillRandom(this.k, n, this.cfg.dtype, (seed ^ 0x9e3779b9) >>> 0);
    await fillRandom(this.v, n, this.cfg.dtype, (seed ^ 0x7f4a7c15) >>> 0);
  }
  poison(): void {
    this.o.memset16(NAN_BITS[this.cfg.dtype]);
    this.lse.memset32(F32_NAN_BITS);
  }
  dispose(): void {
    for (const b of [this.q, this.k, this.v, this.o, this.lse]) b.dispose();
  }
}

export interface PreparedAttention {
  config: AttentionConfig;
  compiled: CompiledAttention;
  /** One launch on fresh random inputs (output poisoned first); sampled rows vs the fp32 reference. */
  check(): Promise<CheckResult>;
  /** ms per launch for `iterations` launches after `warmup`, rotating among input sets. */
  time(opts: { warmup: number; iterations: number }): Promise<number[]>;
  dispose(): void;
}

/** Query rows checked per head: the first and last tile's rows and a random spread. */
function sampleRows(n: number): number[] {
  const rows = new Set<number>();
  for (let i = 0; i < Math.min(n, 16); i++) rows.add(i);
  for (let i = Math.max(0, n - 16); i < n; i++) rows.add(i);
  for (let i = 0; i < 16; i++) rows.add(Math.floor(Math.random() * n));
  return [...rows].sort((a, b) => a - b);
}

async function checkSet(c: CompiledAttention, cfg: AttentionConfig, set: InputSet): Promise<CheckResult> {
  await set.refill();
  set.poison();
  launch(c.fn, launchConfig(c, cfg, set));
  synchronize();
  const { seqLen: n, headDim: d, dtype } = cfg;
  const bh = cfg.batch * cfg.heads;
  const oBits = new Uint16Array(elements(cfg));
  set.o.download(oBits);
  // Any NaN counts: the poison left in place or one the kernel computed.
  const infBits = dtype === 'f16' ? 0x7c00 : 0x7f80;
  let unwritten = 0;
  for (let i = 0; i < oBits.length; i++) if ((oBits[i] & 0x7fff) > infBits) unwritten++;
  let errSq = 0, refSq = 0, maxAbs = 0, lseMaxErr = 0;
  const heads = [...new Set([0, bh - 1, Math.floor(Math.random() * bh)])];
  const headBytes = n * d * 2;
  for (const h of heads) {
    const rows = sampleRows(n);
    const read = (buf: DeviceBuffer) => {
      const bits = new Uint16Array(n * d);
      buf.download(bits, h * headBytes);
      return toFloats(bits, dtype);
    };
    const q = read(set.q), k = read(set.k), v = read(set.v);
    const qRows = new Float32Array(rows.length * d);
    rows.forEach((r, i) => qRows.set(q.subarray(r * d, (r + 1) * d), i * d));
    const ref = referenceRows({ q: qRows, k, v, rows, n, d, causal: cfg.causal, scale: cfg.scale ?? 1 / Math.sqrt(d) });
    const lse = new Float32Array(n);
    set.lse.download(lse, h * n * 4);
    const o = toFloats(oBits.subarray(h * n * d, (h + 1) * n * d), dtype);
    rows.forEach((r, i) => {
      for (let x = 0; x < d; x++) {
        const diff = o[r * d + x] - ref.o[i * d + x];
        errSq += diff * diff;
        refSq += ref.o[i * d + x] ** 2;
        maxAbs = Math.max(maxAbs, Math.abs(diff));
      }
      lseMaxErr = Math.max(lseMaxErr, Math.abs(lse[r] - ref.lse[i]));
    });
  }
  const relL2 = Math.sqrt(errSq / refSq);
  const nan = unwritten > 0 || !Number.isFinite(relL2) || Number.isNaN(lseMaxErr);
  const ok = !nan && relL2 <= REL_L2_TOLERANCE && lseMaxErr <= LSE_TOLERANCE;
  const message = ok
    ? undefined
    : `relL2 ${relL2.toExponential(2)} (limit ${REL_L2_TOLERANCE}), LSE max error ${lseMaxErr.toExponential(2)}, ${unwritten} unwritten/NaN outputs`;
  return { ok, relL2, maxAbs, lseMaxErr, nan, unwritten, ...(message ? { message } : {}) };
}

/** Input sets rotated while timing, so consecutive launches don't find their inputs in L2. */
const ROTATE = 2;

export async function prepareAttention(cfg: AttentionConfig): Promise<PreparedAttention> {
  checkShape(cfg);
  const c = await compileAttention(cfg);
  const sets: InputSet[] = [];
  const ensureSets = (count: number) => {
    while (sets.length < count) sets.push(new InputSet(cfg));
  };
  return {
    config: cfg,
    compiled: c,
    async check() {
      ensureSets(1);
      return checkSet(c, cfg, sets[0]);
    },
    async time(opts) {
      ensureSets(ROTATE);
      for (const s of sets) await s.refill();
      return timeLaunches(c.fn, sets.map((s) => launchConfig(c, cfg, s)), opts);
    },
    dispose() {
      sets.splice(0).forEach((s) => s.dispose());
    },
  };
}

/** 4 * B * H * N^2 * D (two matmuls), halved for causal. */
export function flops(cfg: { batch: number; heads: number; seqLen: number; headDim: number; causal: boolean }): number {
  const full = 4 * cfg.batch * cfg.heads * cfg.seqLen * cfg.seqLen * cfg.headDim;
  return cfg.causal ? full / 2 : full;
}

export function deviceName(): string {
  const report = devices();
  return report.devices[0]?.name ?? `no GPU (${report.reason ?? 'unknown'})`;
}
