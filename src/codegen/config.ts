// Kernel configuration: the tile shape and variant knobs of one generated kernel. Variants are
// data here, never a growing list of boolean template flags in the CUDA.
import type { Dtype } from './wgmma.js';

export type LoadKind = 'tma' | 'cp.async';

export interface KernelConfig {
  headDim: 64 | 128 | 256;
  dtype: Dtype;
  /** Query rows per CTA: 64 per consumer warpgroup, one or two warpgroups. */
  blockM: 64 | 128;
  /** KV rows per tile; a multiple of 16 (the k-step of the P V product). */
  blockN: number;
  load: LoadKind;
  causal: boolean;
  /**
   * Warpgroup ping-pong: the two consumer warpgroups take turns issuing each step's matmuls, so
   * one's softmax overlaps the other's tensor-core work. Needs blockM 128 and TMA loads.
   */
  pingpong: boolean;
  /**
   * A producer warpgroup issues every TMA load (in iteration order, as ring slots free up) and
   * gives its registers to the consumers; the schedule then orders the consumers' ops only, and
   * its load stages set the ring depths. Needs blockM 128 and TMA loads.
   */
  warpSpecialized: boolean;
  /**
   * P reaches the P V product through shared memory (wgmma with both operands in shared memory)
   * instead of registers. Frees the P registers, which lets a schedule that keeps two S tiles live
   * (firstDot) use a wide KV tile; costs a shared-memory round trip and a warpgroup barrier.
   */
  pShared: boolean;
}

export type KernelConfigInput = Partial<KernelConfig> & Pick<KernelConfig, 'headDim'>;

const HEAD_DIMS = [64, 128, 256] as const;
const DTYPES: readonly Dtype[] = ['f16', 'bf16'];
const LOADS: readonly LoadKind[] = ['tma', 'cp.async'];

/**
 * Registers a thread may spend on the tiles the schedule keeps live (S, P and O accumulators);
 * the rest goes to addresses, softmax state and temporaries. Above this ptxas spills (measured
 * with ptxas -v: firstDot hd64 at 192 tile registers spilled). With a producer warpgroup the
 * consumers hold 240 registers each (setmaxnreg; ptxas allocates the consumer code to that):
 * 188 covers the widest tiles that compile clean among the candidates (hd256 n80: S 40 + P 20 +
 * O 128; firstDot hd128 n96 with P in registers: 2 x 48 + 24 + 64), and with P in shared memory
 * 192 (two 128-wide S tiles and O) compiled clean. Wider tiles than the candidates spill well
 * below this (hd128 n160, 184 tile registers), so an explicit blockN is checked by ptxas alone.
 */
export const TILE_REGISTER_BUDGET = { inline: 184, warpSpecialized: 188, warpSpecializedPShared: 192 } as const;

/**
 * A producer warpgroup by default where it measured fastest: TMA loads and two consumer warpgroups,
 * at every head dim (hd256: 658 against 452 TFLOP/s inline on an H100, bench/NOTES.md).
 */
export function defaultWarpSpecialized(input: KernelConfigInput): boolean {
  return (input.load ?? 'tma') === 'tma' && (input.blockM ?? 128) === 128;
}

/**
 * Ping-pong by default with a producer warpgroup and TMA where a turn holds just the two matmuls
 * (`turnHoldsMatmuls`, from the schedule: within the step, or across the step boundary when
 * softmax reads an S tile from a step earlier; baseline's wrap turn measured slower), at head dim
 * <= 128: at 256 the turns serialise more than they overlap (secondDot hd256 n64: 568 with, 629
 * without).
 */
export function defaultPingpong(input: KernelConfigInput, warpSpecialized: boolean, turnHoldsMatmuls: boolean): boolean {
  return warpSpecialized && (input.load ?? 'tma') === 'tma' && turnHoldsMatmuls && input.headDim <= 128;
}

/**
 * P through shared memory by default where registers are tightest: two S tiles, producer
 * warpgroup, head dim <= 128. At hd256 the tile is narrow either way (O alone is 128 registers)
 * and P in registers measured faster (firstDot n48: 480 / 517 TFLOP/s causal / not, against
 * 458 / 505 with P in shared memory at n64; bench/NOTES.md).
 */
