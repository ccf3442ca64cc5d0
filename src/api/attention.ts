// The attention API: resolve a schedule and config, generate and compile the kernel (NVRTC, disk
// cache, in-process memo), launch it on device buffers, check it against the fp32 reference and
// time it. Layout: Q, K, V, O are [batch, heads, seqLen, headDim] contiguous; LSE is
// [batch, heads, seqLen] float32 (natural log).
import { createHash } from 'node:crypto';
import { chooseFrom, generate, KNOB_NAMES, planSummary, schedulerLength, type BlockM, type GeneratedKernel, type KernelConfigInput, type KernelPlan, type LoadKind, type OStore, type SoftcapTanh, type TileScheduler, type ScheduleChoice } from '../codegen/index.js';
import {
  compile, devices, DeviceBuffer, launch, synchronize, timeLaunches,
  type KernelFunction, type LaunchConfig,
} from '../runtime/index.js';
import { NAMED, validate, type Schedule } from '../schedule/index.js';
import { fillRandom, freshSeed } from './fill.js';
import { F32_NAN_BITS, halfTable, NAN_BITS, type HalfDtype } from './half.js';
import { launchReference } from './reference_gpu.js';
import { queueGatherRows, queueNanCount, readCount } from './check_gpu.js';
import { contiguousBhnd, launchFor } from './launch_args.js';
import { loadKernel, persistentArgs } from './workspace.js';
import type { AttentionOptions } from './problem.js';
import { Tensor } from './tensor.js';
import { attentionTensors, type AttentionOutput, type RunOptions } from './tensor_attention.js';
import { seededRandom } from './random.js';

export interface AttentionConfig {
  batch: number;
  heads: number;
  seqLen: number;
  headDim: 64 | 128 | 256;
  dtype: HalfDtype;
  causal: boolean;
  /** A named schedule ('baseline', 'firstDot', 'secondDot'), a schedule object, or 'auto' (the named schedule measured fastest for this kernel: codegen chooseAuto). */
  schedule: string | Schedule;
  load: LoadKind;
  /** Softmax scale; default 1/sqrt(headDim). */
  scale?: number;
  blockM?: BlockM;
  blockN?: number;
  /** Kernel variant knobs (codegen KernelConfig); each defaults to what measured fastest. */
  pingpong?: boolean;
  warpSpecialized?: boolean;
  pShared?: boolean;
  /** Tile scheduling: 'grid' (one CTA per tile) or a persistent grid, 'static' | 'dynamic' (codegen KernelConfig). */
  scheduler?: TileScheduler;
  /** How O leaves: 'registers' (st.global) or 'tma' (shared memory and a TMA store) (codegen Knobs). */
  oStore?: OStore;
  /** Run the steady loop's mask-free trips without mask code (codegen Knobs). */
  peelMasks?: boolean;
  /** 2: two CTAs of a cluster share each K/V tile by TMA multicast (codegen plan kvShare); default: the plan's choice. */
  kvShare?: 1 | 2;
  /** 1 or 2: Q buffers of a persistent kernel (codegen plan qBuffers); default: the plan's choice. */
  qBuffers?: 1 | 2;
  /** The persistent tile loop rotated around each tile's first QK^T (codegen plan crossTile); default off. */
  crossTile?: boolean;
  /** How tanh is computed with a softcap (codegen plan softcapTanh). This API has no softcap, so only the tensor API's knobs use it (null: the default). */
  softcapTanh?: SoftcapTanh | null;
  /** Conditional rescaling: O is rescaled only where a row's max rose by more than 2^8 (codegen plan lazyRescale); default: the plan's choice. */
  lazyRescale?: boolean;
  /** The static persistent kernel's partial last round split along the keys (codegen plan splitTail); default off. */
  splitTail?: boolean;
  /**
   * CTAs of a persistent launch; default the device's SM count. Fewer leave SMs to other work (and
   * make every CTA walk many tiles, which the tests use); more than the SMs only queue behind them.
   */
  persistentCtas?: number;
  /**
   * Compile with the bounded mbarrier wait: a pipeline that deadlocks traps after about 2^26 polls
   * (a launch error naming CUDA_ERROR_LAUNCH_FAILED or similar) instead of hanging the process.
   * The GPU tests set it; it costs a poll counter per wait.
   */
  hangTrap?: boolean;
}

export interface CompiledAttention {
  kernel: GeneratedKernel;
  fn: KernelFunction;
  /** NVRTC's log (ptxas -v: registers, spills). */
  log: string;
  cached: boolean;
  /** The most CTAs one wave of this kernel holds where the SM count is not the bound (workspace.ts clusterCtaCap). */
  maxCtas?: number;
}

