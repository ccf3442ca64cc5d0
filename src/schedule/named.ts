// The hand-written schedules. Clusters are chosen to give exactly the documented bodies.
import { schedule, type BuiltSchedule } from './schedule.js';

export const NAMED = Object.freeze({
  // MMA0(i) Softmax(i) MUL(i) MMA1(i) loadV(i+2) loadK(i+2): no overlap between the dots,
  // loads issued two iterations ahead.
  baseline: schedule({ loadK: [0, 5], loadV: [0, 4], MMA0: [2, 0], Softmax: [2, 1], MUL: [2, 2], MMA1: [2, 3] }, 'baseline'),
  // MMA0(i+1) Softmax(i) MUL(i) MMA1(i) loadK(i+3) loadV(i+2): the next QK^T is issued
  // before this iteration's softmax, so tensor cores and the softmax overlap.
  firstDot: schedule({ loadK: [0, 4], loadV: [1, 5], MMA0: [2, 0], Softmax: [3, 1], MUL: [3, 2], MMA1: [3, 3] }, 'firstDot'),
  // MMA0(i+1) MMA1(i) Softmax(i+1) MUL(i+1) loadK(i+3) loadV(i+2): FlashAttention-3's
  // intra-warpgroup overlap, the softmax of i+1 hidden behind the PV dot of i.
  secondDot: schedule({ loadK: [0, 4], loadV: [1, 5], MMA0: [2, 0], Softmax: [2, 2], MUL: [2, 3], MMA1: [3, 1] }, 'secondDot'),
}) satisfies Readonly<Record<string, BuiltSchedule>>;

export type NamedScheduleName = keyof typeof NAMED;
