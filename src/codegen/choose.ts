// choose(schedule, problem, knobs) -> KernelPlan: the one home of every measured heuristic.
// It validates its input first (the schedule, then every field, naming the argument and the
// rule), fills each knob the caller left out with the default that measured fastest (each cites
// its bench/NOTES.md entry and is recorded in plan.decisions), picks the widest KV tile that fits
// the register budget and shared memory, sizes the rings, and finally runs verify(): a plan that
// any model rejects is never returned.
import { loopNest, NAMED, resources, validate, type LoopNest, type Resources, type Schedule } from '../schedule/index.js';
import type { KernelConfigInput, LoadKind } from './config.js';
import {
  HEAD_DIMS, LOAD_PATHS, P_OPERANDS, PlanError, pipelineOf, loadInsideTurn, turnKind, matmulsAdjacentInBody,
  TILE_SCHEDULERS, O_STORES, SOFTCAP_TANHS, BLOCK_MS, type SoftcapTanh, type BlockM, type RegisterSplit, type OStore, type HeadDim, type KernelPlan, type TileScheduler, type LoadPath, type Pipeline, type POperand, type QDescriptors, type Turn,
} from './plan.js';
import { describeLayout, HOPPER_MAX_SHARED_BYTES, oStoreInQ, smemLayout } from './smem.js';
import { verify } from './verify.js';
import type { Dtype } from './wgmma.js';

export interface Problem {
  headDim: HeadDim;
  dtype?: Dtype;
  causal?: boolean;
  /** A sliding window is applied (its sides are launch arguments). */
  window?: boolean;
  /** Logits are softcapped (the cap is a launch argument). */
  softcap?: boolean;
  /** Sequences are packed with cumulative lengths (launch arguments). */
  varlen?: boolean;
  /**
   * The query length (the longest, for packed sequences) the kernel is for: picks the tile
   * scheduler when the caller leaves it out (defaultScheduler). Without it, 'grid'.
   */
  seqQ?: number;
}

export interface Knobs {
  load?: LoadKind;
  blockM?: BlockM;
  blockN?: number;
  warpSpecialized?: boolean;
  pingpong?: boolean;
  pShared?: boolean;
  /** Tile scheduling: one CTA per tile ('grid') or a persistent grid ('static' | 'dynamic'). */
  scheduler?: TileScheduler;
  /** How O leaves: st.global from registers, or through shared memory and a TMA store (plan.ts OStore). */
  oStore?: OStore;
  /** Split the steady loop so that trips needing no mask run without mask code (plan.ts peelMasks). */
  peelMasks?: boolean;
  /** 1 or 2: CTAs of a cluster sharing each K/V tile by TMA multicast (plan.ts kvShare); default the plan's choice. */
  kvShare?: 1 | 2;
  /** 1 or 2: Q buffers of a persistent kernel (plan.ts qBuffers); default the plan's choice. */
  qBuffers?: 1 | 2;
  /** The persistent tile loop rotated around each tile's first QK^T (plan.ts crossTile); default off. */
  crossTile?: boolean;
  /** How tanh is computed with a softcap (plan.ts SoftcapTanh); only with softcap. */
  softcapTanh?: SoftcapTanh | null;
  /** Conditional rescaling: MUL only where a row's max rose by more than 2^8 (plan.ts lazyRescale); default the plan's choice. */
  lazyRescale?: boolean;
  /** The static scheduler's partial last round split along the keys (plan.ts splitTail); default off. */
  splitTail?: boolean;
  /** Compile with the bounded mbarrier wait that traps instead of hanging. */
  hangTrap?: boolean;
}

/**
 * Every knob's name, once: callers that copy knobs from a wider object (the config API) copy these,
 * so a knob added to Knobs cannot be dropped on the way (the `satisfies` check fails to compile
 * until it is listed here).
 */
export const KNOB_NAMES = ['load', 'blockM', 'blockN', 'warpSpecialized', 'pingpong', 'pShared', 'scheduler', 'oStore', 'peelMasks', 'kvShare', 'qBuffers', 'crossTile', 'softcapTanh', 'lazyRescale', 'splitTail', 'hangTrap'] as const satisfies ReadonlyArray<keyof Knobs>;
type MissingKnob = Exclude<keyof Knobs, (typeof KNOB_NAMES)[number]>;
/** Whether `key` names a knob (KNOB_NAMES): the one test behind choose()'s, the tensor API's and bench --knobs' checks. */
export function isKnobName(key: string): key is keyof Knobs {
  return (KNOB_NAMES as readonly string[]).includes(key);
}
const knobNamesComplete: MissingKnob extends never ? true : MissingKnob = true;
void knobNamesComplete;

const DTYPES: readonly Dtype[] = ['f16', 'bf16'];
const LOADS: readonly LoadKind[] = ['tma', 'cp.async'];
const BLOCK_N_CHOICES = [128, 112, 96, 80, 64, 48, 32, 16];

/**
 * Registers a thread may spend on the tiles the schedule keeps live (S, P and O accumulators);
 * the rest goes to addresses, softmax state and temporaries. Above this ptxas spills (measured
 * with ptxas -v: firstDot hd64 at 192 tile registers spilled). With a producer warpgroup the
 * consumers hold 240 registers each (setmaxnreg; ptxas allocates the consumer code to that):
 * 188 covers the widest tiles that compile clean among the candidates (hd256 n80: S 40 + P 20 +
 * O 128; firstDot hd128 n96 with P in registers: 2 x 48 + 24 + 64), and with P in shared memory
 * 192 (two 128-wide S tiles and O) compiled clean (bench/NOTES.md, session 3 step 2). Wider tiles
 * than the candidates spill well below this (hd128 n160, 184 tile registers), so an explicit
 * blockN is checked by ptxas alone.
 */
export const TILE_REGISTER_BUDGET = { inline: 184, producer: 188, producerPShared: 192, threeConsumers: 108, threeConsumersPShared: 128, threeConsumersPSharedMasked: 120 } as const;

/**
 * setmaxnreg with a producer warpgroup. The launch allocates the same count to every thread (65536
 * registers over the CTA, in steps of 8: 168 for 384 threads, 128 for 512); the producer gives up
 * what the consumers take, exactly (ptx.cuh): two consumers 24 / 240 (FA3's split), three 32 / 160
 * (FA3's for three consumer warpgroups at head dim 64).
 */
export function registerSplitFor(consumerWarpgroups: number): RegisterSplit {
  return consumerWarpgroups === 3 ? { producer: 32, consumer: 160 } : { producer: 24, consumer: 240 };
}

export function tileRegisters(headDim: number, blockN: number, pOperand: POperand, sTiles: number, pTiles: number): number {
  return sTiles * (blockN / 2) + (pOperand === 'shared' ? 0 : pTiles * (blockN / 4)) + headDim / 2;
}

/**
 * With three consumer warpgroups (160 registers each): 108 tile registers with P in registers, 128
 * with P in shared memory, 120 with P in shared memory and a mask. ptxas at 160 (NOTES 2026-11-27
 * session 7 and 2026-11-28 session 8): hd64 n96 with P in registers (104) compiled clean with every
 * feature, n112 (116) spilled 144 B; hd128 n128 with P in shared memory (128: S 64 + O 64) compiled
 * clean for baseline and secondDot in f16 and bf16, but causal secondDot spilled 4 B (n112 clean
 * with a window and packed sequences too). Softcap at hd128 spills at 192 rows even at n96 (choose
 * keeps it at 128 rows).
 */
export function tileRegisterBudget(loads: LoadPath, pOperand: POperand, consumerWarpgroups = 2, masked = false): number {
  if (loads !== 'tma-producer') return TILE_REGISTER_BUDGET.inline;
  if (consumerWarpgroups === 3) {
    if (pOperand !== 'shared') return TILE_REGISTER_BUDGET.threeConsumers;
    return masked ? TILE_REGISTER_BUDGET.threeConsumersPSharedMasked : TILE_REGISTER_BUDGET.threeConsumersPShared;
  }
  return pOperand === 'shared' ? TILE_REGISTER_BUDGET.producerPShared : TILE_REGISTER_BUDGET.producer;
}

