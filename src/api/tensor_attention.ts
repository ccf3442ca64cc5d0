// The tensor-level entry points: attention(q, k, v, opts) and attentionVarlen(q, k, v, opts), shaped
// like torch SDPA / flash_attn_func. Arguments are checked (problem.ts) before anything is launched;
// the kernel comes from a per-process cache keyed by the few things that select it (no code
// generation or hashing on a repeated call); the TMA descriptors of an unchanged operand are reused;
// the launch is queued on a stream and the Promise resolves when the GPU has finished, waiting off
// the JavaScript thread (calls queued together share one wait: completion.ts).
import { chooseFrom, emit, isKnobName, KNOB_NAMES, schedulerLength, type GeneratedKernel, type KernelConfigInput, type Knobs } from '../codegen/index.js';
import { compile, launchPrepared, prepareLaunch, Stream, type KernelFunction, type PreparedLaunch, type LaunchConfig, type TensorMap } from '../runtime/index.js';
import { resolveSchedule } from './attention.js';
import { launchFor, mapBoxRows, outMap, tensorMaps, type LaunchMaps, type LaunchProblem, type Operand } from './launch_args.js';
import { attentionProblem, varlenProblem, type AttentionOptions, type AttentionProblem, type OperandLayout, type VarlenOptions } from './problem.js';
import { Tensor } from './tensor.js';
import { loadKernel, persistentArgs } from './workspace.js';
import { completionOf } from './completion.js';
import type { Schedule } from '../schedule/index.js';

/** Kernel choice and execution options, beside the attention semantics of AttentionOptions. */
export interface RunOptions {
  /** A named schedule, a schedule object, or 'auto' (default: baseline for hd128's persistent 128-row kernel, secondDot elsewhere; codegen chooseAuto, bench/NOTES.md session 18). */
  schedule?: string | Schedule;
  load?: 'tma' | 'cp.async';
  /** Kernel knobs (choose()'s defaults otherwise). */
  knobs?: Omit<Knobs, 'load'>;
  /** The stream to queue on; default: the device's default stream. */
  stream?: Stream;
  /** CTAs of a persistent kernel (knobs.scheduler 'static' | 'dynamic'); default the device's SM count. */
  ctas?: number;
}

export interface AttentionOutput {
  out: Tensor;
  /** float32 [B, Hq, Nq] (packed: [Hq, totalQ]), natural log; present with returnLse or a given lse. */
  lse?: Tensor;
}

interface Compiled {
  kernel: GeneratedKernel;
  fn: KernelFunction;
  /** workspace.ts clusterCtaCap. */
  maxCtas?: number;
}

const kernels = new Map<string, Promise<Compiled>>();

function kernelFor(p: AttentionProblem, run: RunOptions): Promise<Compiled> {
  const schedule = run.schedule ?? 'auto';
  const key = JSON.stringify([
    typeof schedule === 'string' ? schedule : schedule.ops, p.device, p.headDim, p.dtype, p.causal, p.window !== null,
    p.softcap > 0, p.varlen !== null, run.load ?? 'tma', run.knobs ?? null, schedulerLength(p.seqQ),
  ]);
  let entry = kernels.get(key);
  if (!entry) {
    const input: KernelConfigInput = {
      headDim: p.headDim, dtype: p.dtype, causal: p.causal, window: p.window !== null, softcap: p.softcap > 0,
      varlen: p.varlen !== null, load: run.load ?? 'tma', ...(run.knobs ?? {}),
      seqQ: schedulerLength(p.seqQ), // picks the default tile scheduler and blockM (in the key above too)
    };
    const kernel = emit(chooseFrom(resolveSchedule(schedule), input));
    entry = compile(kernel.source, { name: 'stagewise_attention.cu', headers: kernel.headers, options: ['-lineinfo'] }).then((r) => {
      return { kernel, ...loadKernel(r.cubin, kernel, p.device) };
    });
    entry.catch(() => kernels.delete(key));
    kernels.set(key, entry);
  }
  return entry;
}

