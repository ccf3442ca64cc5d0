// The dependence table of the forward-attention loop. Legality (validate.ts), the hazard
// tests and the docs all read this one table, so a new edge is added here and nowhere else.
import type { OpName } from './ops.js';

export interface Dependence {
  producer: OpName;
  consumer: OpName;
  /** 0: same iteration j. 1: the producer of iteration j-1 feeds the consumer of iteration j. */
  distance: 0 | 1;
  /** What flows, phrased for messages: "<consumer> ... reads <what> <verb> <producer>". */
  what: string;
  verb: string;
  /** Write-after-read: the consumer overwrites what the producer still has to read. */
  overwrites?: true;
}

export const DEPENDENCES: readonly Dependence[] = [
  { producer: 'loadK', consumer: 'MMA0', distance: 0, what: 'K(j)', verb: 'loaded by' },
  { producer: 'MMA0', consumer: 'Softmax', distance: 0, what: 'S(j)', verb: 'computed by' },
  { producer: 'Softmax', consumer: 'MUL', distance: 0, what: 'alpha(j)', verb: 'computed by' },
  { producer: 'MUL', consumer: 'MMA1', distance: 0, what: 'acc', verb: 'rescaled by' },
  { producer: 'Softmax', consumer: 'MMA1', distance: 0, what: 'P(j)', verb: 'packed by' },
  { producer: 'loadV', consumer: 'MMA1', distance: 0, what: 'V(j)', verb: 'loaded by' },
  // acc: MUL(j) rescales the sum that MMA1(j-1) has finished adding to.
  { producer: 'MMA1', consumer: 'MUL', distance: 1, what: 'acc', verb: 'accumulated by' },
  // alpha is a single register per row (no ring of alphas): Softmax(j) overwrites it, so
  // MUL(j-1) must have read alpha(j-1) first. Without this edge a schedule with
  // Softmax(j+1) ahead of MUL(j) is "legal" yet rescales acc by the wrong alpha.
  { producer: 'MUL', consumer: 'Softmax', distance: 1, what: 'alpha', verb: 'read by', overwrites: true },
  // The running max m and sum l, and acc itself: always satisfied, listed for completeness.
  { producer: 'Softmax', consumer: 'Softmax', distance: 1, what: 'm, l', verb: 'updated by' },
  { producer: 'MMA1', consumer: 'MMA1', distance: 1, what: 'acc', verb: 'accumulated by' },
];
