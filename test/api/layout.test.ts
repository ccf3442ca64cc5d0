// Tensor layouts: shape/stride/offset arithmetic of views and every bound, with no device memory.
import { describe, expect, it } from 'vitest';
import {
  checkShape,
  contiguousStrides,
  gather,
  isContiguous,
  lastElement,
  makeLayout,
  selectLayout,
  sliceLayout,
  transposeLayout,
  viewLayout,
  type Layout,
} from '../../src/api/layout.js';

const L = (shape: number[], strides = contiguousStrides(shape), offset = 0): Layout => ({ shape, strides, offset });

function throwsRange(fn: () => unknown, message: RegExp) {
  expect(fn).toThrow(RangeError);
  expect(fn).toThrow(message);
}

describe('shapes and strides', () => {
  it('row-major strides, rank 0 included', () => {
    expect(contiguousStrides([2, 8, 128])).toEqual([1024, 128, 1]);
    expect(contiguousStrides([5])).toEqual([1]);
    expect(contiguousStrides([])).toEqual([]);
  });

  it('checks a shape: integers >= 1, at most rank 8, a safe element count', () => {
    expect(checkShape([2, 3], 'shape')).toEqual([2, 3]);
    expect(checkShape([], 'shape')).toEqual([]);
    throwsRange(() => checkShape([2, 0], 'shape'), /shape\[1\] must be in 1\.\./);
    throwsRange(() => checkShape([-1], 'shape'), /shape\[0\] must be in 1\.\./);
    throwsRange(() => checkShape([1.5], 'shape'), /shape\[0\] must be an integer/);
    throwsRange(() => checkShape(new Array(9).fill(1), 'shape'), /rank 9; at most 8/);
    throwsRange(() => checkShape([2 ** 30, 2 ** 30], 'shape'), /at most 2\^53-1/);
    expect(() => checkShape('2,3', 'shape')).toThrow(TypeError);
    expect(() => checkShape(['2'], 'shape')).toThrow(TypeError);
  });

  it('checks strides and offset, and the reach of the layout', () => {
    expect(makeLayout([2, 3], [1, 2], 5, 'x')).toEqual({ shape: [2, 3], strides: [1, 2], offset: 5 });
    expect(makeLayout([2, 3], undefined, 0, 'x').strides).toEqual([3, 1]);
    expect(makeLayout([4], [0], 0, 'x').strides).toEqual([0]); // a broadcast stride is allowed
    throwsRange(() => makeLayout([2, 3], [1], 0, 'x'), /x: strides must have one entry per dimension \(2\), got 1/);
    throwsRange(() => makeLayout([2, 3], [3, -1], 0, 'x'), /x: strides\[1\] must be in 0\.\./);
    throwsRange(() => makeLayout([2], [1], -1, 'x'), /x: offset must be in 0\.\./);
    throwsRange(() => makeLayout([2, 2], [2 ** 52, 2 ** 52], 0, 'x'), /reaches past element 2\^53-1/);
  });

  it('lastElement and isContiguous (size-1 dimensions may have any stride)', () => {
    expect(lastElement(L([2, 3, 4]))).toBe(23);
    expect(lastElement(L([2, 3], [1, 2], 7))).toBe(7 + 1 + 4);
    expect(isContiguous(L([2, 3, 4]))).toBe(true);
    expect(isContiguous(L([2, 1, 4], [4, 999, 1]))).toBe(true);
    expect(isContiguous(L([2, 3], [1, 2]))).toBe(false);
    expect(isContiguous(L([2, 3], [4, 1]))).toBe(false); // padded rows
    expect(isContiguous(L([]))).toBe(true);
  });
});