// Descriptors of the last call per Q tensor: reused when the operands, their strides and the tile match.
const mapCache = new WeakMap<Tensor, { key: string; oKey: string; maps: LaunchMaps }>();

function operand(x: OperandLayout): Operand {
  return {
    buffer: x.tensor.buffer, offsetBytes: x.tensor.byteOffset,
    rowStride: x.rowStride, headStride: x.headStride, batchStride: x.batchStride,
  };
}

// LSE nobody asked for still has to go somewhere: one scratch buffer per device, grown as needed
// (its contents are never read, so concurrent calls may share it).
const scratch = new Map<number, Tensor>();
function scratchLse(device: number, elements: number): Tensor {
  const have = scratch.get(device);
  if (have && !have.disposed && have.numel >= elements) return have;
  have?.dispose();
  const t = Tensor.empty([Math.max(elements, 1 << 16)], { dtype: 'f32', device });
  scratch.set(device, t);
  return t;
}

/** Everything one launch of a problem needs, built once: the kernel, its launch config, where O and LSE go. */
interface PreparedRun extends AttentionOutput {
  fn: KernelFunction;
  /** Built on demand: a repeated call reuses its encoded launch instead. */
  launch: () => LaunchConfig;
  /** Everything the launch's arguments depend on besides the kernel. */
  launchKey: string;
  stream: Stream;
}

// The checked, encoded launch of the last call per Q tensor: a call repeating it (same kernel,
// operands, strides, outputs and scalars) skips encoding its 37 arguments again.
const launchCache = new WeakMap<Tensor, { key: string; fn: KernelFunction; prepared: PreparedLaunch }>();

async function run(p: AttentionProblem, runOpts: RunOptions, outShape: readonly number[], memo?: { k: Tensor; v: Tensor; opts: OptionsSnapshot | null }): Promise<AttentionOutput> {
  const r = await prepareRun(p, runOpts, outShape);
  const hit = launchCache.get(p.q.tensor);
  // A buffer disposed since (and perhaps a new one at the same address) means a fresh encoding.
  const reusable = hit && hit.key === r.launchKey && hit.fn === r.fn && !hit.prepared.buffers.some((b) => b.disposed);
  const prepared = reusable ? hit.prepared : prepareLaunch(r.fn, r.launch());
  launchCache.set(p.q.tensor, { key: r.launchKey, fn: r.fn, prepared });
  // Only a call whose outputs are the caller's own tensors repeats exactly (else each call allocates
  // its O or LSE); a packed batch never does (its cuSeqlens are device data, checked on every call).
  if (memo?.opts && p.out && (p.lse || !p.returnLse)) {
    const output: AttentionOutput = { out: r.out, ...(r.lse ? { lse: r.lse } : {}) };
    const tensors = [p.q.tensor, memo.k, memo.v, p.out.tensor, ...(p.lse ? [p.lse] : [])];
    callMemo.set(p.q.tensor, { k: memo.k, v: memo.v, opts: memo.opts, prepared, stream: r.stream, output, tensors });
  }
  launchPrepared(prepared, r.stream);
  // One wait per batch of calls on this stream, not one per call (completion.ts).
  await completionOf(r.stream).done();
  return { out: r.out, ...(r.lse ? { lse: r.lse } : {}) };
}

/**
 * `knobs` of a tensor call: a plain object of kernel knobs, never `load` (its own option) nor a
 * problem field (causal, window, softcap, headDim, ...: those come from the tensors and options, and
 * a knob of that name would be spread over them when the kernel is chosen). Values are choose()'s to
 * check. Throws naming the key and the rule.
 */
export function checkRunKnobs(knobs: unknown): void {
  if (knobs === undefined) return;
  if (typeof knobs !== 'object' || knobs === null || Array.isArray(knobs)) throw new TypeError(`knobs must be an object of kernel knobs, got ${Array.isArray(knobs) ? 'an array' : String(knobs)}`);
  for (const key of Object.keys(knobs)) {
    if (key === 'load') throw new RangeError("knobs.load: give the load kind as the 'load' option, not a knob");
    if (!isKnobName(key)) {
      throw new RangeError(`knobs.${key} is not a kernel knob (known: ${KNOB_NAMES.filter((k) => k !== 'load').join(', ')}; the problem's causal, window, softcap and shapes come from the call)`);
    }
  }
}