function checkBoolean(value: unknown, name: string): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${typeof value}`);
  return value;
}

interface Checked {
  headDim: HeadDim;
  dtype: Dtype;
  causal: boolean;
  window: boolean;
  softcap: boolean;
  varlen: boolean;
  load: LoadKind;
  /** The caller's blockM; choose() fills it in (chooseBlockM) before anything reads it. */
  blockM?: BlockM;
  blockN?: number;
  warpSpecialized?: boolean;
  pingpong?: boolean;
  pShared?: boolean;
  scheduler?: TileScheduler;
  oStore?: OStore;
  peelMasks?: boolean;
  kvShare?: 1 | 2;
  qBuffers?: 1 | 2;
  crossTile?: boolean;
  softcapTanh?: SoftcapTanh;
  lazyRescale?: boolean;
  splitTail?: boolean;
  seqQ?: number;
  hangTrap: boolean;
}

/** Every field's type and range, and the combinations no kernel implements; throws naming the argument. */
function checkInput(problem: Problem, knobs: Knobs): Checked {
  if (typeof problem !== 'object' || problem === null) throw new TypeError('problem must be an object with headDim');
  if (typeof knobs !== 'object' || knobs === null) throw new TypeError('knobs must be an object');
  // A misspelt knob would otherwise run the default kernel under the caller's name for it.
  for (const key of Object.keys(knobs)) {
    if (!isKnobName(key)) throw new RangeError(`knobs.${key} is not a kernel knob (known: ${KNOB_NAMES.join(', ')})`);
  }
  const headDim = problem.headDim;
  if (!HEAD_DIMS.includes(headDim)) throw new RangeError(`headDim must be one of ${HEAD_DIMS.join(', ')}, got ${String(headDim)}`);
  const dtype = problem.dtype ?? 'f16';
  if (!DTYPES.includes(dtype)) throw new RangeError(`dtype must be 'f16' or 'bf16', got ${String(dtype)}`);
  const causal = checkBoolean(problem.causal, 'causal') ?? false;
  const window = checkBoolean(problem.window, 'window') ?? false;
  const softcap = checkBoolean(problem.softcap, 'softcap') ?? false;
  const varlen = checkBoolean(problem.varlen, 'varlen') ?? false;
  const load = knobs.load ?? 'tma';
  if (!LOADS.includes(load)) throw new RangeError(`load must be 'tma' or 'cp.async', got ${String(load)}`);
  const blockM = knobs.blockM;
  if (blockM !== undefined && !BLOCK_MS.includes(blockM)) throw new RangeError(`blockM must be one of ${BLOCK_MS.join(', ')} (64 rows per consumer warpgroup), got ${String(blockM)}`);
  const blockN = knobs.blockN;
  if (blockN !== undefined && (!Number.isInteger(blockN) || blockN < 16 || blockN > 256 || blockN % 16 !== 0)) {
    throw new RangeError(`blockN must be a multiple of 16 in 16..256, got ${String(blockN)}`);
  }
  const warpSpecialized = checkBoolean(knobs.warpSpecialized, 'warpSpecialized');
  const pingpong = checkBoolean(knobs.pingpong, 'pingpong');
  const pShared = checkBoolean(knobs.pShared, 'pShared');
  const hangTrap = checkBoolean(knobs.hangTrap, 'hangTrap') ?? false;
  const peelMasks = checkBoolean(knobs.peelMasks, 'peelMasks');
  const seqQ = problem.seqQ;
  if (seqQ !== undefined && !(Number.isInteger(seqQ) && seqQ >= 1)) throw new RangeError(`seqQ must be a positive integer, got ${String(seqQ)}`);
  const scheduler = knobs.scheduler;
  if (scheduler !== undefined && !TILE_SCHEDULERS.includes(scheduler)) {
    throw new RangeError(`scheduler must be one of ${TILE_SCHEDULERS.map((x) => `'${x}'`).join(', ')}, got ${String(scheduler)}`);
  }
  const oStore = knobs.oStore;
  if (oStore !== undefined && !O_STORES.includes(oStore)) {
    throw new RangeError(`oStore must be one of ${O_STORES.map((x) => `'${x}'`).join(', ')}, got ${String(oStore)}`);
  }
  if (pingpong && blockM === 64) throw new RangeError('pingpong needs blockM 128 or 192 (two or three warpgroups to take turns)');
  // cp.async tiles end in a barrier over all threads, which would wait on the warpgroup that is
  // itself waiting for its ping-pong turn.
  if (pingpong && load !== 'tma') throw new RangeError("pingpong needs load 'tma' (cp.async completes through a CTA-wide barrier)");
  // The register splits (registerSplitFor) exist for two and three consumers.
  if (warpSpecialized && blockM === 64) throw new RangeError('warpSpecialized needs blockM 128 or 192 (two or three consumer warpgroups)');
  // 512 threads get 128 registers each at launch: three consumers compute only with the producer's.
  if (blockM === 192 && (load !== 'tma' || warpSpecialized === false)) {
    throw new RangeError("blockM 192 needs load 'tma' with the producer warpgroup (warpSpecialized): three consumer warpgroups take their 160 registers from it");
  }
  if (warpSpecialized && load !== 'tma') throw new RangeError("warpSpecialized needs load 'tma' (one producer thread issues bulk copies)");
  const kvShare = knobs.kvShare;
  if (kvShare !== undefined && kvShare !== 1 && kvShare !== 2) throw new RangeError(`kvShare must be 1 or 2, got ${String(kvShare)}`);
  const qBuffers = knobs.qBuffers;
  if (qBuffers !== undefined && qBuffers !== 1 && qBuffers !== 2) throw new RangeError(`qBuffers must be 1 or 2, got ${String(qBuffers)}`);
  const crossTile = checkBoolean(knobs.crossTile, 'crossTile');
  // null is configOf()'s spelling for a plan without a softcap: the default, as undefined.
  const softcapTanh = knobs.softcapTanh ?? undefined;
  if (softcapTanh !== undefined && !SOFTCAP_TANHS.includes(softcapTanh)) {
    throw new RangeError(`softcapTanh must be one of ${SOFTCAP_TANHS.map((x) => `'${x}'`).join(', ')}, got ${String(softcapTanh)}`);
  }
  if (softcapTanh !== undefined && !softcap) throw new RangeError(`softcapTanh '${softcapTanh}' needs softcap: without a cap no tanh is computed`);
  const lazyRescale = checkBoolean(knobs.lazyRescale, 'lazyRescale');
  const splitTail = checkBoolean(knobs.splitTail, 'splitTail');
  return { ...(splitTail !== undefined ? { splitTail } : {}), ...(lazyRescale !== undefined ? { lazyRescale } : {}), ...(softcapTanh !== undefined ? { softcapTanh } : {}), ...(kvShare !== undefined ? { kvShare } : {}), ...(qBuffers !== undefined ? { qBuffers } : {}), ...(crossTile !== undefined ? { crossTile } : {}), headDim, dtype, causal, window, softcap, varlen, load, ...(blockM !== undefined ? { blockM } : {}), blockN, warpSpecialized, pingpong, pShared, ...(scheduler ? { scheduler } : {}), ...(oStore ? { oStore } : {}), ...(peelMasks !== undefined ? { peelMasks } : {}), ...(seqQ !== undefined ? { seqQ } : {}), hangTrap };
}

/** Checked input with blockM decided. */
type Sized = Checked & { blockM: BlockM };

/**
 * Where 192 rows on one CTA per tile beat the persistent 128-row kernel inside its length (hd128,
 * no mask, window or packed sequences): from SHORT_192_MIN_SEQ_Q tokens, when 192-row blocks pad the
 * query length by at most SHORT_192_MAX_PAD over 128-row blocks. 192 rows run with lazyRescale
 * (chooseLazyRescale), the 128-row kernel without. Best schedule (secondDot at 192 rows) against the
 * best 128-row default (static, K/V shared), H200s, pooled medians of 8 interleaved rounds
 * (bench/NOTES.md session 18), by the two paddings' ratio: 2048 (1.031) +4.5% and +2.8% in two calls,
 * 1536 (1.000) +5.1%, 1664 (1.038) +2.3%, 1280 (1.050) -0.4%, 1792 (1.071) -0.9%, 1024 (1.125)
 * -7.5%. Session 14 had the same rule without lazyRescale (+1.0..+1.9% where it pads little) and
 * reverted it after a third machine read -0.2% at 2048. Past 2048 (persistentMaxSeqQ) 192 rows run
 * at every length.
 */
export const SHORT_192_MIN_SEQ_Q = 1536;
export const SHORT_192_MAX_PAD = 1.035;

/** 192-row blocks' padded query length over 128-row blocks' (1 where both divide it). */
export function paddingRatio192(seqQ: number): number {
  return (Math.ceil(seqQ / 192) * 192) / (Math.ceil(seqQ / 128) * 128);
}

/**
 * Whether a length inside the hd128 persistent span takes 192 rows on one CTA per tile (the rule
 * above), the length and features aside from what else 192 rows need (chooseBlockM): null when it
 * does, else why not.
 */
export function short192Blocker(c: { headDim: number; causal: boolean; window: boolean; varlen: boolean; seqQ?: number }): string | null {
  if (c.headDim !== 128 || c.causal || c.window || c.varlen) return 'hd128 without a mask, window or packed sequences only';
  if (c.seqQ === undefined) return 'no query length given';
  if (c.seqQ < SHORT_192_MIN_SEQ_Q) return `${c.seqQ} tokens < ${SHORT_192_MIN_SEQ_Q}`;
  const pad = paddingRatio192(c.seqQ);
  if (pad > SHORT_192_MAX_PAD) return `192-row blocks pad ${c.seqQ} tokens ${((pad - 1) * 100).toFixed(1)}% more than 128-row blocks (at most ${((SHORT_192_MAX_PAD - 1) * 100).toFixed(1)}%)`;
  return null;
}

/**
 * The blockM knob, else the measured default: 192 rows (three consumer warpgroups, 160 registers
 * each) where one CTA per tile runs a long loop, 128 elsewhere. On an H100 (NOTES 2026-11-28 session
 * 8), best schedule per shape against 128 rows: hd64 8k +8.3% / +10.9% causal, 4k +7.6% / +9.0%
 * (192 x 96, P in registers); hd128 with P in shared memory (192 x 128) 4k +6.6% / 0%, 8k +7.3% /
 * +5.6%, 16k +9.5% / +3.1%; hd128 at 1k 22-28% slower (six 192-row blocks for 1024 rows, and the
 * persistent kernel loses its O tiles). So 192 needs: TMA with the producer warpgroup, head dim
 * <= 128 (hd256's Q alone would take 96 KiB), one S tile (160 registers hold no second one at a
 * useful width), no softcap at hd128 (ptxas spills), and one CTA per tile over a long loop: a
 * query length past persistentMaxSeqQ (without one, 128) and no persistent scheduler asked for.
 */
function chooseBlockM(c: Checked, res: Resources, decisions: string[]): BlockM {
  if (c.blockM !== undefined) return c.blockM;
  // The P operand 192 rows would get (chooseVariant: one S tile, the producer warpgroup), and whether a caller's KV tile fits them.
  const pOperand: POperand = (c.pShared ?? defaultPShared({ sTiles: res.sTiles, loads: 'tma-producer', headDim: c.headDim, blockM: 192 })) ? 'shared' : 'registers';
  const over = c.blockN !== undefined && tileRegisters(c.headDim, c.blockN, pOperand, 1, res.pTiles) > tileRegisterBudget('tma-producer', pOperand, 3, c.causal || c.window);
  const why =
    c.load !== 'tma' || c.warpSpecialized === false ? 'no producer warpgroup'
    : c.headDim > 128 ? `head dim ${c.headDim}`
    : res.sTiles > 1 ? 'two S tiles'
    : c.softcap && c.headDim === 128 ? 'softcap at hd128 (ptxas spills 352-1192 B at 192 rows)'
    : c.headDim === 128 && c.pShared === false ? 'P in registers at hd128 (192 rows would leave a 48-wide KV tile)'
    : over ? `blockN ${c.blockN} does not fit 192 rows' 160 registers`
    : c.seqQ === undefined ? 'no query length given (192 rows lose 22-28% at 1k)'
    : c.scheduler !== undefined && c.scheduler !== 'grid' ? 'a persistent kernel asked for'
    : c.seqQ > persistentMaxSeqQ(c) ? null
    : short192Blocker(c) === null ? null
    : `a query length at most ${persistentMaxSeqQ(c)}: a persistent kernel (192 rows lose 22-28% at 1k${c.headDim === 128 && !c.causal && !c.window && !c.varlen ? `; ${short192Blocker(c)}` : ''})`;
  const short = why === null && c.seqQ! <= persistentMaxSeqQ(c);
  decisions.push(
    why === null
      ? short
        ? `blockM 192: one CTA per tile at 192 rows inside the persistent span, ${c.seqQ} tokens padded ${((paddingRatio192(c.seqQ!) - 1) * 100).toFixed(1)}% more than by 128 rows: with lazyRescale +2.8..+5.1% at hd128 1536-2048 on H200s (NOTES 2026-11-28 session 18)`
        : 'blockM 192: three consumer warpgroups where one CTA per tile runs a long loop, hd64 +4..+11% and hd128 +0..+10% on an H100 (NOTES 2026-11-28 session 8)'
      : `blockM 128: ${why} (192 rows need TMA with the producer warpgroup, head dim <= 128, one S tile and one CTA per tile; NOTES 2026-11-28 session 8)`,
  );
  return why === null ? 192 : 128;
}

