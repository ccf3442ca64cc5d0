// The kernel plan: the one plain, JSON-serialisable value between deciding (choose.ts) and
// emitting (emit.ts). Every size, offset, ring depth, wait count and variant of one kernel lives
// here, computed once; the emitter, the CLI, the pictures, the docs and the tests read it.
//
// This file holds the plan's types and the pipeline part of it: from a schedule's loop nest, how
// many asynchronous groups each op may leave in flight when it waits, where ring slots are
// released, and how deep the rings must be for the GPU's asynchronous execution.
//
// Every step of the generated loop (prologue, steady state and epilogue alike) commits the same
// sequence of groups: an MMA op or a cp.async load whose iteration is out of range still commits
// an empty group. So the number of groups committed between a producer and its consumer is a
// property of the body alone, and one wait count per op is right in every phase. verify.ts checks
// that claim against a model of the emitted program.
import type { OpName } from '../schedule/ops.js';
import { liveTiles, runsBefore as edgeRunsBefore, type LoopNest, type Resources, type Schedule } from '../schedule/index.js';
import type { Dtype } from './wgmma.js';

// ---- variants: enums, never booleans --------------------------------------------------------------
/**
 * Who issues the K/V (and Q) loads. 'cp.async': every consumer thread, 16-byte copies, where the
 * schedule places the loads. 'tma-inline': one consumer thread issues TMA copies where the schedule
 * places them. 'tma-producer': a producer warpgroup issues every TMA copy in iteration order as ring
 * slots free up; the schedule's load stages then set only the ring depths.
 */
export type LoadPath = 'cp.async' | 'tma-inline' | 'tma-producer';
/** How P reaches the P V product: the wgmma's register A operand, or shared memory. */
export type POperand = 'registers' | 'shared';
/**
 * Warpgroup ping-pong turns. 'none'; 'step': a turn from the step's first matmul to its last;
 * 'wrap': from the step's last matmul to the next step's first (see turnBounds).
 */
export type Turn = 'none' | 'step' | 'wrap';
/**
 * Q's shared-memory descriptors: 'visible' (the compiler may keep all headDim / 16 of them live
 * across the loop) or 'opaque' (rebuilt every step from one opaque base: saves registers).
 */
export type QDescriptors = 'visible' | 'opaque';

/**
 * Which tiles a CTA computes. 'grid': one CTA per 128-row query tile (the launch's grid is the
 * tile space). 'static': a persistent grid (one CTA per SM), CTA i taking tiles i, i + grid, ...
 * of the scheduler's order. 'dynamic': a persistent grid whose producer takes the next tile from
 * a global counter and hands it to the consumers. The order (longest first, heads grouped so their
 * K/V stay in L2) is src/codegen/scheduler.ts.
 */
export type TileScheduler = 'grid' | 'static' | 'dynamic';

/**
 * How O leaves the CTA. 'registers': each thread stores its fragment with st.global. 'tma': each
 * warpgroup writes its 64 rows into its own 128B-swizzled shared-memory tile and one thread issues
 * a TMA store, awaited (for its reads of shared memory) only when that tile is next written, so
 * the store overlaps the next tile's loop in a persistent CTA; with one CTA per tile the tiles take
 * Q's place (SmemLayout.oInQ). With packed sequences a box past a sequence's end would write into
 * the next sequence's rows (TMA clips only at the tensor's end), so there a block that crosses its
 * sequence's end leaves from registers instead (kernels/variants.cuh OStoreTmaPacked). The default
 * is choose.ts chooseTilingAndStore's.
 */
export type OStore = 'registers' | 'tma';
export const O_STORES: readonly OStore[] = ['registers', 'tma'];

/**
 * How a softcapped kernel computes tanh (kernels/variants.cuh SoftcapLogits). 'tanhf': CUDA's
 * tanhf (both of its branches run, then a select: 2 MUFU and about 10 other instructions per
 * logit). 'exp2': 1 - 2 / (2^(2 x log2 e) + 1) with ex2.approx and rcp.approx (2 MUFU and 3 others;
 * absolute error a few units of 2^-23, as tanhf's). 'approx': tanh.approx.f32 (1 MUFU; relative
 * error up to about 2^-11, which a cap of 50 turns into up to 0.024 on a logit: FlashAttention's
 * choice). null without a softcap. The default is choose.ts chooseSoftcapTanh's.
 */