export interface CheckResult {
  ok: boolean;
  relL2: number;
  maxAbs: number;
  lseMaxErr: number;
  nan: boolean;
  /** Output elements (O and LSE) still holding the poison (NaN) after the launch. */
  unwritten: number;
  /** The seed of the inputs: check({ seed }) reproduces them. */
  seed: number;
  /** Rows compared per head (every row up to FULL_CHECK_ROWS, else a sample) and heads compared. */
  rowsChecked: number;
  headsChecked: number;
  message?: string;
}

/** Sequences up to this long are compared row by row in full; longer ones on a sample of rows. */
export const FULL_CHECK_ROWS = 256;

/** Accepted error: relative L2 of O over the checked rows (16-bit inputs and P). */
export const REL_L2_TOLERANCE = 1e-2;
export const LSE_TOLERANCE = 1e-2;

/**
 * A schedule option as the kernel input takes it: a named schedule, a schedule object (validated),
 * or 'auto' (codegen chooseAuto: the named schedule measured fastest for the kernel the call gets).
 */
export function resolveSchedule(schedule: string | Schedule): ScheduleChoice {
  if (typeof schedule === 'string') {
    if (schedule === 'auto') return 'auto';
    const named = (NAMED as Record<string, Schedule>)[schedule];
    if (!named) throw new RangeError(`schedule must be 'auto', one of ${Object.keys(NAMED).join(', ')} or a schedule object, got '${schedule}'`);
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
  if (cfg.persistentCtas !== undefined) requirePositiveInt(cfg.persistentCtas, 'persistentCtas');
  if (cfg.scale !== undefined && !(typeof cfg.scale === 'number' && Number.isFinite(cfg.scale) && cfg.scale > 0)) {
    throw new RangeError(`scale must be a positive finite number, got ${String(cfg.scale)}`);
  }
}

function kernelInput(cfg: AttentionConfig): KernelConfigInput {
  const input: KernelConfigInput = {
    headDim: cfg.headDim, dtype: cfg.dtype, load: cfg.load, causal: cfg.causal,
    seqQ: schedulerLength(cfg.seqLen), // picks the default tile scheduler and blockM (both split where schedulerLength says)
  };
  // Every knob by its one list (codegen KNOB_NAMES): a knob missing here ran the default kernel
  // under the knob's name (the O-by-TMA and peeled variants of the GPU matrix did, session 6).
  for (const name of KNOB_NAMES) {
    if (cfg[name] !== undefined) (input as Record<string, unknown>)[name] = cfg[name];
  }
  return input;
}

/** The plan a config compiles to (CPU only: no NVRTC, no GPU). */
export function attentionPlan(cfg: AttentionConfig): KernelPlan {
  return chooseFrom(resolveSchedule(cfg.schedule), kernelInput(cfg));
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
/** The same, keyed by the config alone: a repeated call generates, hashes and compiles nothing. */
const byConfig = new Map<string, Promise<CompiledAttention>>();

function configKey(cfg: AttentionConfig): string {
  const s = resolveSchedule(cfg.schedule);
  return JSON.stringify(s === 'auto' ? ['auto', null, kernelInput(cfg)] : [s.name ?? null, s.ops, kernelInput(cfg)]);
}

/**
 * Builds and loads (once per process and config; NVRTC once per disk cache). A config the plan
 * refuses rejects the returned promise (it never throws synchronously), so `.catch` and
 * `Promise.allSettled` see every refusal.
 */
export function compileAttention(cfg: AttentionConfig): Promise<CompiledAttention> {
  let ck: string;
  let kernel: ReturnType<typeof generate>;
  try {
    ck = configKey(cfg);
    const hit = byConfig.get(ck);
    if (hit) return hit;
    kernel = generate(resolveSchedule(cfg.schedule), kernelInput(cfg));
  } catch (e) {
    return Promise.reject(e);
  }
  const key = createHash('sha256').update(kernel.source).update(JSON.stringify(kernel.headers)).digest('hex');
  let entry = compiled.get(key);
  if (!entry) {
    entry = buildAttention(cfg).then((b) => {
      return { kernel: b.kernel, ...loadKernel(b.cubin, b.kernel), log: b.log, cached: b.cached };
    });
    entry.catch(() => {
      compiled.delete(key);
      byConfig.delete(ck);
    });
    compiled.set(key, entry);
  }
  byConfig.set(ck, entry);
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
  const { headDim: d, seqLen: n, heads } = cfg;
  const op = (buffer: DeviceBuffer) => contiguousBhnd(buffer, heads, n, d);
  return launchFor(c.kernel, {
    dtype: cfg.dtype, batch: cfg.batch, headsQ: heads, headsKV: heads, headDim: d, seqQ: n, seqK: n,
    q: op(b.q), k: op(b.k), v: op(b.v), o: op(b.o),
    lse: { buffer: b.lse, offsetBytes: 0, headStride: n, batchStride: heads * n },
    varlen: null,
    windowLeft: -1, windowRight: cfg.causal ? 0 : -1,
    scale: cfg.scale ?? 1 / Math.sqrt(d),
    softcap: 0,
    ...(c.kernel.plan.scheduler !== 'grid'
      ? { persistent: persistentArgs(b.q.device, undefined, cfg.persistentCtas, c.maxCtas, c.kernel) }
      : {}),
  });
}

function requireBuffer(buf: unknown, name: string, bytes: number): DeviceBuffer {
  if (!(buf instanceof DeviceBuffer)) throw new TypeError(`${name} must be a DeviceBuffer`);
  if (buf.disposed) throw new TypeError(`${name} was disposed`);
  if (buf.bytes < bytes) throw new RangeError(`${name} holds ${buf.bytes} bytes; this shape needs ${bytes}`);
  return buf;
}

/**
 * The public entry point. On tensors (the documented form): attention(q, k, v, { causal, scale,
 * window, softcap, returnLse, out, lse, layout, schedule, load, knobs, stream }) -> { out, lse? },
 * resolving when the GPU has finished (see tensor_attention.ts). The buffer form (buffers, config)
 * is the contiguous [B, H, N, D] API the bench and the checks use.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions & RunOptions): Promise<AttentionOutput>;
export function attention(buffers: AttentionBuffers, cfg: AttentionConfig): Promise<CompiledAttention>;
export function attention(
  a: Tensor | AttentionBuffers, b: Tensor | AttentionConfig, c?: Tensor, d?: AttentionOptions & RunOptions,
): Promise<AttentionOutput | CompiledAttention> {
  if (a instanceof Tensor) {
    if (!(b instanceof Tensor) || !(c instanceof Tensor)) return Promise.reject(new TypeError('attention(q, k, v, opts): k and v must be Tensors'));
    return attentionTensors(a, b, c, d);
  }
  return attentionBuffers(a, b as AttentionConfig);
}

/**
 * Computes attention on device buffers and waits for it. Inputs are checked before anything is
 * launched; a kernel fault surfaces as an Error naming the CUDA error.
 */
export async function attentionBuffers(buffers: AttentionBuffers, cfg: AttentionConfig): Promise<CompiledAttention> {
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
  async refill(seed = freshSeed()): Promise<void> {
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
  /** The kernel in one line (codegen planSummary): load path, tile, rings, turn, P, scheduler. */
  kernel: string;
  /**
   * One launch on fresh random inputs (or those of `seed`), outputs poisoned first; every row (up to
   * FULL_CHECK_ROWS, else a seeded sample) of every head against the GPU fp32 reference.
   */
  check(opts?: { seed?: number }): Promise<CheckResult>;
  /** ms per launch for `iterations` launches after `warmup`, rotating among input sets. */
  time(opts: { warmup: number; iterations: number }): Promise<number[]>;
  dispose(): void;
}

/** Query rows checked per head: all of them up to FULL_CHECK_ROWS, else the first and last tile's rows and a seeded spread. */
function checkedRows(n: number, seed: number): number[] {
  if (n <= FULL_CHECK_ROWS) return Array.from({ length: n }, (_, i) => i);
  const rows = new Set<number>();
  const random = seededRandom(seed ^ 0x5bd1e995);
  for (let i = 0; i < 128; i++) rows.add(i);
  for (let i = n - 128; i < n; i++) rows.add(i);
  for (let i = 0; i < 64; i++) rows.add(Math.floor(random() * n));
  return [...rows].sort((a, b) => a - b);
}

function hex(seed: number): string {
  return `0x${seed.toString(16).padStart(8, '0')}`;
}

/** What compareOutputs takes: the kernel's whole O (16-bit bits) and LSE, the reference's checked rows. */
export interface CompareInput {
  /** [heads][n][d] 16-bit bits of `dtype`: the whole output. */
  oBits: Uint16Array;
  /** [heads][n] natural-log LSE: the whole output. */
  lseAll: Float32Array;
  /** [heads][rows.length][d] float32: the reference for the checked rows. */
  refO: Float32Array;
  /** [heads][rows.length]. */
  refLse: Float32Array;
  rows: readonly number[];
  heads: number;
  n: number;
  d: number;
  dtype: HalfDtype;
}

/** What compareRows takes: the checked rows only, gathered as the reference lays them out. */
export interface RowsInput {
  /** [heads][rows.length][d] 16-bit bits of `dtype`. */
  oRows: Uint16Array;
  /** [heads][rows.length] natural-log LSE. */
  lseRows: Float32Array;
  /** [heads][rows.length][d] float32. */
  refO: Float32Array;
  /** [heads][rows.length]. */
  refLse: Float32Array;
  rows: readonly number[];
  heads: number;
  d: number;
  dtype: HalfDtype;
}

/**
 * Pure: the NaN elements of a whole O (16-bit bits) and LSE: the poison a kernel left in place, or
 * a NaN it computed. The CPU statement of check_gpu.ts count_nan16/count_nan32.
 */
export function countPoison(oBits: Uint16Array, lseAll: Float32Array, dtype: HalfDtype): number {
  const infBits = dtype === 'f16' ? 0x7c00 : 0x7f80;
  let unwritten = 0;
  for (let i = 0; i < oBits.length; i++) if ((oBits[i] & 0x7fff) > infBits) unwritten++;
  for (let i = 0; i < lseAll.length; i++) if (Number.isNaN(lseAll[i])) unwritten++;
  return unwritten;
}

/** Pure: the checked rows of [heads][n][d] O and [heads][n] LSE, as [heads][rows][d] and [heads][rows] (check_gpu.ts gather_rows16/32). */
export function gatherRows(oBits: Uint16Array, lseAll: Float32Array, rows: readonly number[], heads: number, n: number, d: number): { oRows: Uint16Array; lseRows: Float32Array } {
  const oRows = new Uint16Array(heads * rows.length * d);
  const lseRows = new Float32Array(heads * rows.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < rows.length; i++) {
      oRows.set(oBits.subarray((h * n + rows[i]) * d, (h * n + rows[i] + 1) * d), (h * rows.length + i) * d);
      lseRows[h * rows.length + i] = lseAll[h * n + rows[i]];
    }
  }
  return { oRows, lseRows };
}

/**
 * Pure: the checked rows against the reference: relative L2 of O, the largest element and LSE
 * errors, and each (head, row) whose error passes 0.05 (NaN scores Infinity), for the message.
 */
export function compareRows(c: RowsInput): { relL2: number; maxAbs: number; lseMaxErr: number; bad: Array<{ head: number; row: number; err: number }> } {
  const { oRows, lseRows, refO, refLse, rows, heads, d, dtype } = c;
  // Each element through the bits-to-float table: per-element conversion calls were 2.9 of a 1k
  // check's 3.4 s (bench/NOTES.md session 10).
  const table = halfTable(dtype);
  let errSq = 0, refSq = 0, maxAbs = 0, lseMaxErr = 0;
  const bad: Array<{ head: number; row: number; err: number }> = [];
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < rows.length; i++) {
      const at = (h * rows.length + i) * d;
      let rowErr = 0;
      for (let x = 0; x < d; x++) {
        const w = refO[at + x];
        const diff = table[oRows[at + x]] - w;
        errSq += diff * diff;
        refSq += w * w;
        // As Math.max (a NaN sticks), without a call per element: `!(a <= rowErr)` also takes a NaN a.
        const a = Math.abs(diff);
        if (rowErr === rowErr && !(a <= rowErr)) rowErr = a;
      }
      const lseErr = Math.abs(lseRows[h * rows.length + i] - refLse[h * rows.length + i]);
      lseMaxErr = Math.max(lseMaxErr, lseErr);
      maxAbs = Math.max(maxAbs, rowErr);
      const score = Number.isNaN(rowErr) || Number.isNaN(lseErr) ? Infinity : Math.max(rowErr, lseErr);
      if (score > 0.05) bad.push({ head: h, row: rows[i], err: score });
    }
  }
  return { relL2: Math.sqrt(errSq / refSq), maxAbs, lseMaxErr, bad };
}