export function defaultPShared(sTiles: number, warpSpecialized: boolean, headDim: number): boolean {
  return sTiles >= 2 && warpSpecialized && headDim <= 128;
}

export function tileRegisters(cfg: Pick<KernelConfig, 'headDim' | 'blockN' | 'pShared'>, sTiles: number, pTiles: number): number {
  return sTiles * (cfg.blockN / 2) + (cfg.pShared ? 0 : pTiles * (cfg.blockN / 4)) + cfg.headDim / 2;
}

export function tileRegisterBudget(cfg: Pick<KernelConfig, 'warpSpecialized' | 'pShared'>): number {
  if (!cfg.warpSpecialized) return TILE_REGISTER_BUDGET.inline;
  return cfg.pShared ? TILE_REGISTER_BUDGET.warpSpecializedPShared : TILE_REGISTER_BUDGET.warpSpecialized;
}

/** Checks every field and names the argument and the rule when one is off. Returns a full config. */
export function checkConfig(
  input: KernelConfigInput,
  defaults: { blockN: number; pingpong: boolean; warpSpecialized: boolean; pShared: boolean },
): KernelConfig {
  const headDim = input.headDim;
  if (!HEAD_DIMS.includes(headDim)) {
    throw new RangeError(`headDim must be one of ${HEAD_DIMS.join(', ')}, got ${String(headDim)}`);
  }
  const dtype = input.dtype ?? 'f16';
  if (!DTYPES.includes(dtype)) throw new RangeError(`dtype must be 'f16' or 'bf16', got ${String(dtype)}`);
  const load = input.load ?? 'tma';
  if (!LOADS.includes(load)) throw new RangeError(`load must be 'tma' or 'cp.async', got ${String(load)}`);
  const blockM = input.blockM ?? 128;
  if (blockM !== 64 && blockM !== 128) throw new RangeError(`blockM must be 64 or 128 (64 rows per warpgroup), got ${String(blockM)}`);
  const blockN = input.blockN ?? defaults.blockN;
  if (!Number.isInteger(blockN) || blockN < 16 || blockN > 256 || blockN % 16 !== 0) {
    throw new RangeError(`blockN must be a multiple of 16 in 16..256, got ${String(blockN)}`);
  }
  const causal = input.causal ?? false;
  if (typeof causal !== 'boolean') throw new TypeError(`causal must be a boolean, got ${typeof causal}`);
  // Defaults: the fastest measured arrangement (bench/NOTES.md): TMA loads from a producer
  // warpgroup, and ping-pong where the schedule issues its two matmuls back to back.
  const warpSpecialized = input.warpSpecialized ?? defaults.warpSpecialized;
  const pingpong = input.pingpong ?? defaults.pingpong;
  if (typeof pingpong !== 'boolean') throw new TypeError(`pingpong must be a boolean, got ${typeof pingpong}`);
  if (pingpong && blockM !== 128) throw new RangeError('pingpong needs blockM 128 (two warpgroups to alternate)');
  // cp.async tiles end in a barrier over all threads, which would wait on the warpgroup that is
  // itself waiting for its ping-pong turn.
  if (pingpong && load !== 'tma') throw new RangeError("pingpong needs load 'tma' (cp.async completes through a CTA-wide barrier)");
  if (typeof warpSpecialized !== 'boolean') throw new TypeError(`warpSpecialized must be a boolean, got ${typeof warpSpecialized}`);
  // The register split (24 for the producer, 240 for each consumer) is sized for two consumers.
  if (warpSpecialized && blockM !== 128) throw new RangeError('warpSpecialized needs blockM 128 (two consumer warpgroups)');
  if (warpSpecialized && load !== 'tma') throw new RangeError("warpSpecialized needs load 'tma' (one producer thread issues bulk copies)");
  const pShared = input.pShared ?? defaults.pShared;
  if (typeof pShared !== 'boolean') throw new TypeError(`pShared must be a boolean, got ${typeof pShared}`);
  return { headDim, dtype, blockM, blockN, load, causal, pingpong, warpSpecialized, pShared };
}
