// The one shared-memory model. The kernel takes every offset below as a constexpr from the plan
// (emit.ts), checks with static_assert that the regions neither overlap nor exceed the launch's
// dynamic shared memory, and the launch requests exactly `launchBytes`. The CLI, the SVG and the
// tests read these numbers from the plan; nothing else computes them.
import type { OStore, SmemLayout, TileScheduler } from './plan.js';

/** Hopper's largest dynamic shared memory per block (227 KiB): the only definition. */
export const HOPPER_MAX_SHARED_BYTES = 232448;
/**
 * The kernel rounds its shared-memory base up to 1024 B (the 128B swizzle pattern repeats every
 * 1024 bytes and TMA / wgmma assume it starts on such a boundary), so the launch asks for this
 * much more than the layout.
 */
export const ALIGNMENT_SLACK_BYTES = 1024;
/** One mbarrier (a 64-bit word). */
export const MBARRIER_BYTES = 8;
/** Tile-id slots between the persistent kernel's producer and its consumers (a ring of two). */
export const TILE_SLOTS = 2;

/**
 * A TMA-stored O takes Q's place where Q is dead by the epilogue: in a kernel of one CTA per tile
 * (Q is loaded once), and in a persistent kernel with two Q buffers (qBuffers 2), where tile n's O
 * is staged in tile n's buffer while tile n + 1's Q sits in the other. A persistent CTA with one Q
 * buffer loads the next tile's Q while the current one ends, so its O tiles have their own place.
 */
export function oStoreInQ(oStore: OStore, scheduler: TileScheduler, qBuffers: 1 | 2 = 1): boolean {
  return oStore === 'tma' && (scheduler === 'grid' || qBuffers === 2);
}

export interface LayoutInput {
  headDim: number;
  blockM: number;
  blockN: number;
  kBuffers: number;
  vBuffers: number;
  /** P tiles held in shared memory (0 when P stays in registers). */
  pSharedTiles: number;
  /** Q buffers (each one 64-row block per warpgroup): 2 lets a persistent CTA load tile n + 1's Q during tile n. Default 1. */
  qBuffers?: 1 | 2;
  /** O leaves through shared memory (oStore 'tma'): one tile per warpgroup. */
  oTile: boolean;
  /**
   * The O tiles take Q's place: one CTA per tile (Q is never loaded again), or the current tile's Q
   * buffer of two (qBuffers 2); each warpgroup's O tile is the Q block only its own QK^T reads,
   * retired before the epilogue.
   */
  oInQ?: boolean;
}

/**
 * Q (one 64-row block per warpgroup), the K ring, the V ring, the O tiles (or in Q's place), the P tiles,
 * then the barriers.
 * Every tile is a stack of 64-column blocks (rows x 128 B each), the canonical K-major
 * 128B-swizzled layout; K/V tiles stay 1024-byte aligned because blockN * 128 is a multiple of 1024
 * for every blockN that is a multiple of 8.
 */
export function smemLayout(x: LayoutInput): SmemLayout {
  const warpgroups = x.blockM / 64;
  const qBuffers = x.qBuffers ?? 1;
  const qWarpgroupBytes = 64 * x.headDim * 2;
  const qBufferBytes = warpgroups * qWarpgroupBytes;
  const tileBytes = x.blockN * x.headDim * 2;
  const q = 0;
  const k = q + qBuffers * qBufferBytes;
  const v = k + x.kBuffers * tileBytes;
  // O, per warpgroup: Q's geometry (the TMA store's box is Q's load box); in Q's place (with two Q
  // buffers, in the current tile's: the kernel adds the buffer's offset) or after V.
  const oInQ = x.oTile && (x.oInQ ?? false);
  const o = oInQ ? q : v + x.vBuffers * tileBytes;
  const oBytes = x.oTile ? warpgroups * qWarpgroupBytes : 0;
  const p = oInQ ? v + x.vBuffers * tileBytes : o + oBytes;
  // P, per tile and warpgroup: 64 rows x blockN 16-bit values, K-major without swizzle.
  const pSbo = x.blockN * 16;
  const pWarpgroupBytes = 8 * pSbo;
  const bars = p + x.pSharedTiles * warpgroups * pWarpgroupBytes;
  const fullK = bars;
  const emptyK = fullK + MBARRIER_BYTES * x.kBuffers;
  const fullV = emptyK + MBARRIER_BYTES * x.kBuffers;
  const emptyV = fullV + MBARRIER_BYTES * x.vBuffers;
  // One Q barrier per warpgroup and Q buffer (buffer-major): each warpgroup's 64-row Q block lands,
  // and in a persistent CTA is freed and refilled, on its own (with one buffer, the first warpgroup
  // to finish a tile's QK^T gets its next Q first).
  const fullQ = emptyV + MBARRIER_BYTES * x.vBuffers;
  // The persistent kernel's hand-offs (unused by a grid of one CTA per tile, but always laid out so
  // there is one formula): each Q block free for the next tile, and two tile-id slots with
  // full/empty barriers (the dynamic scheduler's producer publishes the next tile there).
  const emptyQ = fullQ + MBARRIER_BYTES * qBuffers * warpgroups;
  const tileFull = emptyQ + MBARRIER_BYTES * qBuffers * warpgroups;
  const tileEmpty = tileFull + MBARRIER_BYTES * TILE_SLOTS;
  const tileIds = tileEmpty + MBARRIER_BYTES * TILE_SLOTS;
  const end = tileIds + 4 * TILE_SLOTS;
  return {
    q, qWarpgroupBytes, qBuffers, qBufferBytes, k, v, tileBytes, o, oBytes, oInQ, p, pWarpgroupBytes, pSbo,
    fullK, emptyK, fullV, emptyV, fullQ, emptyQ, tileFull, tileEmpty, tileIds, end, launchBytes: end + ALIGNMENT_SLACK_BYTES,
  };
}

/** The breakdown for messages: "Q 32768, K 2 x 32768, V 3 x 32768, P 0, barriers 88, alignment 1024". */
export function describeLayout(l: SmemLayout, kBuffers: number, vBuffers: number): string {
  return (
    `Q ${l.qBuffers > 1 ? `${l.qBuffers} x ${l.qBufferBytes}` : l.k - l.q}, K ${kBuffers} x ${l.tileBytes}, V ${vBuffers} x ${l.tileBytes}, O ${l.oInQ ? `${l.oBytes} in Q's place` : l.oBytes}, P ${l.fullK - l.p}, ` +
    `barriers ${l.end - l.fullK}, alignment ${ALIGNMENT_SLACK_BYTES}`
  );
}
