// The caller's view of one kernel: the problem (head dim, dtype, causal) and the knobs a user may
// set. choose() (choose.ts) turns them into a KernelPlan; every knob left out takes the measured
// default recorded there. Variants are enums in the plan; the knobs here are the user-facing
// spelling of them.
import type { BlockM, KernelPlan, OStore, SoftcapTanh, TileScheduler } from './plan.js';
import type { Dtype } from './wgmma.js';

export type LoadKind = 'tma' | 'cp.async';

export interface KernelConfig {
  headDim: 64 | 128 | 256;
  dtype: Dtype;
  /** Query rows per CTA: 64 per consumer warpgroup, one, two or three (192: the producer warpgroup's registers, load 'tma'). */
  blockM: BlockM;
  /** KV rows per tile; a multiple of 16 (the k-step of the P V product). */
  blockN: number;
  load: LoadKind;
  causal: boolean;
  /** A sliding window (sides given at launch). */
  window: boolean;
  /** Logit softcap (cap given at launch). */
  softcap: boolean;
  /** Packed variable-length sequences. */
  varlen: boolean;
  /**
   * Warpgroup ping-pong: the consumer warpgroups (two or three) take turns issuing each step's matmuls, so
   * one's softmax overlaps the others' tensor-core work. Needs blockM 128 or 192 and TMA loads.
   */
  pingpong: boolean;
  /**
   * A producer warpgroup issues every TMA load (in iteration order, as ring slots free up) and
   * gives its registers to the consumers; the schedule then orders the consumers' ops only, and
   * its load stages set the ring depths. Needs blockM 128 or 192 and TMA loads.
   */
  warpSpecialized: boolean;
  /**
   * P reaches the P V product through shared memory (wgmma with both operands in shared memory)
   * instead of registers. Frees the P registers, which lets a schedule that keeps two S tiles live
   * (firstDot) use a wide KV tile; costs a shared-memory round trip and a warpgroup barrier.
   */
  pShared: boolean;
  /**
   * Tile scheduling: 'grid' launches one CTA per 128-row query tile; 'static' and 'dynamic' launch
   * a persistent grid (one CTA per SM) that walks the tiles longest-first with heads grouped for L2,
   * by stride ('static') or from a global counter ('dynamic'). Needs warpSpecialized.
   */
  scheduler: TileScheduler;
  /** How O leaves the CTA: st.global from registers, or shared memory and a TMA store (plan.ts OStore). */
  oStore: OStore;
  /** The steady loop split so that trips needing no mask run without mask code (plan.ts peelMasks). */
  peelMasks: boolean;
  /** CTAs of a cluster sharing each K/V tile (plan.ts kvShare). */
  kvShare: 1 | 2;
  /** Q buffers of a persistent kernel (plan.ts qBuffers). */
  qBuffers: 1 | 2;
  /** The rotated tile loop (plan.ts crossTile). */
  crossTile: boolean;
  /** The last round's key split (plan.ts splitTail). */
  splitTail: boolean;
  /** How tanh is computed with a softcap (plan.ts SoftcapTanh); null without one. */
  softcapTanh: SoftcapTanh | null;
  /** Conditional rescaling (plan.ts lazyRescale). */
  lazyRescale: boolean;
}

/** The problem and any knobs; what is left out takes choose()'s default. */
export type KernelConfigInput = Partial<KernelConfig> & Pick<KernelConfig, 'headDim'> & {
  /** The query length the kernel is for: picks the default tile scheduler (choose.ts, defaultScheduler). */
  seqQ?: number;
  /** Compile with the bounded mbarrier wait (traps after ~2^26 polls instead of hanging). */
  hangTrap?: boolean;
};

/** The knob view of a plan. */
export function configOf(plan: KernelPlan): KernelConfig {
  return {
    headDim: plan.headDim,
    dtype: plan.dtype,
    blockM: plan.blockM,
    blockN: plan.blockN,
    load: plan.loads === 'cp.async' ? 'cp.async' : 'tma',
    causal: plan.causal,
    window: plan.window,
    softcap: plan.softcap,
    varlen: plan.varlen,
    pingpong: plan.turn !== 'none',
    warpSpecialized: plan.loads === 'tma-producer',
    pShared: plan.pOperand === 'shared',
    scheduler: plan.scheduler,
    oStore: plan.oStore,
    peelMasks: plan.peelMasks,
    kvShare: plan.kvShare,
    qBuffers: plan.qBuffers,
    crossTile: plan.crossTile,
    splitTail: plan.splitTail,
    softcapTanh: plan.softcapTanh,
    lazyRescale: plan.lazyRescale,
  };
}