interface Variant {
  loads: LoadPath;
  turn: Turn;
  pOperand: POperand;
}

/** P through shared memory by default: two S tiles with a producer warpgroup at head dim <= 128, or 192 rows at hd128 (see chooseVariant). */
function defaultPShared(x: { sTiles: number; loads: LoadPath; headDim: number; blockM: BlockM }): boolean {
  return (x.sTiles >= 2 && x.loads === 'tma-producer' && x.headDim <= 128) || (x.blockM === 192 && x.headDim === 128);
}

/** The variant knobs: the caller's, else the measured defaults. */
function chooseVariant(c: Sized, nest: LoopNest, res: Resources, decisions: string[]): Variant {
  // A producer warpgroup where it measured fastest: TMA loads and two or three consumer warpgroups, at every
  // head dim (hd256: 658 against 452 TFLOP/s inline on an H100; bench/NOTES.md, session 3 step 2).
  let producer = c.warpSpecialized;
  if (producer === undefined) {
    producer = c.load === 'tma' && c.blockM >= 128;
    decisions.push(`loads ${producer ? 'tma-producer' : c.load === 'tma' ? 'tma-inline' : 'cp.async'}: a producer warpgroup wherever TMA and two or three consumer warpgroups allow it (NOTES 2026-11-26 step 2)`);
  }
  const loads: LoadPath = c.load === 'cp.async' ? 'cp.async' : producer ? 'tma-producer' : 'tma-inline';
  // Ping-pong by default with a producer warpgroup where a turn holds just the two matmuls: within
  // the step (secondDot), or across the step boundary when softmax reads an S tile from a step
  // earlier (two S tiles, firstDot; baseline's wrap turn measured slower, NOTES 2026-11-25 session
  // 2 step 6), at head dim <= 128: at 256 the turns serialise more than they overlap (secondDot
  // hd256 n64: 568 with, 629 without; NOTES 2026-11-26 step 2).
  let pingpong = c.pingpong;
  if (pingpong === undefined) {
    const holds = matmulsAdjacentInBody(nest.body) || (turnKind(nest.body) === 'wrap' && res.sTiles >= 2);
    pingpong = loads === 'tma-producer' && holds && c.headDim <= 128;
    decisions.push(`turn ${pingpong ? turnKind(nest.body) : 'none'}: ping-pong with a producer warpgroup at head dim <= 128 where a turn holds just the matmuls (NOTES 2026-11-25 session 2 step 4, 2026-11-26 step 2)`);
  }
  const turn: Turn = pingpong ? turnKind(nest.body) : 'none';
  // P through shared memory by default where registers are tightest: two S tiles, a producer
  // warpgroup, head dim <= 128. At hd256 the tile is narrow either way and P in registers measured
  // faster (firstDot n48: 480 / 517 TFLOP/s causal / not, against 458 / 505 with P in shared memory
  // at n64; NOTES 2026-11-26 step 3).
  // With three consumer warpgroups at hd128, P in registers would leave a 48-wide KV tile; in shared
  // memory the tile is 128 wide (NOTES 2026-11-28 session 8). At hd64, 192 x 96 with P in registers
  // measured 492 / 479 TFLOP/s at 8k against 468 / 432 for 192 x 128 with P in shared memory.
  let pShared = c.pShared;
  if (pShared === undefined) {
    pShared = defaultPShared({ sTiles: res.sTiles, loads, headDim: c.headDim, blockM: c.blockM });
    decisions.push(`P in ${pShared ? 'shared memory' : 'registers'}: shared memory for two S tiles with a producer warpgroup at head dim <= 128, and for 192 rows at hd128 (NOTES 2026-11-25 session 2 step 3, 2026-11-26 step 3, 2026-11-28 session 8)`);
  }
  return { loads, turn, pOperand: pShared ? 'shared' : 'registers' };
}