export type SoftcapTanh = 'tanhf' | 'exp2' | 'approx';
export const SOFTCAP_TANHS: readonly SoftcapTanh[] = ['tanhf', 'exp2', 'approx'];

export const TILE_SCHEDULERS: readonly TileScheduler[] = ['grid', 'static', 'dynamic'];
export const LOAD_PATHS: readonly LoadPath[] = ['cp.async', 'tma-inline', 'tma-producer'];
export const P_OPERANDS: readonly POperand[] = ['registers', 'shared'];
export const TURNS: readonly Turn[] = ['none', 'step', 'wrap'];
export const Q_DESCRIPTORS: readonly QDescriptors[] = ['visible', 'opaque'];
export const HEAD_DIMS = [64, 128, 256] as const;
export type HeadDim = (typeof HEAD_DIMS)[number];

export interface BodyOp {
  op: OpName;
  stage: number;
  /** Position in body order. */
  pos: number;
}

/** The software pipeline: ring depths, register tiles and wait counts. */
export interface Pipeline {
  numStages: number;
  body: BodyOp[];
  /** Ring slots: the schedule's load-to-use distance + 1, or more where a release comes late. */
  kBuffers: number;
  vBuffers: number;
  sTiles: number;
  pTiles: number;
  aTiles: number;
  /** Steps unrolled per steady-loop trip, so every register-tile index is a compile-time constant. */
  unroll: number;
  /** wgmma groups Softmax(j) may leave pending: MMA0(j) must be done. */
  waitSoftmax: number;
  /** wgmma groups the P packing of Softmax(j) may leave pending: MMA1(j - pTiles) read the tile. */
  waitPack: number;
  /** wgmma groups MUL(j) may leave pending: MMA1(j - 1) must be done with O. */
  waitMul: number;
  /** cp.async groups MMA0(j) / MMA1(j) may leave pending (cp.async loads only). */
  cpWaitK: number;
  cpWaitV: number;
  /** V(j-1) is released by Softmax's packing (when it waits for MMA1(j-1)) or by MUL. */
  releaseVAt: 'Softmax' | 'MUL';
}

/** Query rows per CTA: 64 per consumer warpgroup; 192 (three) only with the producer warpgroup. */
export type BlockM = 64 | 128 | 192;
export const BLOCK_MS: readonly BlockM[] = [64, 128, 192];

/** setmaxnreg counts with a producer warpgroup: registers per thread it keeps and each consumer takes. */
export interface RegisterSplit {
  producer: number;
  consumer: number;
}

/** Shared memory, bytes from the 1024-byte aligned base (see smem.ts, the one formula). */
export interface SmemLayout {
  q: number;
  /** One warpgroup's 64 query rows. */
  qWarpgroupBytes: number;
  /** Q buffers (1, or 2 in a persistent kernel that loads tile n + 1's Q during tile n). */
  qBuffers: 1 | 2;
  /** One Q buffer: a 64-row block per warpgroup. */
  qBufferBytes: number;
  k: number;
  v: number;
  /** One K or V tile. */
  tileBytes: number;
  /** O tiles (oStore 'tma'): one per warpgroup, qWarpgroupBytes each, laid out as Q's (at q when oInQ); 0 bytes otherwise. */
  o: number;
  oBytes: number;
  /**
   * The O tiles sit in Q's place (o === q), where Q is dead by the epilogue: one CTA per tile, or
   * the current tile's buffer of two Q buffers.
   */
  oInQ: boolean;
  /** P tiles (P in shared memory), per tile and warpgroup pWarpgroupBytes; 0 bytes otherwise. */
  p: number;
  pWarpgroupBytes: number;
  /** Step between 8-row groups of a P tile (K-major, no swizzle). */
  pSbo: number;
  /** mbarriers, 8 bytes each: full and empty per K slot, per V slot; full per Q buffer and warpgroup's Q block. */
  fullK: number;
  emptyK: number;
  fullV: number;
  emptyV: number;
  fullQ: number;
  /**
   * Persistent kernel, per Q buffer and warpgroup: the Q block free for a later tile. One buffer:
   * one arrival per warp of that warpgroup after the tile's last QK^T. Two: one arrival by the O
   * store's issuer once the store staged there has read it (or, without O in Q, as with one).
   */
  emptyQ: number;
  /** Persistent kernel: tile-id slots (int32 each) and their full / empty barriers. */
  tileFull: number;
  tileEmpty: number;
  tileIds: number;
  /** End of the layout. */
  end: number;
  /** Dynamic shared memory the launch requests: end + the slack for aligning the base to 1024 B. */
  launchBytes: number;
}

