import { describe, it, expect } from 'vitest';
import {
  NAMED, schedule, resources, sharedMemoryBytes, sharedMemoryLayout, checkFits, ScheduleError, HOPPER_MAX_SHARED_BYTES,
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

describe('shared memory', () => {
  const tile = { blockM: 128, blockN: 128, headDim: 128, elementBytes: 2 };

  it('adds Q, the K and V rings, the alignment slack and the mbarriers', () => {
    const tileBytes = 128 * 128 * 2;
    expect(sharedMemoryBytes(NAMED.firstDot, tile)).toBe(tileBytes + 3 * tileBytes + 3 * tileBytes + 1024 + 16 * (2 * 3 + 2 * 3 + 1));
    expect(sharedMemoryLayout(NAMED.baseline, { ...tile, blockN: 64 })).toMatchObject({ q: tileBytes, kTile: tileBytes / 2, mbarriers: 13 });
  });

  it('passes a layout that fits and names the numbers when it does not', () => {
    expect(checkFits(NAMED.secondDot, tile).total).toBeLessThanOrEqual(HOPPER_MAX_SHARED_BYTES);
    let err: unknown;
    try {
      checkFits(NAMED.firstDot, { ...tile, headDim: 256 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScheduleError);
    const e = err as ScheduleError;
    expect(e.rule).toBe('shared-memory');
    expect(e.op).toBe('loadK');
    expect(e.message).toBe(
      'schedule firstDot with blockM=128, blockN=128, headDim=256, elementBytes=2 needs 459984 B of shared memory ' +
        '(Q 65536, K 3 x 65536, V 3 x 65536, 13 mbarriers x 16, alignment 1024): Hopper allows 232448 B per block',
    );
  });
});