/**
 * The KV tile and pipeline: the largest tile that fits both the register budget for the tiles this
 * schedule keeps live and the shared-memory limit. With a producer warpgroup, where the schedule's
 * ring depths leave no room for that tile, the rings shrink (K first: a 2-slot K ring measured as
 * fast as 3, a 2-slot V ring 20% slower; NOTES 2026-11-25 session 2 step 3) to the fewest slots that
 * stay deadlock-free (the producer's loads are not placed by the schedule anyway).
 */
function chooseTiling(c: Sized, v: Variant, nest: LoopNest, res: Resources, oStore: OStore, scheduler: TileScheduler, decisions: string[]): { pipeline: Pipeline; blockN: number } {
  const pipelines = [pipelineOf(nest, res, { loads: v.loads, turn: v.turn })];
  if (v.loads === 'tma-producer') {
    for (const ringLimit of [{ k: 2, v: res.vBuffers }, { k: 2, v: 2 }]) {
      if (ringLimit.k < res.kBuffers || ringLimit.v < res.vBuffers) pipelines.push(pipelineOf(nest, res, { loads: v.loads, turn: v.turn, ringLimit }));
    }
  }
  const budget = tileRegisterBudget(v.loads, v.pOperand, c.blockM / 64, c.causal || c.window);
  const candidates =
    c.blockN !== undefined
      ? [c.blockN]
      : BLOCK_N_CHOICES.filter((n) => tileRegisters(c.headDim, n, v.pOperand, res.sTiles, res.pTiles) <= budget);
  for (const blockN of candidates) {
    const pipeline = pipelines.find((p) => layoutOf(c, v, p, blockN, oStore, scheduler).launchBytes <= HOPPER_MAX_SHARED_BYTES);
    if (pipeline) {
      if (c.blockN === undefined) decisions.push(`blockN ${blockN}: the widest of ${BLOCK_N_CHOICES.join('/')} within ${budget} tile registers and shared memory`);
      if (pipeline !== pipelines[0]) decisions.push(`rings K ${pipeline.kBuffers} / V ${pipeline.vBuffers}, shallower than the schedule's, to fit blockN ${blockN}`);
      return { pipeline, blockN };
    }
  }
  const blockN = candidates[candidates.length - 1] ?? 16;
  const p = pipelines[pipelines.length - 1];
  const l = layoutOf(c, v, p, blockN, oStore, scheduler);
  throw new RangeError(
    `blockN ${blockN}: with blockM=${c.blockM}, headDim=${c.headDim} the kernel needs ${l.launchBytes} B of shared memory ` +
      `(${describeLayout(l, p.kBuffers, p.vBuffers)}): Hopper allows ${HOPPER_MAX_SHARED_BYTES} B per block`,
  );
}

function layoutOf(c: Pick<Sized, 'headDim' | 'blockM' | 'qBuffers'>, v: Pick<Variant, 'pOperand'>, p: Pipeline, blockN: number, oStore: OStore, scheduler: TileScheduler) {
  const qBuffers = qBuffersFor(c, scheduler);
  return smemLayout({
    headDim: c.headDim, blockM: c.blockM, blockN, kBuffers: p.kBuffers, vBuffers: p.vBuffers, qBuffers,
    pSharedTiles: v.pOperand === 'shared' ? p.pTiles : 0, oTile: oStore === 'tma', oInQ: oStoreInQ(oStore, scheduler, qBuffers),
  });
}

/**
 * The qBuffers knob (checkInput refuses 2 for one CTA per tile), else 1. Two Q buffers measured
 * slower on an H100 (NOTES 2026-11-28 session 12): with O staged in its tile's Q buffer, -2.3..-3.8%
 * at hd128 1k-2k, causal and not (the store's issuer waits at the next tile's first softmax for the
 * store to have read the buffer); with O from registers -1.0..+0.5% against one buffer, so loading
 * the next tile's Q a whole tile early buys nothing: one buffer's latency was hidden already. The
 * knob stays for the lead that needs the next tile's Q resident while a tile ends (its first QK^T
 * issued before the epilogue). With three consumer warpgroups ptxas spilled 76 B (hd64, 192 rows,
 * static, O by TMA), and the static 1k kernel with K/V shared by two CTAs 8 B.
 */
function qBuffersFor(c: Pick<Sized, 'qBuffers'>, scheduler: TileScheduler): 1 | 2 {
  // The scheduler as decided (a caller's, or the default for the query length): a knob of 2 is
  // refused, not dropped, when it comes out 'grid'.
  if (c.qBuffers === 2 && scheduler === 'grid') {
    throw new RangeError(`qBuffers 2 needs a persistent kernel (scheduler 'static' or 'dynamic'): one CTA per tile loads Q once; this plan has scheduler 'grid'`);
  }
  return scheduler === 'grid' ? 1 : (c.qBuffers ?? 1);
}

/**
 * The oStore knob, else the measured default. Through shared memory and a TMA store where the O
 * tiles cost no KV-tile width and no V slot (the K ring drops from 3 slots to 2 at hd128): an H100
 * A/B per schedule at the seven ci shapes (NOTES 2026-11-27 session 7) gave hd128 1k +14% / +20%
 * causal (best of each shape), 2k +13% / +8%, 4k +4-8%, 8k +1-3%, 16k -1..+4%; hd64 -2..+3%
 * (noise: kept on registers); hd256 -10..-20% with its own O tiles (blockN 80 -> 48), and with O
 * in Q's place (one CTA per tile, blockN kept) secondDot, its best schedule, -2..-3% while
 * baseline gained 3-11% (kept on registers; with O staged by stmatrix, session 15 on an H200 at
 * 8k non-causal: secondDot +1.0%, baseline +1.9%, below the 3% that would move the default).
 * Packed sequences take it too (a block crossing a sequence's end leaves from registers:
 * kernels/variants.cuh OStoreTmaPacked): on an H200, best TMA over best register config +11.6% / +17.3%
 * (GQA causal, 32 sequences of 256-2048 / 64 of 128-1024 tokens) and +7.4% (non-causal, 32 of
 * 512-2048), every round (NOTES session 16). Not from inline loads (not measured). A persistent
 * kernel with a window or softcap kept registers while ptxas spilled there with O staged by st.shared (20-132 B, session 7); with stmatrix (session 15) it compiles
 * clean, and on an H200 its best TMA config beat its best register config by +11.9% (window 2k
 * causal), +11.8% / +3.5% (softcap 1k / 4k causal) and +6.8% (softcap 1k), every round (NOTES
 * session 16).
 */
function chooseTilingAndStore(c: Sized, v: Variant, nest: LoopNest, res: Resources, scheduler: TileScheduler, decisions: string[]): { pipeline: Pipeline; blockN: number; oStore: OStore } {
  if (c.oStore !== undefined) return { ...chooseTiling(c, v, nest, res, c.oStore, scheduler, decisions), oStore: c.oStore };
  const why =
    v.loads !== 'tma-producer' ? 'loads without a producer warpgroup (not measured)'
    : c.headDim !== 128 ? `head dim ${c.headDim} (hd64 within noise; hd256 loses its KV-tile width in a persistent kernel, and with O in Q's place its best schedule measured -2..-3% on an H100 with st.shared staging, +1.0% on an H200 with stmatrix: NOTES session 15)`
    : null;
  // Each store's tiling once, its own decisions kept aside until the store is chosen.
  const tiled = (oStore: OStore) => {
    const notes: string[] = [];
    return { ...chooseTiling(c, v, nest, res, oStore, scheduler, notes), oStore, notes };
  };
  const pick = (t: ReturnType<typeof tiled>, why: string) => {
    decisions.push(why, ...t.notes);
    return { pipeline: t.pipeline, blockN: t.blockN, oStore: t.oStore };
  };
  const regs = tiled('registers');
  if (why !== null) return pick(regs, `oStore registers: ${why} (NOTES 2026-11-27 session 7)`);
  let tma: ReturnType<typeof tiled>;
  try {
    tma = tiled('tma');
  } catch {
    // A caller's blockN that fits only without O tiles: the register store.
    return pick(regs, `oStore registers: blockN ${regs.blockN} leaves no shared memory for O's tiles`);
  }
  if (tma.blockN === regs.blockN && tma.pipeline.vBuffers === regs.pipeline.vBuffers) {
    return pick(tma, c.varlen
      ? 'oStore tma: whole blocks of packed sequences through shared memory and a TMA store, a block crossing its sequence\'s end from registers, +7..+17% on an H200 (NOTES 2026-11-28 session 16)'
      : 'oStore tma: O through shared memory and a TMA store, hd128 +1-20% on an H100 (NOTES 2026-11-27 session 7)');
  }
  return pick(regs, `oStore registers: O's tiles would cost the KV tile or a V slot (blockN ${regs.blockN} -> ${tma.blockN}, V ${regs.pipeline.vBuffers} -> ${tma.pipeline.vBuffers})`);
}

