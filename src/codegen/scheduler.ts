// The persistent kernel's tile order and how CTAs take tiles: plain functions of launch-time
// numbers, run on the CPU by the tests and mirrored line for line by the kernel
// (kernels/tiles.cuh: decodeTile, built for the host too and checked against this file by
// test/codegen/tiles_mirror.test.ts; kernels/variants.cuh: StaticTiles, DynamicTiles), whose launch
// arguments come from tileSpace() here.
//
// Order: the (batch, head) pairs are cut into sections of `headGroup` consecutive query heads, so
// many heads' K/V stay in L2 together (grouped-query heads that share a K/V head are adjacent);
// inside a section the query blocks run longest first (the last block of a causal or windowed
// head sees the most keys), each block for every head of the section before the next block.
// FlashAttention-3's hopper/tile_scheduler.hpp orders its dynamic scheduler the same way.
//
//   section 0 (heads 0..G-1)            section 1 (heads G..2G-1)
//   t: 0 .. G-1   -> block M-1, head 0..G-1    t: G*M ..        -> block M-1, heads G..
//      G .. 2G-1  -> block M-2, head 0..G-1    ...
//      ...
import type { TileScheduler } from './plan.js';

export interface TileSpace {
  /** batch * query heads. */
  batchHeads: number;
  /** Query blocks per head (the longest sequence's, for packed batches). */
  qBlocks: number;
  /** Query heads per section (a multiple of the GQA group size unless it covers every head). */
  headGroup: number;
  /** Blocks walk from the last (masked problems: the last block sees the most keys). */
  reversed: boolean;
  numTiles: number;
}

export interface TileSpaceInput {
  batch: number;
  headsQ: number;
  headsKV: number;
  headDim: number;
  seqQ: number;
  seqK: number;
  blockM: number;
  /** Causal or windowed: later blocks see more keys (a window: as many, and the order is harmless). */
  masked: boolean;
  /** The device's L2 size in bytes. */
  l2Bytes: number;
  /** CTAs of the persistent launch (tiles in flight at once). */
  ctas: number;
  /**
   * 2: two CTAs of a cluster take query blocks 2i and 2i + 1 of one head and share its K/V tiles
   * (plan.ts kvShare). An odd block count gets one more block per head, past the sequence's end:
   * its CTA computes on Q rows the TMA zero-fills and stores nothing (its O rows are clipped, its
   * LSE rows guarded), while its half of every K/V tile feeds its peer. Default 1.
   */
  kvShare?: 1 | 2;
}

/** The share of L2 the K/V of one section may fill: the rest holds Q and O in flight. */
export const L2_SHARE = 0.5;

/**
 * The tile space of one launch and its section size. A section is as many heads as the launch has
 * CTAs for all their query blocks at once: every block of a head then runs at about the same time,
 * and each K/V tile comes from DRAM once and from L2 for the other blocks. Larger sections (all the
 * heads whose K/V fit half of L2, as a first version did) cost 10% at 4k-8k tokens non-causal:
 * fewer blocks of a head in flight together, more passes over its K/V (bench/NOTES.md, session 5).
 * Sections hold whole GQA groups and never more K/V than the L2 share.
 */
export function tileSpace(x: TileSpaceInput): TileSpace {
  const blocks = Math.max(1, Math.ceil(x.seqQ / x.blockM));
  const qBlocks = x.kvShare === 2 ? blocks + (blocks % 2) : blocks;
  const batchHeads = x.batch * x.headsQ;
  const group = x.headsQ / x.headsKV;
  const kvHeadBytes = Math.max(1, 2 * x.seqK * x.headDim * 2); // K and V of one K/V head, 16-bit
  const kvHeadsInL2 = Math.max(1, Math.floor((x.l2Bytes * L2_SHARE) / kvHeadBytes));
  const kvHeadsInFlight = Math.max(1, Math.floor(x.ctas / (qBlocks * group)));
  const headGroup = Math.max(1, Math.min(batchHeads, Math.min(kvHeadsInL2, kvHeadsInFlight) * group));
  return { batchHeads, qBlocks, headGroup, reversed: x.masked, numTiles: batchHeads * qBlocks };
}

/** Tile t of the order: its (batch * headsQ + head) and query block. Mirrors decodeTile in kernels/tiles.cuh. */
export function decodeTile(s: TileSpace, t: number): { bh: number; qBlock: number } {
  const sectionTiles = s.headGroup * s.qBlocks;
  const section = Math.floor(t / sectionTiles);
  const r = t - section * sectionTiles;
  const heads = Math.min(s.headGroup, s.batchHeads - section * s.headGroup);
  const i = Math.floor(r / heads);
  return { bh: section * s.headGroup + (r - i * heads), qBlock: s.reversed ? s.qBlocks - 1 - i : i };
}

/**
 * The magic of n / d for 0 <= n < 2^31 by a multiply-high and a shift (kernels/tiles.cuh fastDiv),
 * as one 64-bit kernel argument: shift * 2^32 + mul, mul = ceil(2^(32 + shift) / d) with
 * shift = ceil(log2 d) - 1; 0 for d = 1 (fastDiv returns n).
 */
