import { describe, it, expect } from 'vitest';
import {
  NAMED, schedule, resources, ScheduleError,
} from '../../src/schedule/index.js';

describe('resources', () => {
  it('derives buffers and register tiles for the named schedules', () => {
    expect(resources(NAMED.baseline)).toEqual({ numStages: 2, kBuffers: 3, vBuffers: 3, sTiles: 1, pTiles: 1 });
    expect(resources(NAMED.firstDot)).toEqual({ numStages: 3, kBuffers: 3, vBuffers: 3, sTiles: 2, pTiles: 1 });
    expect(resources(NAMED.secondDot)).toEqual({ numStages: 3, kBuffers: 3, vBuffers: 3, sTiles: 1, pTiles: 1 });
  });

  it('counts a second P tile when Softmax(j+1) runs before MMA1(j) in their shared step', () => {
    // Softmax stage 2, MMA1 stage 3, Softmax earlier in the body: P(j) and P(j+1) both live.
    // MUL(j) sits between them (stage 2, last in the body) so alpha(j) is read in time.
    const s = schedule({ loadK: [0, 0], loadV: [0, 1], MMA0: [1, 2], Softmax: [2, 3], MMA1: [3, 4], MUL: [2, 5] });
    expect(resources(s)).toMatchObject({ sTiles: 2, pTiles: 2, kBuffers: 2, vBuffers: 4 });
  });

  it('an unpipelined schedule needs one of everything', () => {
    const s = schedule({ loadK: [0, 0], loadV: [0, 1], MMA0: [0, 2], Softmax: [0, 3], MUL: [0, 4], MMA1: [0, 5] });
    expect(resources(s)).toEqual({ numStages: 0, kBuffers: 1, vBuffers: 1, sTiles: 1, pTiles: 1 });
  });

  it('refuses an illegal schedule', () => {
    expect(() => resources(schedule({ loadK: [1, 0] }))).toThrow(ScheduleError);
  });
});
