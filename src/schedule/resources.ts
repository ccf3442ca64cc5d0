// What a legal schedule costs: ring-buffer depths for K and V in shared memory and the
// number of S / P register tiles live at once. Derived, never chosen: the schedule decides.
import { ScheduleError } from './errors.js';
import type { OpName } from './ops.js';
import { bodyOrder, lastStage, type Schedule } from './schedule.js';
import { validate } from './validate.js';

export interface Resources {
  /** S, the largest stage: prologue and epilogue are S steps each. */
  numStages: number;
  kBuffers: number;
  vBuffers: number;
  sTiles: number;
  pTiles: number;
}

export interface TileConfig {
  blockM: number;
  blockN: number;
  headDim: number;
  elementBytes: number;
}

/** Hopper (sm_90) maximum dynamic shared memory per block: 227 KiB. */
export const HOPPER_MAX_SHARED_BYTES = 232448;
/** Slack for aligning the TMA destinations (128 B swizzle needs 1024 B alignment). */
export const ALIGNMENT_SLACK_BYTES = 1024;
export const MBARRIER_BYTES = 16;

export function resources(s: Schedule): Resources {
  validate(s);
  const stage = (op: OpName) => s.ops[op].stage;
  const order = bodyOrder(s);
  const before = (a: OpName, b: OpName) => order.indexOf(a) < order.indexOf(b);
  // loadK(j+d) runs in the same step as MMA0(j) when d = stage gap; d+1 slots keep the slot
  // that MMA0(j) reads untouched for the whole step, whatever the body order. This matters on
  // the GPU, where wgmma reads shared memory asynchronously after it is issued.
  const kBuffers = stage('MMA0') - stage('loadK') + 1;
  const vBuffers = stage('MMA1') - stage('loadV') + 1;
  // Register tiles are exact: S(j) is overwritten by MMA0(j+d) only if that runs before
  // Softmax(j) in the step they share.
  const live = (producer: OpName, consumer: OpName) =>
    Math.max(1, stage(consumer) - stage(producer) + (before(producer, consumer) ? 1 : 0));
  return {
    numStages: lastStage(s),
    kBuffers,
    vBuffers,
    sTiles: live('MMA0', 'Softmax'),
    pTiles: live('Softmax', 'MMA1'),
  };
}

export interface SharedMemoryLayout {
  q: number;
  kTile: number;
  vTile: number;
  kBuffers: number;
  vBuffers: number;
  mbarriers: number;
  total: number;
}

/** Q tile, the K and V rings, alignment slack, and the mbarriers (full + empty per slot, one for Q). */
export function sharedMemoryLayout(s: Schedule, tile: TileConfig): SharedMemoryLayout {
  const { kBuffers, vBuffers } = resources(s);
  const q = tile.blockM * tile.headDim * tile.elementBytes;
  const kvTile = tile.blockN * tile.headDim * tile.elementBytes;
  const mbarriers = 2 * kBuffers + 2 * vBuffers + 1;
  const total = q + kBuffers * kvTile + vBuffers * kvTile + ALIGNMENT_SLACK_BYTES + MBARRIER_BYTES * mbarriers;
  return { q, kTile: kvTile, vTile: kvTile, kBuffers, vBuffers, mbarriers, total };
}

export function sharedMemoryBytes(s: Schedule, tile: TileConfig): number {
  return sharedMemoryLayout(s, tile).total;
}

/** Throws ScheduleError (rule 'shared-memory') with the breakdown when the layout exceeds 227 KiB. */
export function checkFits(s: Schedule, tile: TileConfig): SharedMemoryLayout {
  const L = sharedMemoryLayout(s, tile);
  if (L.total <= HOPPER_MAX_SHARED_BYTES) return L;
  const op = L.kBuffers >= L.vBuffers ? 'loadK' : 'loadV';
  const name = s.name ?? 'custom';
  throw new ScheduleError(
    op,
    'shared-memory',
    `schedule ${name} with blockM=${tile.blockM}, blockN=${tile.blockN}, headDim=${tile.headDim}, elementBytes=${tile.elementBytes} ` +
      `needs ${L.total} B of shared memory (Q ${L.q}, K ${L.kBuffers} x ${L.kTile}, V ${L.vBuffers} x ${L.vTile}, ` +
      `${L.mbarriers} mbarriers x ${MBARRIER_BYTES}, alignment ${ALIGNMENT_SLACK_BYTES}): Hopper allows ${HOPPER_MAX_SHARED_BYTES} B per block`,
  );
}