export interface KernelPlan {
  /** The schedule as given (validated). */
  schedule: Schedule;
  headDim: HeadDim;
  dtype: Dtype;
  /** Causal mask, aligned to the bottom-right (query i sees key j <= i + seqK - seqQ). */
  causal: boolean;
  /** A sliding window (its sides are launch arguments, either may be unbounded). */
  window: boolean;
  /** Logit softcap (its value is a launch argument). */
  softcap: boolean;
  /** How tanh is computed with a softcap (SoftcapTanh); null without one. */
  softcapTanh: SoftcapTanh | null;
  /**
   * Conditional rescaling (kernels/attention.cuh RESCALE_SLACK_LOG2): a row keeps its running max
   * until a tile's max exceeds it by more than 2^8, and MUL (O *= alpha) runs only in a warp where
   * some row's max moved. P may then reach 256 before packing, which f16 and bf16 hold exactly as
   * they hold P <= 1. The default is choose.ts chooseLazyRescale's.
   */
  lazyRescale: boolean;
  /** Packed variable-length sequences (cumulative lengths are launch arguments). */
  varlen: boolean;
  /** Query rows per CTA: 64 per consumer warpgroup. */
  blockM: BlockM;
  /** KV rows per tile. */
  blockN: number;
  consumerWarpgroups: 1 | 2 | 3;
  /**
   * setmaxnreg with a producer warpgroup: the registers per thread the producer keeps and each
   * consumer takes (24 / 240 with two consumers, 32 / 160 with three); null without one.
   */
  registerSplit: RegisterSplit | null;
  /** Threads per CTA, the producer warpgroup included. */
  threads: number;
  loads: LoadPath;
  pOperand: POperand;
  turn: Turn;
  qDescriptors: QDescriptors;
  /** Tile scheduling; 'static' and 'dynamic' need the producer warpgroup. */
  scheduler: TileScheduler;
  /** How O is stored (OStore). */
  oStore: OStore;
  /**
   * The steady loop split by the masks (kernels/masks.cuh): trips whose tiles need no mask for any
   * row of the CTA run a copy of the body without mask code; the window's left edge, the diagonal
   * or right edge and the last partial tile run the checked body. Off: one checked loop.
   */
  peelMasks: boolean;
  /**
   * CTAs of a cluster that share each K/V tile: 1, or 2: two CTAs on adjacent query blocks of one
   * head, each loading half of every K/V tile into both by TMA multicast, so K/V leave L2 once per
   * 256 query rows (bench/NOTES.md sessions 10-11). Static persistent kernel with the producer
   * warpgroup, no mask, fixed lengths; an odd block count is padded with a block past the end.
   */
  kvShare: 1 | 2;
  /**
   * Q buffers per warpgroup: 1, or 2 in a persistent kernel, where the producer loads tile n + 1's
   * Q while tile n runs and a TMA-stored O is staged in its tile's own buffer (smem.ts oStoreInQ).
   */
  qBuffers: 1 | 2;
  /**
   * The persistent consumers' tile loop rotated (a knob, not measured): each tile's first QK^T is
   * issued before the previous tile's epilogue's second half (the TMA store's issue, LSE, the next
   * tile's decode), so the tensor cores have work while a tile ends. Needs a one-stage body
   * MMA0, Softmax, MUL, MMA1 (baseline's) with no turn, two Q buffers, O by TMA and no mask or
   * packed batch (every tile then has a KV tile). bench/NOTES.md session 12.
   */
  crossTile: boolean;
  /**
   * The static scheduler's partial last round split along the keys (kernels/tiles.cuh tailSplit):
   * each of its tiles is computed as up to TAIL_MAX_PIECES pieces on otherwise idle CTAs, and the
   * last piece to finish merges the others' partial O, m and l from a workspace (attention.cuh
   * mergeTail). The launch passes the workspace as tileCounter. Default off (choose.ts chooseSplitTail).
   */
  splitTail: boolean;
  pipeline: Pipeline;
  smem: SmemLayout;
  /** Registers per consumer thread for the tiles the schedule keeps live, and the budget for them. */
  registers: { tiles: number; budget: number };
  /** Compile with the bounded mbarrier wait that traps instead of hanging (SW_DEBUG_HANG). */
  hangTrap: boolean;
  /** Each decision choose() made rather than the caller, with the measurement behind it. */
  decisions: string[];
}