/**
 * Q's descriptors made opaque where registers are short: two S tiles, or a producer warpgroup
 * without ping-pong (baseline 582 -> 599-611 TFLOP/s; with ping-pong it made secondDot slower;
 * NOTES 2026-11-25 session 2 step 5).
 */
function chooseQDescriptors(v: Variant, sTiles: number): QDescriptors {
  return sTiles > 1 || (v.loads === 'tma-producer' && v.turn === 'none') ? 'opaque' : 'visible';
}

/**
 * The longest query length that runs a persistent kernel by default, per head dim, for causal work
 * (a causal mask and no window: a tile visits from one KV tile to all of them) and for the rest
 * (no mask, or a window: past the window's length every tile visits about as many keys); one CTA
 * per tile beyond, and wherever no length is given. Measured on an H100 (bench/NOTES.md), best
 * schedule per scheduler:
 * - hd64 and hd128 without a mask, 2048: the static scheduler +7.2% at 1k and +4.7% at 2k over one
 *   CTA per tile (session 5); from 4k one CTA per tile at 192 rows leads (session 8).
 * - hd64 causal, 2048: at 4k the dynamic kernel ran 408.7 TFLOP/s against 427.6 for one CTA per
 *   tile at 192 rows (session 9).
 * - hd128 causal, 5120: the dynamic kernel at 128 rows against one CTA per tile at 192 rows, 3k
 *   +4.7%, 4k +6..+14% (four runs), 5k +4.6%, 6k -2.3%, 8k +1.1% (session 9).
 * - hd256 without a mask, 4096: the static scheduler against one CTA per tile, 4k +6.3%, 8k -6.1%
 *   (session 9).
 * - hd256 causal, every length: the dynamic scheduler against one CTA per tile, 3k +7.0%, 4k
 *   +4..+6%, 6k +14.4%, 8k +3.0%, 16k +1.8% (session 9).
 * Windows take the first column (not measured past 2048; a long sequence's windowed tiles are as
 * even as unmasked ones, where one CTA per tile led at hd256 8k).
 */
export const PERSISTENT_MAX_SEQ_Q: Readonly<Record<64 | 128 | 256, { readonly even: number; readonly causal: number }>> = {
  64: { even: 2048, causal: 2048 },
  128: { even: 2048, causal: 5120 },
  256: { even: 4096, causal: Infinity },
};

/** The longest query length that runs a persistent kernel by default, for these features (PERSISTENT_MAX_SEQ_Q). */
export function persistentMaxSeqQ(x: { causal: boolean; window: boolean; headDim: number }): number {
  const row = PERSISTENT_MAX_SEQ_Q[x.headDim as 64 | 128 | 256];
  return x.causal && !x.window ? row.causal : row.even;
}

/** Every finite length in PERSISTENT_MAX_SEQ_Q, ascending: the only lengths where a default changes. */
const LENGTH_BREAKPOINTS: readonly number[] = [...new Set(Object.values(PERSISTENT_MAX_SEQ_Q).flatMap((r) => [r.even, r.causal]).filter(Number.isFinite))].sort((a, b) => a - b);

/**
 * The query length to give choose() for a call of `seqQ` tokens: only which of the lengths in
 * PERSISTENT_MAX_SEQ_Q it falls between picks the kernel (the scheduler and blockM both split
 * there), so every length between two of them shares one value (and one cache entry), as does
 * every length past the last. Lengths up to the first are kept exact: short192Blocker decides by
 * the exact length's padding there. Any other default that splits elsewhere must be in that table;
 * test/codegen/warpgroups.test.ts checks the plans agree for lengths around every breakpoint.
 */
export function schedulerLength(seqQ: number): number {
  if (seqQ <= LENGTH_BREAKPOINTS[0]) return seqQ;
  for (const b of LENGTH_BREAKPOINTS) if (seqQ <= b) return b;
  return LENGTH_BREAKPOINTS[LENGTH_BREAKPOINTS.length - 1] + 1;
}

/** The lengths where schedulerLength changes class (for tests and messages). */
export function lengthBreakpoints(): readonly number[] {
  return LENGTH_BREAKPOINTS;
}

/**
 * The default tile scheduler: persistent for short query loops (static when every tile costs the
 * same, dynamic when masks or packed lengths make them uneven), one CTA per tile otherwise and
 * wherever there is no producer warpgroup.
 */
export function defaultScheduler(x: { loads: LoadPath; causal: boolean; window: boolean; headDim: number; varlen: boolean; sTiles: number; seqQ?: number }): TileScheduler {
  if (x.loads !== 'tma-producer' || x.seqQ === undefined || x.seqQ > persistentMaxSeqQ(x)) return 'grid';
  // Two S tiles in flight across the tile loop: ptxas serialised every wgmma (C7514) and the
  // persistent firstDot ran at 0.6-0.7x of its grid kernel (NOTES 2026-11-27 session 5, sweep 1).
  // A full wait before the steady loop now keeps it asynchronous, but with every feature on it
  // spills and it has not been timed: one CTA per tile until it is.
  if (x.sTiles > 1) return 'grid';
  return x.causal || x.window || x.varlen ? 'dynamic' : 'static';
}

/** The scheduler knob, else the default; a persistent grid needs the producer warpgroup (it walks the tiles ahead of the consumers). */
function chooseScheduler(c: Checked, v: Variant, sTiles: number, decisions: string[], short192 = false): TileScheduler {
  if (c.scheduler !== undefined) {
    if (c.scheduler !== 'grid' && v.loads !== 'tma-producer') {
      throw new RangeError(`scheduler '${c.scheduler}' needs the producer warpgroup (load 'tma' with warpSpecialized); this kernel's loads are ${v.loads}`);
    }
    return c.scheduler;
  }
  // 192 rows chosen inside the persistent span (chooseBlockM, short192Blocker) run one CTA per tile.
  const s = short192 ? 'grid' : defaultScheduler({ loads: v.loads, causal: c.causal, window: c.window, headDim: c.headDim, varlen: c.varlen, sTiles, ...(c.seqQ !== undefined ? { seqQ: c.seqQ } : {}) });
  if (v.loads === 'tma-producer') {
    if (short192) decisions.push(`scheduler grid: 192 rows chosen inside the persistent span run one CTA per tile (NOTES 2026-11-28 session 18)`);
    else decisions.push(
      `scheduler ${s}: persistent (static, or dynamic for masked or packed work) for query lengths up to ${persistentMaxSeqQ(c)} (hd${c.headDim}, ${c.causal && !c.window ? 'causal' : c.window ? 'a window' : 'no mask'}), ` +
        `one CTA per tile beyond${c.seqQ === undefined ? ' and when the length is not given' : ''}, and for two S tiles in flight (slower in a tile loop) (NOTES 2026-11-27 session 5, 2026-11-28 session 9)`,
    );
  }
  return s;
}

/**
 * Head dims where two CTAs sharing each K/V tile measured faster than one (static persistent
 * kernel, no turn): hd128 +1.1% at 1k and +0.9% at 2k (H200), +1.1% at 1k (H100); with a ping-pong
 * turn -0.4..-1.1% (NOTES 2026-11-28 session 11).
 */
