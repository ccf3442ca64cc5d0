import { describe, expect, it } from 'vitest';
import { median, summarize, tflops } from '../../src/bench/stats.js';

describe('median', () => {
  it('takes the middle of an odd count, unsorted input', () => {
    expect(median([5, 1, 3])).toBe(3);
  });
  it('averages the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('does not reorder its input', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
  it('rejects an empty list', () => {
    expect(() => median([])).toThrow(/empty/);
  });
});

describe('summarize / tflops', () => {
  it('keeps every sample and its median/min/max', () => {
    expect(summarize([2, 1, 4])).toEqual({ medianMs: 2, minMs: 1, maxMs: 4, samplesMs: [2, 1, 4] });
  });
  it('is flops / (ms * 1e9)', () => {
    // headline shape, non-causal: 4*8*16*8192^2*128 FLOPs in 1 ms
    const f = 4 * 8 * 16 * 8192 * 8192 * 128;
    expect(tflops(f, 1)).toBeCloseTo(f / 1e9, 6);
    expect(tflops(1e12, 2)).toBe(500);
  });
});