export function fastDivisor(d: number): number {
  if (!Number.isInteger(d) || d < 1 || d > 0x7fffffff) throw new RangeError(`fastDivisor: the divisor must be an integer in 1..2^31 - 1, got ${d}`);
  if (d === 1) return 0;
  let c = 0;
  while (2 ** c < d) c++;
  const shift = c - 1;
  const mul = ((1n << BigInt(32 + shift)) + BigInt(d) - 1n) / BigInt(d);
  return shift * 2 ** 32 + Number(mul);
}

/** floor(n / d) as the kernel computes it from fastDivisor(d) (the CPU tests' mirror of fastDiv). */
export function fastDivide(n: number, magic: number): number {
  const mul = magic % 2 ** 32;
  if (mul === 0) return n;
  const shift = Math.floor(magic / 2 ** 32);
  return Number(((BigInt(n) * BigInt(mul)) >> 32n) >> BigInt(shift));
}

/**
 * The tile decode's divisors as the kernel takes them (TileWork in kernels/tiles.cuh): by a
 * section's tiles (headGroup x the decoded space's query blocks: half as many for the paired order
 * of kvShare 2), by headGroup, and by the last section's heads.
 */
export function tileDivisors(s: TileSpace, paired: boolean): { divSection: number; divGroup: number; divLastGroup: number } {
  const sections = Math.ceil(s.batchHeads / s.headGroup);
  return {
    divSection: fastDivisor(s.headGroup * (paired ? s.qBlocks / 2 : s.qBlocks)),
    divGroup: fastDivisor(s.headGroup),
    divLastGroup: fastDivisor(s.batchHeads - (sections - 1) * s.headGroup),
  };
}

/**
 * Tile t of a paired order (kvShare 2; mirrors decodePairTile in kernels/tiles.cuh): tiles 2p and
 * 2p + 1 are query blocks 2i and 2i + 1 of one head, pair p decoded as a tile of a space with half
 * as many query blocks. A static stride by an even grid hands them to CTAs 2k and 2k + 1, one
 * cluster. Never reversed: the pairs serve unmasked work only.
 */
export function decodePairTile(s: TileSpace, t: number): { bh: number; qBlock: number } {
  if (s.qBlocks % 2 !== 0) throw new RangeError(`decodePairTile: ${s.qBlocks} query blocks per head do not pair up`);
  const p = decodeTile({ ...s, qBlocks: s.qBlocks / 2, numTiles: s.numTiles / 2, reversed: false }, t >> 1);
  return { bh: p.bh, qBlock: 2 * p.qBlock + (t & 1) };
}

/**
 * CTAs of a persistent launch: one per SM (a CTA fills an SM's shared memory), never more than
 * tiles. Clusters of `clusterSize` CTAs (kvShare 2: pairs) need a multiple of it, at least one
 * cluster; numTiles is then a multiple of it too (tileSpace pads the query blocks).
 */
export function persistentGrid(numTiles: number, smCount: number, clusterSize: 1 | 2 = 1): number {
  const g = Math.max(1, Math.min(numTiles, smCount));
  return Math.max(clusterSize, g - (g % clusterSize));
}

/** The tiles CTA `cta` of `grid` computes under the static scheduler: cta, cta + grid, ... */
export function staticTiles(s: TileSpace, grid: number, cta: number): number[] {
  const out: number[] = [];
  for (let t = cta; t < s.numTiles; t += grid) out.push(t);
  return out;
}

/**
 * The dynamic scheduler on the CPU: every CTA starts at its own index; whenever one finishes a
 * tile (chosen by `pick` among the CTAs still running, given each CTA's current tile: a seeded
 * random, or the one whose work ends first) it takes counter + grid from the global counter. Returns each CTA's tiles, in order.
 * Mirrors DynamicTiles in attention.cuh; the counter starts at 0 (the last CTA of the previous
 * launch reset it).
 */
export function dynamicTiles(s: TileSpace, grid: number, pick: (running: number[], current: readonly number[]) => number): number[][] {
  const out: number[][] = Array.from({ length: grid }, () => []);
  let counter = 0;
  const current = Array.from({ length: grid }, (_, i) => i);
  const running = new Set<number>();
  for (let i = 0; i < grid; i++) if (current[i] < s.numTiles) running.add(i);
  while (running.size) {
    const cta = pick([...running], current);
    if (!running.has(cta)) throw new Error(`dynamicTiles: pick returned ${cta}, which is not running`);
    out[cta].push(current[cta]);
    current[cta] = counter++ + grid;
    if (current[cta] >= s.numTiles) running.delete(cta);
  }
  return out;
}

/** The launch grid for a scheduler: the tile space itself ('grid') or a persistent one. */
export function gridFor(scheduler: TileScheduler, s: TileSpace, smCount: number, clusterSize: 1 | 2 = 1): [number, number, number] {
  return scheduler === 'grid' ? [s.qBlocks, s.batchHeads, 1] : [persistentGrid(s.numTiles, smCount, clusterSize), 1, 1];
}