const KV_SHARE_HEAD_DIMS: readonly number[] = [128];

/** The kvShare knob, checked against the plan, else the measured default. */
function chooseKvShare(c: Sized, v: Variant, scheduler: TileScheduler, decisions: string[]): 1 | 2 {
  const fits = scheduler === 'static' && v.loads === 'tma-producer' && !c.causal && !c.window && !c.varlen;
  if (c.kvShare !== undefined) {
    if (c.kvShare === 2 && !fits) {
      throw new RangeError(
        "kvShare 2 needs scheduler 'static' with load 'tma' and the producer warpgroup, and no causal mask, window or packed sequences (the two CTAs of a pair must visit the same K/V tiles); " +
          `this plan has scheduler '${scheduler}', loads ${v.loads}${c.causal ? ', causal' : ''}${c.window ? ', a window' : ''}${c.varlen ? ', packed sequences' : ''}`,
      );
    }
    return c.kvShare;
  }
  const qBlocks = c.seqQ === undefined ? undefined : Math.ceil(c.seqQ / c.blockM);
  const why =
    !fits ? `scheduler ${scheduler}${scheduler === 'static' ? ' with a mask, a window, packed sequences or no producer warpgroup' : ''}`
    : v.turn !== 'none' ? 'a ping-pong turn (-0.4..-1.1% at 1k-2k)'
    : c.blockM !== 128 ? `blockM ${c.blockM} (not measured)`
    : !KV_SHARE_HEAD_DIMS.includes(c.headDim) ? `head dim ${c.headDim} (not measured)`
    : qBlocks === undefined ? 'no query length given'
    : c.seqQ! > LENGTH_BREAKPOINTS[0] ? `a length class (${c.seqQ}), not the exact length: the parity of the block count is unknown`
    : qBlocks % 2 !== 0 ? `${qBlocks} query blocks per head, an odd count: a pair's second CTA would compute a block past the end`
    : null;
  decisions.push(
    why === null
      ? 'kvShare 2: two CTAs of a cluster share each K/V tile by TMA multicast, K/V read once per 256 query rows: +0.9..+1.1% at hd128 1k-2k (NOTES 2026-11-28 session 11)'
      : `kvShare 1: ${why} (two CTAs share K/V by default in the static persistent kernel at hd ${KV_SHARE_HEAD_DIMS.join('/')}, with no turn and an even number of query blocks; NOTES 2026-11-28 session 11)`,
  );
  return why === null ? 2 : 1;
}

/**
 * The splitTail knob (default off: correct on an H200 but 6-12% slower, on every tile and not only
 * the last round, at 1k-1.3k non-causal: bench/NOTES.md session 20; session 19 had estimated +0.8%),
 * checked: the split pieces share one KV range per tile, so the kernel must be the static persistent
 * one (its rounds are fixed by the grid) over tiles that all see every key (no mask, window or
 * packed sequences); the merge holds two consumer warpgroups' partial O in a workspace sized for
 * hd128 (launch_args.ts tailWorkspaceBytes) and runs in the plain tile loop (not the rotated one).
 */
function chooseSplitTail(c: Sized, v: Variant, scheduler: TileScheduler, kvShare: 1 | 2, crossTile: boolean, decisions: string[]): boolean {
  if (c.splitTail !== true) {
    if (scheduler === 'static' && !c.causal && !c.window && !c.varlen) decisions.push('splitTail off: the last round\'s key split measured 6-12% slower (NOTES 2026-11-29 session 20)');
    return false;
  }
  const why = [
    scheduler !== 'static' ? "scheduler 'static'" : null,
    v.loads !== 'tma-producer' ? 'the producer warpgroup (its TMA loads read the piece\'s first key)' : null,
    c.causal || c.window || c.varlen ? 'no causal mask, window or packed sequences' : null,
    c.blockM !== 128 ? 'blockM 128 (two consumer warpgroups)' : null,
    c.headDim > 128 ? 'head dim 64 or 128' : null,
    crossTile ? 'the plain tile loop (not crossTile)' : null,
    // The producer's 24 registers: hd64 with K/V shared spills 8 B without the split and 8-20 B with it.
    c.headDim === 64 && kvShare === 2 ? 'kvShare 1 at head dim 64 (ptxas spills the producer with K/V shared there)' : null,
  ].filter((x): x is string => x !== null);
  if (why.length) throw new RangeError(`splitTail needs ${why.join(', ')}`);
  return true;
}

/**
 * The crossTile knob (default off: correct on an H200 at every length but measured no faster, -2.3% at
 * 1k with K/V shared, -8..-9% at 2k; bench/NOTES.md session 13), checked:
 * the rotated loop (emit.ts crossTileConsumers) is written for a one-stage body MMA0, Softmax, MUL,
 * MMA1 with no turn, issues each tile's first QK^T before the previous tile ends (the next tile's
 * Q must be resident: two Q buffers; the epilogue's second half reads no accumulator: O by TMA), and
 * assumes every tile has a KV tile (no mask, no packed batch).
 */
function chooseCrossTile(c: Sized, v: Variant, p: Pipeline, scheduler: TileScheduler, oStore: OStore, qBuffers: 1 | 2): boolean {
  if (c.crossTile !== true) return false;
  const consumerOps = [...p.body].filter((b) => b.op !== 'loadK' && b.op !== 'loadV').sort((a, b) => a.stage - b.stage || a.pos - b.pos);
  const oneStage = consumerOps.map((b) => b.op).join(',') === 'MMA0,Softmax,MUL,MMA1' && consumerOps.every((b) => b.stage === consumerOps[0].stage);
  const why = [
    scheduler === 'grid' ? "scheduler 'static' or 'dynamic'" : null,
    v.loads !== 'tma-producer' ? 'the producer warpgroup' : null,
    v.turn !== 'none' ? 'no ping-pong turn' : null,
    !oneStage || p.sTiles !== 1 || p.releaseVAt !== 'Softmax' ? 'a one-stage body MMA0, Softmax, MUL, MMA1 (baseline\'s)' : null,
    qBuffers !== 2 ? 'qBuffers 2' : null,
    oStore !== 'tma' ? "oStore 'tma'" : null,
    c.causal || c.window || c.varlen ? 'no causal mask, window or packed sequences' : null,
  ].filter((x): x is string => x !== null);
  if (why.length) throw new RangeError(`crossTile needs ${why.join(', ')}`);
  return true;
}

export function choose(schedule: Schedule, problem: Problem, knobs: Knobs = {}): KernelPlan {
  validate(schedule);
  const checked = checkInput(problem, knobs);
  const nest = loopNest(schedule);
  const res = resources(schedule);
  const decisions: string[] = [];
  const c = { ...checked, blockM: chooseBlockM(checked, res, decisions) };
  const v = chooseVariant(c, nest, res, decisions);
  const inside = loadInsideTurn(nest.body.map((b, pos) => ({ ...b, pos })), v.turn, v.loads);
  if (inside) throw new RangeError(`pingpong: ${inside} sits between the matmuls of a turn; a load inside a warpgroup's turn can deadlock`);
  const short192 = checked.blockM === undefined && c.blockM === 192 && c.seqQ !== undefined && c.seqQ <= persistentMaxSeqQ(c);
  const scheduler = chooseScheduler(c, v, res.sTiles, decisions, short192);
  const kvShare = chooseKvShare(c, v, scheduler, decisions);
  const qBuffers = qBuffersFor(c, scheduler);
  const { pipeline, blockN, oStore } = chooseTilingAndStore(c, v, nest, res, scheduler, decisions);
  const qDescriptors = chooseQDescriptors(v, pipeline.sTiles);
  if (c.qBuffers === undefined && scheduler !== 'grid') {
    decisions.push('qBuffers 1: two Q buffers measured -2.3..-3.8% with O staged in them and -1.0..+0.5% with O from registers at hd128 1k-2k (NOTES 2026-11-28 session 12)');
  }
  const crossTile = chooseCrossTile(c, v, pipeline, scheduler, oStore, qBuffers);
  const splitTail = chooseSplitTail(c, v, scheduler, kvShare, crossTile, decisions);
  // Timed on an H100 at causal 1k-4k: -6%..+5% per config, no consistent sign, the best per shape flat.
  const peelMasks = c.peelMasks ?? false;
  if (c.peelMasks === undefined) decisions.push('peelMasks off: the peeled loop measured -6%..+5% at causal 1k-4k, no gain (NOTES 2026-11-27 session 7)');
  const consumerWarpgroups = (c.blockM / 64) as 1 | 2 | 3;
  const plan: KernelPlan = {
    schedule: { ...(schedule.name !== undefined ? { name: schedule.name } : {}), ops: schedule.ops },
    headDim: c.headDim,
    dtype: c.dtype,
    causal: c.causal,
    window: c.window,
    softcap: c.softcap,
    softcapTanh: chooseSoftcapTanh(c, pipeline.sTiles, decisions),
    lazyRescale: chooseLazyRescale(c, v.turn, scheduler, decisions),
    varlen: c.varlen,
    blockM: c.blockM,
    blockN,
    consumerWarpgroups,
    threads: 128 * consumerWarpgroups + (v.loads === 'tma-producer' ? 128 : 0),
    registerSplit: v.loads === 'tma-producer' ? registerSplitFor(consumerWarpgroups) : null,
    loads: v.loads,
    pOperand: v.pOperand,
    turn: v.turn,
    qDescriptors,
    scheduler,
    oStore,
    peelMasks,
    kvShare,
    qBuffers,
    crossTile,
    splitTail,
    pipeline,
    smem: layoutOf(c, v, pipeline, blockN, oStore, scheduler),
    registers: {
      tiles: tileRegisters(c.headDim, blockN, v.pOperand, pipeline.sTiles, pipeline.pTiles),
      budget: tileRegisterBudget(v.loads, v.pOperand, consumerWarpgroups, c.causal || c.window),
    },
    hangTrap: c.hangTrap,
    decisions,
  };
  const reasons = verify(plan);
  if (reasons.length) throw new PlanError(`the plan for schedule ${schedule.name ?? 'custom'} fails verification: ${reasons[0]}`, reasons);
  return plan;
}