export class PlanError extends Error {
  readonly reasons: string[];
  constructor(message: string, reasons: string[] = [message]) {
    super(message);
    this.name = 'PlanError';
    this.reasons = reasons;
  }
}

// ---- the body --------------------------------------------------------------------------------------
/** Group kinds: wgmma groups (commit_group) and cp.async groups. */
type GroupKind = 'wgmma' | 'cpasync';
const COMMITTERS: Record<GroupKind, readonly OpName[]> = { wgmma: ['MMA0', 'MMA1'], cpasync: ['loadK', 'loadV'] };

/** wait_group takes an immediate; fewer pending groups is always safe, so larger counts clamp. */
export const MAX_PENDING = 7;

function find(body: BodyOp[], op: OpName): BodyOp {
  const b = body.find((x) => x.op === op);
  if (!b) throw new PlanError(`the schedule has no ${op}`);
  return b;
}

/** True when producer(j - delta) comes before consumer(j) in program order. */
function runsBefore(prod: BodyOp, cons: BodyOp, delta: number): boolean {
  return edgeRunsBefore(prod.stage, prod.pos, cons.stage, cons.pos, delta);
}

/** Groups of `kind` committed after producer(j - delta) and before consumer(j). */
function groupsBetween(body: BodyOp[], kind: GroupKind, prod: BodyOp, cons: BodyOp, delta: number): number {
  if (!runsBefore(prod, cons, delta)) {
    const it = delta === 0 ? 'j' : `j-${delta}`;
    throw new PlanError(`${cons.op}(j) waits for ${prod.op}(${it}), which the schedule runs later`);
  }
  const committers = body.filter((b) => COMMITTERS[kind].includes(b.op));
  const d = cons.stage - prod.stage + delta;
  const between =
    d === 0
      ? committers.filter((b) => b.pos > prod.pos && b.pos < cons.pos).length
      : committers.filter((b) => b.pos > prod.pos).length +
        (d - 1) * committers.length +
        committers.filter((b) => b.pos < cons.pos).length;
  return Math.min(between, MAX_PENDING);
}

const isMma = (op: OpName) => op === 'MMA0' || op === 'MMA1';
const isLoad = (op: OpName) => op === 'loadK' || op === 'loadV';

/** Body positions of a step's first and last matmul: the span a ping-pong turn covers. */
export function matmulSpan(body: readonly { op: OpName }[]): { first: number; last: number } {
  const first = body.findIndex((b) => isMma(b.op));
  const last = body.length - 1 - [...body].reverse().findIndex((b) => isMma(b.op));
  return { first, last };
}

/** True when MMA0 and MMA1 sit back to back in the body, with at most loads between them. */
export function matmulsAdjacentInBody(body: readonly { op: OpName }[]): boolean {
  const { first, last } = matmulSpan(body);
  return body.slice(first, last + 1).every((b) => isMma(b.op) || isLoad(b.op));
}