async function prepareRun(p: AttentionProblem, runOpts: RunOptions, outShape: readonly number[]): Promise<PreparedRun> {
  checkRunKnobs(runOpts.knobs);
  if (runOpts.ctas !== undefined && !(Number.isSafeInteger(runOpts.ctas) && runOpts.ctas >= 1)) {
    throw new RangeError(`ctas must be a positive integer (CTAs of a persistent kernel), got ${String(runOpts.ctas)}`);
  }
  const stream = runOpts.stream ?? Stream.default(p.device);
  if (stream.device !== p.device) throw new RangeError(`stream is on device ${stream.device}; the tensors are on device ${p.device}`);
  const c = await kernelFor(p, runOpts);
  const out = p.out?.tensor ?? Tensor.empty(outShape, { dtype: p.dtype, device: p.device });
  const lseShape = p.varlen ? [p.headsQ, p.varlen.totalQ] : [p.batch, p.headsQ, p.seqQ];
  const lseCount = lseShape.reduce((a, b) => a * b, 1);
  const lse = p.lse ?? (p.returnLse ? Tensor.empty(lseShape, { dtype: 'f32', device: p.device }) : undefined);
  const lseTarget = lse ?? scratchLse(p.device, lseCount);
  const oLayout = p.out ? operand(p.out) : outLayout(out, p);
  const window = p.window;
  // Causal is the window's right side at 0; a window narrows it further.
  // A side at or past seqQ + seqK hides nothing a larger one would not: clamped there, the kernel's
  // 32-bit tile arithmetic (row + off + side) cannot overflow.
  const side = (x: number) => (x < 0 ? x : Math.min(x, p.seqQ + p.seqK));
  const right = side(p.causal ? (window && window[1] >= 0 ? Math.min(window[1], 0) : 0) : window ? window[1] : -1);
  const left = side(window ? window[0] : -1);
  const lp: LaunchProblem = {
    dtype: p.dtype, batch: p.batch, headsQ: p.headsQ, headsKV: p.headsKV, headDim: p.headDim, seqQ: p.seqQ, seqK: p.seqK,
    q: operand(p.q), k: operand(p.k), v: operand(p.v), o: oLayout,
    lse: {
      buffer: lseTarget.buffer, offsetBytes: lseTarget.byteOffset,
      headStride: p.varlen ? p.varlen.totalQ : p.seqQ, batchStride: p.varlen ? 0 : p.headsQ * p.seqQ,
    },
    varlen: p.varlen
      ? {
          cuSeqlensQ: { ptr: p.varlen.cuSeqlensQ.buffer, offsetBytes: p.varlen.cuSeqlensQ.byteOffset },
          cuSeqlensK: { ptr: p.varlen.cuSeqlensK.buffer, offsetBytes: p.varlen.cuSeqlensK.byteOffset },
          totalQ: p.varlen.totalQ, totalK: p.varlen.totalK,
        }
      : null,
    windowLeft: left, windowRight: right, scale: p.scale, softcap: p.softcap,
    ...(c.kernel.plan.scheduler !== 'grid' ? { persistent: persistentArgs(p.device, stream, runOpts.ctas, c.maxCtas, c.kernel) } : {}),
  };
  // Hazard: the maps depend on the kernel through their boxes only, and the key must hold all of
  // them (mapBoxRows): keyed on blockN alone, a kvShare-2 kernel's half-tile K/V maps were reused
  // by a kvShare-1 kernel and it hung (session 18).
  const mapKey = JSON.stringify([
    mapBoxRows(c.kernel), [p.q, p.k, p.v].map((x) => [x.tensor.ptr.toString(), x.rowStride, x.headStride, x.batchStride]),
    p.seqQ, p.seqK, p.batch, p.headsQ, p.headsKV, p.varlen?.totalQ ?? -1, p.varlen?.totalK ?? -1,
  ]);
  // O's map (the TMA store's) apart: a fresh output each call re-encodes only it. A map whose
  // buffer was disposed is never reused, even when a new buffer took its address.
  const oKey = JSON.stringify([out.ptr.toString(), oLayout.rowStride, oLayout.headStride, oLayout.batchStride]);
  const alive = (m: TensorMap) => !m.buffer.disposed;
  const cached = mapCache.get(p.q.tensor);
  const qkv = cached && cached.key === mapKey && alive(cached.maps.q) && alive(cached.maps.k) && alive(cached.maps.v) ? cached.maps : undefined;
  const maps: LaunchMaps = !qkv ? tensorMaps(c.kernel, lp)
    : { ...qkv, o: cached!.oKey === oKey && alive(qkv.o) ? qkv.o : outMap(lp) };
  mapCache.set(p.q.tensor, { key: mapKey, oKey, maps });
  const launchKey = mapKey + JSON.stringify([
    out.ptr.toString(), oLayout.rowStride, oLayout.headStride, oLayout.batchStride, lseTarget.ptr.toString(),
    lp.lse.headStride, lp.lse.batchStride, left, right, p.scale, p.softcap, lp.persistent ? [lp.persistent.smCount, lp.persistent.tileCounter.ptr.toString(), lp.persistent.tailWorkspace?.ptr.toString() ?? null] : null,
    p.varlen ? [p.varlen.cuSeqlensQ.ptr.toString(), p.varlen.cuSeqlensK.ptr.toString()] : null,
  ]);
  return { fn: c.fn, launch: () => launchFor(c.kernel, lp, maps), launchKey, stream, out, ...(lse ? { lse } : {}) };
}