describe('views', () => {
  const bhnd = L([2, 8, 16, 64]);

  it('transpose swaps shape and strides, negative dims count from the end', () => {
    expect(transposeLayout(bhnd, 1, 2)).toEqual({ shape: [2, 16, 8, 64], strides: [8192, 64, 1024, 1], offset: 0 });
    expect(transposeLayout(bhnd, -1, 0)).toEqual({ shape: [64, 8, 16, 2], strides: [1, 1024, 64, 8192], offset: 0 });
    expect(transposeLayout(bhnd, 2, 2)).toEqual(bhnd);
    throwsRange(() => transposeLayout(bhnd, 4, 0), /transpose: dim a must be in -4\.\.3, got 4/);
    throwsRange(() => transposeLayout(bhnd, 0, -5), /transpose: dim b must be in -4\.\.3, got -5/);
    expect(() => transposeLayout(bhnd, '1' as never, 0)).toThrow(TypeError);
    throwsRange(() => transposeLayout(L([]), 0, 0), /a rank-0 tensor has no dimensions/);
  });

  it('view reshapes contiguous layouts, infers one -1, keeps the offset', () => {
    expect(viewLayout(bhnd, [16, 1024])).toEqual({ shape: [16, 1024], strides: [1024, 1], offset: 0 });
    expect(viewLayout(bhnd, [2, -1, 64])).toEqual({ shape: [2, 128, 64], strides: [8192, 64, 1], offset: 0 });
    expect(viewLayout(L([3, 4], [4, 1], 8), [12])).toEqual({ shape: [12], strides: [1], offset: 8 });
    expect(viewLayout(L([1]), [])).toEqual({ shape: [], strides: [], offset: 0 });
    throwsRange(() => viewLayout(bhnd, [-1, -1]), /at most one dimension \(-1\), got 2/);
    throwsRange(() => viewLayout(bhnd, [3, -1]), /cannot infer shape\[1\]: 16384 elements are not a multiple of 3/);
    throwsRange(() => viewLayout(bhnd, [2, 8]), /shape \[2, 8\] has 16 elements, the tensor \[2, 8, 16, 64\] has 16384/);
    throwsRange(() => viewLayout(bhnd, [0, 16384]), /shape\[0\] must be in 1\.\./);
    throwsRange(() => viewLayout(transposeLayout(bhnd, 1, 2), [16384]), /only a contiguous tensor can be viewed/);
  });

  it('slice narrows one dimension and moves the offset', () => {
    const s = sliceLayout(bhnd, 2, 4, 12);
    expect(s).toEqual({ shape: [2, 8, 8, 64], strides: [8192, 1024, 64, 1], offset: 256 });
    expect(sliceLayout(bhnd, -1, 32)).toEqual({ shape: [2, 8, 16, 32], strides: [8192, 1024, 64, 1], offset: 32 });
    expect(sliceLayout(s, 0, 1, 2).offset).toBe(256 + 8192);
    expect(isContiguous(sliceLayout(bhnd, 0, 1))).toBe(true);
    expect(isContiguous(sliceLayout(bhnd, 3, 0, 32))).toBe(false);
    throwsRange(() => sliceLayout(bhnd, 2, 16), /slice: start must be in 0\.\.15, got 16/);
    throwsRange(() => sliceLayout(bhnd, 2, 0, 17), /slice: end must be in 0\.\.16, got 17/);
    throwsRange(() => sliceLayout(bhnd, 2, 5, 5), /end \(5\) must be greater than start \(5\): a slice keeps at least one element/);
    throwsRange(() => sliceLayout(bhnd, 4, 0), /slice: dim must be in -4\.\.3/);
  });

  it('select drops one dimension at an index', () => {
    expect(selectLayout(bhnd, 1, 3)).toEqual({ shape: [2, 16, 64], strides: [8192, 64, 1], offset: 3072 });
    expect(selectLayout(bhnd, -1, 63)).toEqual({ shape: [2, 8, 16], strides: [8192, 1024, 64], offset: 63 });
    expect(selectLayout(L([5]), 0, 4)).toEqual({ shape: [], strides: [], offset: 4 });
    throwsRange(() => selectLayout(bhnd, 0, 2), /select: index must be in 0\.\.1, got 2/);
    throwsRange(() => selectLayout(bhnd, 0, -1), /select: index must be in 0\.\.1, got -1/);
  });

  it('never mutates the layout it is given', () => {
    const before = JSON.stringify(bhnd);
    transposeLayout(bhnd, 0, 3);
    sliceLayout(bhnd, 1, 2, 4);
    selectLayout(bhnd, 0, 1);
    viewLayout(bhnd, [-1]);
    expect(() => viewLayout(bhnd, [7])).toThrow();
    expect(JSON.stringify(bhnd)).toBe(before);
  });
});

describe('gather', () => {
  /** Storage element of each logical element, by explicit multi-index arithmetic. */
  function naive(layout: Layout): number[] {
    const out: number[] = [];
    const walk = (d: number, at: number) => {
      if (d === layout.shape.length) return void out.push(at);
      for (let i = 0; i < layout.shape[d]; i++) walk(d + 1, at + i * layout.strides[d]);
    };
    walk(0, layout.offset);
    return out;
  }

  function gathered(layout: Layout): number[] {
    const base = layout.offset;
    const storage = Float32Array.from({ length: lastElement(layout) - base + 1 }, (_, i) => base + i);
    const out = new Float32Array(naive(layout).length);
    gather(storage, layout, base, out);
    return Array.from(out);
  }

  it('reads views in logical order from a window of the storage', () => {
    const base = L([2, 3, 4]);
    expect(gathered(base)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(gathered(transposeLayout(base, 0, 2))).toEqual(naive(transposeLayout(base, 0, 2)));
    expect(gathered(L([], [], 7))).toEqual([7]);
    expect(gathered(L([3], [0], 2))).toEqual([2, 2, 2]);
  });

  it('agrees with multi-index arithmetic on random chains of views', () => {
    let seed = 7;
    const rand = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    for (let trial = 0; trial < 200; trial++) {
      let layout = L(Array.from({ length: 1 + rand(4) }, () => 1 + rand(5)));
      for (let step = 0; step < 4 && layout.shape.length > 0; step++) {
        const d = rand(layout.shape.length);
        const size = layout.shape[d];
        const op = rand(3);
        if (op === 0) layout = transposeLayout(layout, d, rand(layout.shape.length));
        else if (op === 1) {
          const start = rand(size);
          layout = sliceLayout(layout, d, start, start + 1 + rand(size - start));
        } else if (layout.shape.length > 1) layout = selectLayout(layout, d, rand(size));
      }
      expect(gathered(layout), JSON.stringify(layout)).toEqual(naive(layout));
    }
  });
});