/**
 * The kind of turn a body allows. 'step': from the step's first matmul to its last when they are
 * back to back (or nothing better exists). 'wrap': from the step's last matmul to the next step's
 * first, when those two are back to back across the step boundary and the step's own two are not
 * (firstDot: MMA1(i), then MMA0(i+2)).
 */
export function turnKind(body: readonly { op: OpName }[]): 'step' | 'wrap' {
  if (matmulsAdjacentInBody(body)) return 'step';
  const { first, last } = matmulSpan(body);
  return [...body.slice(last + 1), ...body.slice(0, first)].every((b) => isLoad(b.op)) ? 'wrap' : 'step';
}

/**
 * A turn's body positions: it opens before `start` and closes after `end`. For 'wrap', `start` is
 * the step's last matmul and `end` the first one, reached in the next step.
 */
export function turnBounds(body: readonly { op: OpName }[], turn: 'step' | 'wrap' = turnKind(body)): { start: number; end: number } {
  const { first, last } = matmulSpan(body);
  return turn === 'wrap' ? { start: last, end: first } : { start: first, end: last };
}

/** Ping-pong turns must not hold a load the consumers issue: its issuer could wait on the warpgroup waiting for the turn. */
export function loadInsideTurn(body: readonly BodyOp[], turn: Turn, loads: LoadPath): string | undefined {
  if (turn === 'none' || loads === 'tma-producer') return undefined;
  const { start, end } = turnBounds(body, turn);
  const span = turn === 'wrap' ? [...body.slice(start), ...body.slice(0, end + 1)] : body.slice(start, end + 1);
  return span.find((b) => b.op === 'loadK' || b.op === 'loadV')?.op;
}

export interface PipelineOptions {
  loads: LoadPath;
  turn: Turn;
  /**
   * With a producer warpgroup, cap the ring slots below the schedule's load distances (each ring
   * still grows to the fewest slots that keep it deadlock-free): frees shared memory for a wider
   * KV tile.
   */
  ringLimit?: { k: number; v: number };
}

