// What a legal schedule costs: ring-buffer depths for K and V in shared memory and the
// number of S / P register tiles live at once. Derived, never chosen: the schedule decides.
// Shared-memory sizes are the kernel plan's (src/codegen/smem.ts), not the schedule's: the kernel's
// rings may be deeper or shallower than these distances.
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
  const live = (producer: OpName, consumer: OpName) => liveTiles(stage(producer), stage(consumer), before(producer, consumer));
  return {
    numStages: lastStage(s),
    kBuffers,
    vBuffers,
    sTiles: live('MMA0', 'Softmax'),
    pTiles: live('Softmax', 'MMA1'),
  };
}

/**
 * Register tiles live at once for a value produced at `producerStage` and last read at
 * `consumerStage`: the producer of iteration j + d overwrites the tile before the consumer of j
 * reads it only when it runs first in the step they share.
 */
export function liveTiles(producerStage: number, consumerStage: number, producerFirst: boolean): number {
  return Math.max(1, consumerStage - producerStage + (producerFirst ? 1 : 0));
}