/**
 * The knobs that select every variant the plan's enums allow: each load path x each P operand x
 * turns off / on (where ping-pong can exist), plus the one-warpgroup tile for the inline load
 * paths, plus the persistent schedulers. The tests and the sanitizer run iterate this; choose() still rejects, with its rule,
 * a combination a given schedule cannot take.
 */
export function variantKnobs(): Array<{ label: string; knobs: Knobs }> {
  const out: Array<{ label: string; knobs: Knobs }> = [];
  for (const loads of LOAD_PATHS) {
    const base: Knobs = loads === 'cp.async' ? { load: 'cp.async' }
      : loads === 'tma-producer' ? { load: 'tma', warpSpecialized: true, scheduler: 'grid' } : { load: 'tma', warpSpecialized: false };
    for (const pOperand of P_OPERANDS) {
      for (const pingpong of loads === 'cp.async' ? [false] : [false, true]) {
        out.push({ label: `${loads}, P in ${pOperand}${pingpong ? ', ping-pong' : ''}`, knobs: { ...base, pShared: pOperand === 'shared', pingpong } });
      }
    }
    if (loads !== 'tma-producer') out.push({ label: `${loads}, blockM 64`, knobs: { ...base, blockM: 64, pShared: false, pingpong: false } });
  }
  // The persistent kernel, both schedulers, across the P operands and turns.
  const producer: Knobs = { load: 'tma', warpSpecialized: true };
  out.push(
    { label: 'tma-producer, P in registers, ping-pong, static tiles', knobs: { ...producer, pShared: false, pingpong: true, scheduler: 'static' } },
    { label: 'tma-producer, P in shared, ping-pong, dynamic tiles', knobs: { ...producer, pShared: true, pingpong: true, scheduler: 'dynamic' } },
    { label: 'tma-producer, P in registers, dynamic tiles', knobs: { ...producer, pShared: false, pingpong: false, scheduler: 'dynamic' } },
    // O through shared memory and a TMA store (the default at hd128 only), persistent and one CTA per tile.
    { label: 'tma-producer, P in registers, ping-pong, static tiles, O by TMA', knobs: { ...producer, pShared: false, pingpong: true, scheduler: 'static', oStore: 'tma' } },
    { label: 'tma-producer, P in registers, ping-pong, O by TMA', knobs: { ...producer, pShared: false, pingpong: true, scheduler: 'grid', oStore: 'tma' } },
    // ... in Q's place from the loads without a producer warpgroup (a knob only): cp.async, and
    // consumer-issued TMA with one consumer warpgroup.
    { label: 'cp.async, O by TMA in Q\'s place', knobs: { load: 'cp.async', pShared: false, pingpong: false, oStore: 'tma' } },
    { label: 'tma-inline, blockM 64, O by TMA in Q\'s place', knobs: { load: 'tma', warpSpecialized: false, blockM: 64, pShared: false, pingpong: false, oStore: 'tma' } },
    // ... and O from registers where TMA is the default (hd128), persistent.
    { label: 'tma-producer, P in registers, dynamic tiles, O from registers', knobs: { ...producer, pShared: false, pingpong: false, scheduler: 'dynamic', oStore: 'registers' } },
    // The steady loop peeled by the masks (a knob until timed), persistent and one CTA per tile.
    { label: 'tma-producer, P in shared, ping-pong, dynamic tiles, masks peeled', knobs: { ...producer, pShared: true, pingpong: true, scheduler: 'dynamic', peelMasks: true } },
    { label: 'tma-producer, P in registers, masks peeled', knobs: { ...producer, pShared: false, pingpong: false, scheduler: 'grid', peelMasks: true } },
    // Three consumer warpgroups (192 query rows, 32 / 160 registers), one CTA per tile and persistent.
    { label: 'tma-producer, blockM 192, P in registers, ping-pong', knobs: { ...producer, blockM: 192, pShared: false, pingpong: true, scheduler: 'grid' } },
    { label: 'tma-producer, blockM 192, P in shared, ping-pong, dynamic tiles', knobs: { ...producer, blockM: 192, pShared: true, pingpong: true, scheduler: 'dynamic' } },
    { label: 'tma-producer, blockM 192, P in registers, static tiles, O by TMA', knobs: { ...producer, blockM: 192, pShared: false, pingpong: false, scheduler: 'static', oStore: 'tma' } },
    // Two Q buffers (a knob): O staged in the current one (static), and O from registers (dynamic).
    { label: 'tma-producer, P in registers, static tiles, O by TMA, two Q buffers', knobs: { ...producer, pShared: false, pingpong: false, scheduler: 'static', oStore: 'tma', qBuffers: 2 } },
    { label: 'tma-producer, P in shared, ping-pong, dynamic tiles, O from registers, two Q buffers', knobs: { ...producer, pShared: true, pingpong: true, scheduler: 'dynamic', oStore: 'registers', qBuffers: 2 } },
    // The rotated tile loop (a knob; baseline's one-stage body only), static and dynamic.
    { label: 'tma-producer, P in registers, static tiles, O by TMA, two Q buffers, rotated tile loop', knobs: { ...producer, pShared: false, pingpong: false, scheduler: 'static', oStore: 'tma', qBuffers: 2, crossTile: true } },
    { label: 'tma-producer, P in registers, dynamic tiles, O by TMA, two Q buffers, rotated tile loop', knobs: { ...producer, pShared: false, pingpong: false, scheduler: 'dynamic', oStore: 'tma', qBuffers: 2, crossTile: true } },
    // Two CTAs of a cluster sharing each K/V tile (no mask only), with and without a turn.
    { label: 'tma-producer, P in registers, static tiles, K/V shared by two CTAs', knobs: { ...producer, pShared: false, pingpong: false, scheduler: 'static', kvShare: 2 } },
    { label: 'tma-producer, P in shared, ping-pong, static tiles, K/V shared by two CTAs', knobs: { ...producer, pShared: true, pingpong: true, scheduler: 'static', kvShare: 2 } },
    // Conditional rescaling (lazyRescale) on each load path, turn, P operand, row count and tile loop.
    { label: 'cp.async, P in registers, conditional rescaling', knobs: { load: 'cp.async', pShared: false, pingpong: false, lazyRescale: true } },
    { label: 'tma-producer, P in registers, ping-pong, conditional rescaling', knobs: { ...producer, pShared: false, pingpong: true, scheduler: 'grid', lazyRescale: true } },
    { label: 'tma-producer, blockM 192, P in shared, ping-pong, conditional rescaling', knobs: { ...producer, blockM: 192, pShared: true, pingpong: true, scheduler: 'grid', lazyRescale: true } },
    { label: 'tma-producer, P in shared, ping-pong, dynamic tiles, masks peeled, conditional rescaling', knobs: { ...producer, pShared: true, pingpong: true, scheduler: 'dynamic', peelMasks: true, lazyRescale: true } },
    { label: 'tma-producer, P in registers, static tiles, O by TMA, two Q buffers, rotated tile loop, conditional rescaling', knobs: { ...producer, pShared: false, pingpong: false, scheduler: 'static', oStore: 'tma', qBuffers: 2, crossTile: true, lazyRescale: true } },
    { label: 'tma-producer, P in shared, ping-pong, static tiles, K/V shared by two CTAs, conditional rescaling', knobs: { ...producer, pShared: true, pingpong: true, scheduler: 'static', kvShare: 2, lazyRescale: true } },
  );
  return out;
}