/**
 * Pure: every output element scanned for NaN, and the checked rows against the reference: what
 * checkSet computes on the GPU (count and gather) and the host (compareRows), all on the host.
 */
export function compareOutputs(c: CompareInput): { unwritten: number; relL2: number; maxAbs: number; lseMaxErr: number; bad: Array<{ head: number; row: number; err: number }> } {
  const unwritten = countPoison(c.oBits, c.lseAll, c.dtype);
  const { oRows, lseRows } = gatherRows(c.oBits, c.lseAll, c.rows, c.heads, c.n, c.d);
  return { unwritten, ...compareRows({ oRows, lseRows, refO: c.refO, refLse: c.refLse, rows: c.rows, heads: c.heads, d: c.d, dtype: c.dtype }) };
}

/**
 * One launch on inputs made from `seed` (fresh unless given), outputs poisoned first; every head's
 * checked rows against the GPU fp32 reference; every output element checked for leftover poison.
 */
async function checkSet(c: CompiledAttention, cfg: AttentionConfig, set: InputSet, seed = freshSeed()): Promise<CheckResult> {
  await set.refill(seed);
  set.poison();
  launch(c.fn, launchConfig(c, cfg, set));
  const { seqLen: n, headDim: d, dtype } = cfg;
  const bh = cfg.batch * cfg.heads;
  const rows = checkedRows(n, seed);
  const R = rows.length;
  const made: DeviceBuffer[] = [];
  const refO = new Float32Array(bh * R * d);
  const refLse = new Float32Array(bh * R);
  const oRows = new Uint16Array(bh * R * d);
  const lseRows = new Float32Array(bh * R);
  let unwritten: number;
  try {
    const alloc = (bytes: number) => { const b = DeviceBuffer.alloc(bytes); made.push(b); return b; };
    const rowBuf = alloc(R * 4);
    const ro = alloc(bh * R * d * 4);
    const rl = alloc(bh * R * 4);
    const go = alloc(bh * R * d * 2);
    const gl = alloc(bh * R * 4);
    const counter = alloc(8);
    rowBuf.upload(Int32Array.from(rows));
    await launchReference({
      q: set.q, k: set.k, v: set.v, o: ro, lse: rl, rows: rowBuf, rowCount: R, heads: bh, n, d,
      causal: cfg.causal, scale: cfg.scale ?? 1 / Math.sqrt(d), dtype,
    });
    // The whole output is scanned for poison and the checked rows gathered on the GPU; only those
    // rows and one counter come back (check_gpu.ts; the host scan was 1.36 s a gate check).
    await queueNanCount({ o: { buffer: set.o, elements: elements(cfg), dtype }, lse: { buffer: set.lse, elements: bh * n }, counter });
    await queueGatherRows({ o: set.o, lse: set.lse, rows: rowBuf, rowCount: R, heads: bh, n, d, oRows: go, lseRows: gl });
    synchronize();
    ro.download(refO);
    rl.download(refLse);
    go.download(oRows);
    gl.download(lseRows);
    unwritten = readCount(counter);
  } finally {
    made.forEach((b) => b.dispose());
  }
  const { relL2, maxAbs, lseMaxErr, bad } = compareRows({ oRows, lseRows, refO, refLse, rows, heads: bh, d, dtype });
  const nan = unwritten > 0 || !Number.isFinite(relL2) || Number.isNaN(lseMaxErr);
  const ok = !nan && relL2 <= REL_L2_TOLERANCE && lseMaxErr <= LSE_TOLERANCE;
  bad.sort((a, b) => b.err - a.err);
  const worst = bad.slice(0, 6).map((b) => `head ${b.head} row ${b.row} (${b.err === Infinity ? 'NaN' : `err ${b.err.toExponential(2)}`})`);
  const message = ok
    ? undefined
    : `relL2 ${relL2.toExponential(2)} (limit ${REL_L2_TOLERANCE}), LSE max error ${lseMaxErr.toExponential(2)}, ${unwritten} unwritten/NaN outputs; ` +
      `seed ${hex(seed)}, shape ${cfg.batch}x${cfg.heads}x${n}x${d} ${dtype}${cfg.causal ? ' causal' : ''}, ${rows.length} rows x ${bh} heads checked` +
      `${worst.length ? `; worst: ${worst.join(', ')}${bad.length > worst.length ? ` and ${bad.length - worst.length} more rows` : ''}` : ''}` +
      `; rerun with check({ seed: ${hex(seed)} })`;
  return { ok, relL2, maxAbs, lseMaxErr, nan, unwritten, seed, rowsChecked: rows.length, headsChecked: bh, ...(message ? { message } : {}) };
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
    kernel: planSummary(c.kernel.plan),
    async check(opts = {}) {
      ensureSets(1);
      return checkSet(c, cfg, sets[0], opts.seed);
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