/** O's layout: the same logical [B, N, H, D] (or [B, H, N, D]) as Q, from O's own strides. */
function outLayout(out: Tensor, p: AttentionProblem): Operand {
  const s = out.strides;
  if (p.varlen) return { buffer: out.buffer, offsetBytes: out.byteOffset, rowStride: s[0], headStride: s[1], batchStride: 0 };
  const [row, head] = p.layout === 'bnhd' ? [s[1], s[2]] : [s[2], s[1]];
  return { buffer: out.buffer, offsetBytes: out.byteOffset, rowStride: row, headStride: head, batchStride: s[0] };
}

/**
 * softmax(scale * Q K^T [capped, masked]) V for Q [B, Nq, Hq, D] (or [B, Hq, Nq, D] with layout
 * 'bhnd') and K, V [B, Nkv, Hkv, D]; Hkv divides Hq. Resolves when the GPU has finished.
 */
export async function attentionTensors(q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions & RunOptions): Promise<AttentionOutput> {
  const m = callMemo.get(q);
  if (m && m.k === k && m.v === v && sameOptions(m.opts, opts) && !m.tensors.some((t) => t.disposed) && !m.prepared.buffers.some((b) => b.disposed)) {
    // The same call again: checked, chosen and encoded before; queue it and wait for it.
    launchPrepared(m.prepared, m.stream);
    await completionOf(m.stream).done();
    return { ...m.output };
  }
  // Everything read from opts is read now: the options as validated, the run options as used and
  // the memo's snapshot all describe the call as it was made, whatever the caller edits later.
  const snap = trySnapshot(opts);
  const p = attentionProblem(q, k, v, opts);
  return run(p, runOptions(opts), q.shape, { k, v, opts: snap });
}

/** The run options as the call was made (a shallow copy; knobs are read when the kernel is chosen, at once). */
function runOptions(opts: (AttentionOptions & RunOptions) | undefined): RunOptions {
  const o = opts ?? {};
  return { ...(o.schedule !== undefined ? { schedule: o.schedule } : {}), ...(o.load !== undefined ? { load: o.load } : {}),
    ...(o.knobs !== undefined ? { knobs: o.knobs } : {}), ...(o.stream !== undefined ? { stream: o.stream } : {}),
    ...(o.ctas !== undefined ? { ctas: o.ctas } : {}) };
}