/**
 * The softcapTanh knob, else the default 'exp2': on an H200 (NOTES 2026-11-28 session 16) it ran
 * +31% / +30% / +21% over 'tanhf' at hd128 softcap 1k causal / 1k / 4k causal and +16% at gemma2's
 * hd256 shape (best schedule each), with tanhf's errors (O's relL2 the same to two digits at every
 * cap and input scale tried, LSE within 7e-5). 'approx' ran another +11..+27% but its LSE errors
 * reached 2.2e-4, 16x tanhf's where logits near the cap: a knob. Two S tiles in flight (firstDot)
 * keep 'tanhf': at hd128 (P in shared memory, 192 tile registers of 192) ptxas spilled 8-28 B with
 * 'exp2' and none with 'tanhf' (nvcc 13.0; not timed). null without a softcap.
 */
function chooseSoftcapTanh(c: Checked, sTiles: number, decisions: string[]): SoftcapTanh | null {
  if (!c.softcap) return null;
  if (c.softcapTanh !== undefined) return c.softcapTanh;
  if (sTiles > 1) {
    decisions.push("softcapTanh tanhf: two S tiles in flight, where ptxas spilled 8-28 B with exp2 at hd128 and none with tanhf (NOTES 2026-11-28 session 16)");
    return 'tanhf';
  }
  decisions.push("softcapTanh exp2: +16..+31% over tanhf with its errors; approx (tanh.approx) +11..+27% more with 16x the LSE error, a knob (NOTES 2026-11-28 session 16)");
  return 'exp2';
}

/**
 * The lazyRescale knob, else on where an H200 measured it faster in two calls (NOTES 2026-11-28
 * session 17; best schedule against best, pooled medians): hd128 with 192 query rows (the one-CTA-
 * per-tile default at 4k-16k: +3.1/+2.4% 8k, +5.5/+5.3% 8k causal, +8.8/+4.9% 16k causal, +5.2/+0.8%
 * 4k; inside the persistent span, session 18), every hd256 plan (+4.3/+2.0%, causal +3.4/+2.7%) and
 * hd64 with 192 rows (+2.1/+1.8%). At hd128 with 128 rows, on only in a persistent kernel without
 * ping-pong turns and without a mask, window, softcap or packed sequences (the 1k-2k non-causal
 * kernel that baseline runs): +0.6..+1.8% in seven readings of four calls, each of 1024, 1280, 1536, 1664 and
 * 1792 tokens gaining (session 18); with turns (secondDot) it lost 1.6-9% in every call, with a
 * causal mask it read -1.3..+0.2%. Off at hd64 with 128 rows (not timed).
 */
function chooseLazyRescale(c: Checked & { blockM: BlockM }, turn: Turn, scheduler: TileScheduler, decisions: string[]): boolean {
  if (c.lazyRescale !== undefined) return c.lazyRescale;
  // A softcap or window: ptxas spilled 8-12 B with it (hd256 secondDot window + softcap, hd64
  // 192-row secondDot with every feature; nvcc 13.0) and none without; not timed.
  if (c.softcap || c.window) {
    decisions.push('lazyRescale off: with a softcap or window ptxas spilled 8-12 B where it was on (not timed; NOTES 2026-11-28 session 17)');
    return false;
  }
  const unmasked128 = c.headDim === 128 && c.blockM === 128 && turn === 'none' && scheduler !== 'grid' && !c.causal && !c.varlen;
  const on = c.headDim === 256 || c.blockM === 192 || unmasked128;
  decisions.push(on
    ? unmasked128
      ? "lazyRescale on: MUL only where a row's max rose by more than 2^8, +0.6..+1.8% at hd128 with 128 rows, no turns and no mask on H200s (NOTES 2026-11-28 session 18)"
      : `lazyRescale on: MUL only where a row's max rose by more than 2^8, +1.8..+8.8% at ${c.headDim === 256 ? 'hd256' : `hd${c.headDim} with 192 rows`} on an H200 (NOTES 2026-11-28 session 17)`
    : c.headDim === 128
      ? `lazyRescale off: at hd128 with 128 rows it lost with ping-pong turns (-1.6..-9%) and read -1.3..+0.2% with a causal mask (NOTES 2026-11-28 sessions 17, 18)`
      : `lazyRescale off: at hd${c.headDim} with ${c.blockM} rows, not timed (NOTES 2026-11-28 session 17)`);
  return on;
}

/** A schedule, or 'auto': the named schedule measured fastest for the kernel the input gets (chooseAuto). */
export type ScheduleChoice = Schedule | 'auto';

/**
 * Whether 'auto' takes baseline for this plan (made with baseline): hd128's persistent kernel at 128
 * query rows without a window, softcap or packed sequences. There baseline led secondDot in every
 * gate run on H100s and H200s (bench/results, sessions 9-18, eight runs, best/best): causal 1k
 * +5..+7%, 2k +2..+5%, 4k +3..+13%, non-causal 1k +1..+3%; llama3-8b (GQA 32/8, causal) 1k +6..+7%
 * and 2k +2..+5% in six runs (4k +5..+10% in four, -4% and -7% in two); chunked prefill (Nq < Nkv,
 * causal, session 14) +1..+3%. Everywhere else secondDot led or tied: hd64 -5..-8%, hd256
 * non-causal -9..-10%, hd128 192-row kernels -1..-4% (bench/NOTES.md session 18).
 */
export function autoTakesBaseline(plan: KernelPlan): boolean {
  return plan.headDim === 128 && plan.blockM === 128 && plan.scheduler !== 'grid' && !plan.window && !plan.softcap && !plan.varlen;
}

/**
 * schedule 'auto': the plan for baseline where autoTakesBaseline says so, else for secondDot (also
 * where the caller's knobs refuse baseline), with the choice as the plan's first decision.
 */
function chooseAuto(input: KernelConfigInput): KernelPlan {
  let base: KernelPlan | undefined;
  try {
    base = chooseFrom(NAMED.baseline, input);
  } catch {
    base = undefined; // knobs baseline cannot take: secondDot decides (and refuses with its own reason)
  }
  if (base !== undefined && autoTakesBaseline(base)) {
    base.decisions.unshift("schedule auto -> baseline: hd128's persistent kernel at 128 rows without a window, softcap or packed sequences, where baseline led secondDot by 1-13% in every gate run (NOTES 2026-11-28 session 18)");
    return base;
  }
  const plan = chooseFrom(NAMED.secondDot, input);
  plan.decisions.unshift(`schedule auto -> secondDot: ${base === undefined ? 'the knobs refuse baseline' : 'it led or tied baseline outside the persistent 128-row hd128 kernel'} (NOTES 2026-11-28 session 18)`);
  return plan;
}

/** choose() from the one-object spelling used by the API, the CLI and the bench; 'auto' picks a named schedule (chooseAuto). */
export function chooseFrom(schedule: ScheduleChoice, input: KernelConfigInput): KernelPlan {
  if (schedule === 'auto') return chooseAuto(input);
  const { headDim, dtype, causal, window, softcap, varlen, seqQ, ...knobs } = input;
  const problem: Problem = { headDim };
  if (seqQ !== undefined) problem.seqQ = seqQ;
  if (dtype !== undefined) problem.dtype = dtype;
  if (causal !== undefined) problem.causal = causal;
  if (window !== undefined) problem.window = window;
  if (softcap !== undefined) problem.softcap = softcap;
  if (varlen !== undefined) problem.varlen = varlen;
  return choose(schedule, problem, knobs);
}