/** The most pieces a tail unit is split into (kernels/tiles.cuh TAIL_MAX_PIECES; the mirror test checks both). */
export const TAIL_MAX_PIECES = 4;

export interface TailSplit {
  /** Work items: whole units, then every piece of the tail units. */
  items: number;
  /** Units before the last round (a multiple of the grid's units). */
  fullUnits: number;
  /** Pieces per tail unit; 1: nothing is split. */
  pieces: number;
}

/**
 * The plan's splitTail (mirrors tailSplit in kernels/tiles.cuh): the last round's R = units % gridUnits
 * units each split into P = min(gridUnits / R, kvTiles, TAIL_MAX_PIECES) rounded down to a power of two pieces along the keys, so
 * the R * P pieces run side by side in one round; P < 2 splits nothing. A unit is a tile, or a pair
 * of tiles under kvShare 2 (gridUnits is then half the grid).
 */
export function tailSplit(units: number, gridUnits: number, kvTiles: number): TailSplit {
  const tail = units % gridUnits;
  const m = tail === 0 ? 1 : Math.min(Math.floor(gridUnits / tail), kvTiles);
  const p = m >= TAIL_MAX_PIECES ? TAIL_MAX_PIECES : m >= 2 ? 2 : 1; // a power of two: the kernel divides by shifts
  if (p < 2) return { items: units, fullUnits: units, pieces: 1 };
  return { items: units - tail + tail * p, fullUnits: units - tail, pieces: p };
}

/** Work item -> unit and piece (mirrors decodeItem in kernels/tiles.cuh). */
export function decodeItem(s: TailSplit, item: number): { unit: number; piece: number } {
  if (item < s.fullUnits) return { unit: item, piece: 0 };
  const q = item - s.fullUnits;
  const u = Math.floor(q / s.pieces);
  return { unit: s.fullUnits + u, piece: q - u * s.pieces };
}

/** The first KV tile of piece k of P = 2^shift over kvTiles (pieceStart in kernels/tiles.cuh). */
export function pieceStart(kvTiles: number, piece: number, shift: number): number {
  return (kvTiles * piece) >> shift;
}

/** Item -> tile, piece, pieces and split-tile index from the launch's tailFull and tailShift (mirrors tailPiece in kernels/tiles.cuh). */
export function tailPiece(tailFull: number, tailShift: number, kvShare: 1 | 2, item: number): { tile: number; piece: number; pieces: number; tailTile: number } {
  if (item < tailFull) return { tile: item, piece: 0, pieces: 1, tailTile: 0 };
  const q = item - tailFull;
  const unit = kvShare === 2 ? q >> 1 : q;
  const u = unit >> tailShift;
  const tailTile = kvShare === 2 ? 2 * u + (q & 1) : u;
  return { tile: tailFull + tailTile, piece: unit & ((1 << tailShift) - 1), pieces: 1 << tailShift, tailTile };
}

/**
 * The launch's tailFull and tailShift arguments (kernels/tiles.cuh tailPiece) for a static grid; no
 * split: numTiles and 0. Keys past 2^16 KV tiles are never split (the kernel's piece bounds stay in 32 bits).
 */
export function tailArgs(s: TileSpace, grid: number, kvTiles: number, kvShare: 1 | 2, splitTail: boolean): { tailFull: number; tailShift: number } {
  if (!splitTail || kvTiles >= 1 << 16) return { tailFull: s.numTiles, tailShift: 0 };
  const split = tailSplit(s.numTiles / kvShare, grid / kvShare, kvTiles);
  return { tailFull: split.fullUnits * kvShare, tailShift: Math.log2(split.pieces) };
}

/**
 * What CTA `cta` of a static launch computes with splitTail: for each of its work items the tile, the
 * KV tiles [kvBegin, kvEnd) and the piece (of `pieces`). Items are walked as the kernel walks them:
 * t = cta, cta + grid, ... over items (x2 for kvShare 2: rank t & 1 of unit item t >> 1).
 */
export function staticTailWork(s: TileSpace, grid: number, kvTiles: number, kvShare: 1 | 2 = 1): Array<{ tile: number; kvBegin: number; kvEnd: number; piece: number; pieces: number }>[] {
  const { tailFull, tailShift } = tailArgs(s, grid, kvTiles, kvShare, true);
  // The kernel's item count (emit.ts persistentBody): whole tiles, then 2^tailShift pieces per split tile.
  const items = s.numTiles + (s.numTiles - tailFull) * ((1 << tailShift) - 1);
  return Array.from({ length: grid }, (_, cta) => {
    const out: Array<{ tile: number; kvBegin: number; kvEnd: number; piece: number; pieces: number }> = [];
    for (let t = cta; t < items; t += grid) {
      const it = tailPiece(tailFull, tailShift, kvShare, t);
      const shift = Math.log2(it.pieces);
      out.push({ tile: it.tile, kvBegin: pieceStart(kvTiles, it.piece, shift), kvEnd: pieceStart(kvTiles, it.piece + 1, shift), piece: it.piece, pieces: it.pieces });
    }
    return out;
  });
}