// The last call per Q tensor whose outputs are the caller's (issue #11, item 8): a call with the same
// K and V objects and equal options is the same launch, so it skips the checks, the kernel lookup
// and the encoding. Equal options: the same keys in the same order, primitives and tensors/streams
// identical, arrays and plain objects (window, knobs, a schedule object) equal as JSON now, so an
// options object the caller mutated in between is seen. Tensors are immutable views (frozen shape
// and strides), and a disposed tensor or buffer sends the call down the checked path again.
interface CallMemo {
  k: Tensor;
  v: Tensor;
  opts: OptionsSnapshot;
  prepared: PreparedLaunch;
  stream: Stream;
  output: AttentionOutput;
  tensors: Tensor[];
}
const callMemo = new WeakMap<Tensor, CallMemo>();

interface OptionsSnapshot {
  keys: string[];
  /** Primitives and Tensor/Stream objects as given; other objects as { json }. */
  values: unknown[];
}

class Json {
  constructor(readonly json: string) {}
}

function byValue(x: unknown): boolean {
  return typeof x === 'object' && x !== null && !(x instanceof Tensor) && !(x instanceof Stream);
}

/** Every enumerable key, inherited ones too (attentionProblem reads options through the prototype chain). */
function keysOf(o: object): string[] {
  const keys: string[] = [];
  for (const k in o) keys.push(k);
  return keys;
}

/** @internal exported for the tests */
export function snapshot(opts: object | undefined): OptionsSnapshot {
  const o = (opts ?? {}) as Record<string, unknown>;
  const keys = keysOf(o);
  return { keys, values: keys.map((k) => (byValue(o[k]) ? new Json(JSON.stringify(o[k])) : o[k])) };
}

/** The snapshot, or null (no memo for this call) when an option cannot be serialised (a cycle, a BigInt). */
function trySnapshot(opts: object | undefined): OptionsSnapshot | null {
  try {
    return snapshot(opts);
  } catch {
    return null;
  }
}

/** @internal exported for the tests */
export function sameOptions(s: OptionsSnapshot, opts: object | undefined): boolean {
  const o = (opts ?? {}) as Record<string, unknown>;
  const keys = keysOf(o);
  if (keys.length !== s.keys.length) return false;
  for (let i = 0; i < keys.length; i++) {
    if (keys[i] !== s.keys[i]) return false;
    const was = s.values[i];
    const now = o[keys[i]];
    try {
      if (was instanceof Json ? !byValue(now) || JSON.stringify(now) !== was.json : now !== was) return false;
    } catch {
      return false; // not serialisable now: the checked path decides
    }
  }
  return true;
}

/** Packed sequences, as flash_attn_varlen_func: Q [totalQ, Hq, D], K/V [totalK, Hkv, D]. */
export async function attentionVarlen(q: Tensor, k: Tensor, v: Tensor, opts: VarlenOptions & RunOptions): Promise<AttentionOutput> {
  const p = varlenProblem(q, k, v, opts);
  return run(p, runOptions(opts), q.shape);
}

/**
 * The kernel and launch config attentionTensors(q, k, v, opts) would launch, without launching: for
 * timing with CUDA events (timeLaunches) rather than through an awaited Promise. The same checks,
 * kernel cache and tensor maps as attentionTensors; O (and LSE) are allocated here unless given.
 */
export async function prepareTensorLaunch(
  q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions & RunOptions = {},
): Promise<{ fn: KernelFunction; launch: LaunchConfig } & AttentionOutput> {
  const { fn, launch: config, out, lse } = await prepareRun(attentionProblem(q, k, v, opts), opts, q.shape);
  return { fn, launch: config(), out, ...(lse ? { lse } : {}) };
}

/** prepareTensorLaunch for attentionVarlen (packed sequences): the kernel and launch config it would launch. */
export async function prepareVarlenLaunch(
  q: Tensor, k: Tensor, v: Tensor, opts: VarlenOptions & RunOptions,
): Promise<{ fn: KernelFunction; launch: LaunchConfig } & AttentionOutput> {
  const { fn, launch: config, out, lse } = await prepareRun(varlenProblem(q, k, v, opts), opts, q.shape);
  return { fn, launch: config(), out, ...(lse ? { lse } : {}) };
}