export function pipelineOf(nest: LoopNest, res: Resources, options: PipelineOptions): Pipeline {
  const producerWarp = options.loads === 'tma-producer';
  const body: BodyOp[] = nest.body.map((b, pos) => ({ op: b.op, stage: b.stage, pos }));
  const [loadK, loadV, mma0, softmax, mul, mma1] = (['loadK', 'loadV', 'MMA0', 'Softmax', 'MUL', 'MMA1'] as const).map(
    (op) => find(body, op),
  );
  const aTiles = liveTiles(softmax.stage, mul.stage, softmax.pos < mul.pos);
  for (const [what, n] of [['S', res.sTiles], ['P', res.pTiles], ['alpha', aTiles]] as const) {
    if (n > 2) throw new PlanError(`the schedule keeps ${n} ${what} register tiles live; the code generator supports at most 2`);
  }
  const unroll = Math.max(res.sTiles, res.pTiles, aTiles);

  // V(j-1) can be released at the first op that needs MMA1(j-1) retired.
  const packNeedsPrevMma1 = res.pTiles === 1;
  const releaseVAt = packNeedsPrevMma1 && runsBefore(softmax, mul, 0) ? 'Softmax' : 'MUL';

  const releaseV = releaseVAt === 'Softmax' ? softmax : mul;
  let kBuffers = res.kBuffers;
  let vBuffers = res.vBuffers;
  if (!producerWarp) {
    // A load into a slot waits until every warp released the slot's previous occupant; that
    // release must come earlier in program order, or the loading thread would wait for itself. A
    // slot is released only once the wgmma reading it has retired (K at Softmax(j), V at the op of
    // iteration j+1 that waits for MMA1(j)), so a ring may need more slots than the schedule's
    // load-to-use distance: take the fewest that keep the release ahead of the reuse.
    while (!runsBefore(softmax, loadK, kBuffers)) kBuffers++;
    while (!runsBefore(releaseV, loadV, vBuffers - 1)) vBuffers++;
  } else {
    // A producer warpgroup loads K(0), V(0), K(1), V(1), ... each once its slot is released. The
    // consumers block only at MMA0(j) (needs K(j)) and MMA1(j) (needs V(j)); by then the producer
    // must have been able to load K(j) (after K(j-kBuffers) was released), V(j-1) (after
    // V(j-1-vBuffers)), and for MMA1 also V(j) (after V(j-vBuffers)). Those releases must come
    // earlier in the consumers' program, or producer and consumers wait for each other.
    // With ping-pong a warpgroup blocks at the start of its turn, and the one before it in the turn
    // order cannot release anything until its own turn ends.
    if (options.ringLimit) {
      kBuffers = Math.max(1, Math.min(kBuffers, options.ringLimit.k));
      vBuffers = Math.max(1, Math.min(vBuffers, options.ringLimit.v));
    }
    // A 'wrap' turn starts at the step's last matmul and holds the next step's first one: that
    // one's tile is needed one step early (stage - 1) at the turn's start.
    let need0: BodyOp = mma0;
    let need1: BodyOp = mma1;
    if (options.turn === 'wrap') {
      const [firstMma, lastMma] = mma0.pos < mma1.pos ? [mma0, mma1] : [mma1, mma0];
      const early = { ...firstMma, stage: firstMma.stage - 1, pos: lastMma.pos };
      if (firstMma === mma0) need0 = early;
      else need1 = early;
    } else if (options.turn === 'step') {
      const turnStart = Math.min(mma0.pos, mma1.pos);
      need0 = { ...mma0, pos: turnStart };
      need1 = { ...mma1, pos: turnStart };
    }
    while (!runsBefore(softmax, need0, kBuffers) || !runsBefore(softmax, need1, kBuffers)) kBuffers++;
    while (!runsBefore(releaseV, need0, vBuffers) || !runsBefore(releaseV, need1, vBuffers - 1)) vBuffers++;
  }

  const waitSoftmax = groupsBetween(body, 'wgmma', mma0, softmax, 0);
  const cp = options.loads === 'cp.async';
  return {
    numStages: nest.numStages,
    body,
    kBuffers,
    vBuffers,
    sTiles: res.sTiles,
    pTiles: res.pTiles,
    aTiles,
    unroll,
    waitSoftmax,
    // ptxas (CUDA 13.0) serialises every wgmma of the kernel (C7514) when a step waits with two
    // pending groups and later waits again with one; after a deep first wait the later ones go to 0.
    // (Retiring MMA1(j-1) up front instead, with one pending, measured 15% slower on firstDot, and
    // needs a full wait after each back edge: ptxas serialises when an accumulator in flight across
    // the back edge is read after a partial wait; bench/NOTES.md.)
    waitPack: waitSoftmax > 1 ? 0 : groupsBetween(body, 'wgmma', mma1, softmax, res.pTiles),
    waitMul: waitSoftmax > 1 ? 0 : groupsBetween(body, 'wgmma', mma1, mul, 1),
    cpWaitK: cp ? groupsBetween(body, 'cpasync', loadK, mma0, 0) : 0,
    cpWaitV: cp ? groupsBetween(body, 'cpasync', loadV, mma1, 0) : 0,
    releaseVAt,
  };
}

/** One line naming the kernel a plan emits: "tma-producer n128 K2/V3 turn step P registers static" ("tma-producer m192 n128 ..." for 192 query rows). */
export function planSummary(plan: KernelPlan): string {
  const p = plan.pipeline;
  return `${plan.loads}${plan.blockM !== 128 ? ` m${plan.blockM}` : ''} n${plan.blockN} K${p.kBuffers}/V${p.vBuffers} turn ${plan.turn} P ${plan.pOperand} ${plan.scheduler}${plan.oStore === 'tma' ? ' O tma' : ''}${plan.peelMasks ? ' peeled' : ''}${plan.kvShare === 2 ? ' kv/2' : ''}${plan.qBuffers === 2 ? ' Q2' : ''}${plan.crossTile ? ' x-tile' : ''}${plan.softcapTanh !== null ? ` tanh ${plan.softcapTanh}` : ''}${plan.lazyRescale ? ' lazy-mul' : ''}${plan.splitTail ? ' split-tail' : ''}`;
}
