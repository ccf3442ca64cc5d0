// A tensor's layout: shape, strides and offset, all in elements, over a flat storage. Pure
// arithmetic with no device memory, so views and their bounds are checked (and tested) on any
// machine. Every function validates its arguments and throws a TypeError or RangeError naming
// the argument and the rule; none mutates its input.
//
// Element (i0, i1, ..., ik) of a layout sits at storage element offset + sum(ij * strides[j]).
// Dimensions are at least 1 (a tensor always has an element) and strides are non-negative, so
// the elements a layout reaches run from `offset` to `lastElement(layout)`.
import { requireArray, requireInteger, MAX_SAFE } from '../runtime/check.js';

export interface Layout {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

export const MAX_RANK = 8;

/** Row-major strides: the last dimension is contiguous. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = step;
    step *= shape[d];
  }
  return strides;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((n, size) => n * size, 1);
}

/** Checks a shape: 0..MAX_RANK integer dimensions, each at least 1, with a safe element count. */
export function checkShape(shape: unknown, name: string): number[] {
  const dims = requireArray(shape, name);
  if (dims.length > MAX_RANK) throw new RangeError(`${name} has rank ${dims.length}; at most ${MAX_RANK}`);
  dims.forEach((size, d) => requireInteger(size, `${name}[${d}]`, 1, MAX_SAFE));
  const count = numel(dims as number[]);
  if (count > MAX_SAFE) throw new RangeError(`${name} [${dims.join(', ')}] has ${count} elements; at most 2^53-1`);
  return [...(dims as number[])];
}

/** Checks strides for a shape: one non-negative integer per dimension. */
export function checkStrides(strides: unknown, shape: readonly number[], name: string): number[] {
  const list = requireArray(strides, name);
  if (list.length !== shape.length)
    throw new RangeError(`${name} must have one entry per dimension (${shape.length}), got ${list.length}`);
  list.forEach((s, d) => requireInteger(s, `${name}[${d}]`, 0, MAX_SAFE));
  return [...(list as number[])];
}

/** A checked layout; `offset + reach` must stay a safe integer. */
export function makeLayout(shape: unknown, strides: unknown, offset: unknown, name: string): Layout {
  const s = checkShape(shape, `${name}: shape`);
  const st = strides === undefined ? contiguousStrides(s) : checkStrides(strides, s, `${name}: strides`);
  const off = requireInteger(offset, `${name}: offset`, 0, MAX_SAFE);
  const layout = { shape: s, strides: st, offset: off };
  if (lastElement(layout) > MAX_SAFE) throw new RangeError(`${name}: the layout reaches past element 2^53-1`);
  return layout;
}

/** The largest storage element index the layout reaches. */
export function lastElement(layout: Layout): number {
  return layout.shape.reduce((last, size, d) => last + (size - 1) * layout.strides[d], layout.offset);
}

/** Row-major dense: the elements form one block in logical order (size-1 dims may have any stride). */
export function isContiguous(layout: Layout): boolean {
  let expected = 1;
  for (let d = layout.shape.length - 1; d >= 0; d--) {
    if (layout.shape[d] === 1) continue;
    if (layout.strides[d] !== expected) return false;
    expected *= layout.shape[d];
  }
  return true;
}

/** A dimension index, negative counting from the end (-1 is the last). */
export function checkDim(dim: unknown, rank: number, name: string): number {
  if (rank === 0) throw new RangeError(`${name}: a rank-0 tensor has no dimensions`);
  const d = requireInteger(dim, name, -rank, rank - 1);
  return d < 0 ? d + rank : d;
}

export function transposeLayout(layout: Layout, a: unknown, b: unknown, what = 'transpose'): Layout {
  const rank = layout.shape.length;
  const i = checkDim(a, rank, `${what}: dim a`);
  const j = checkDim(b, rank, `${what}: dim b`);
  const shape = [...layout.shape];
  const strides = [...layout.strides];
  [shape[i], shape[j]] = [shape[j], shape[i]];
  [strides[i], strides[j]] = [strides[j], strides[i]];
  return { shape, strides, offset: layout.offset };
}

/** Same elements, new shape: only for contiguous layouts (one entry may be -1, inferred). */
export function viewLayout(layout: Layout, shape: unknown, what = 'view'): Layout {
  const dims = requireArray(shape, `${what}: shape`);
  const count = numel(layout.shape);
  const inferred = dims.flatMap((size, d) => (size === -1 ? [d] : []));
  if (inferred.length > 1) throw new RangeError(`${what}: shape may infer at most one dimension (-1), got ${inferred.length}`);
  const known = dims.map((size, d) => (d === inferred[0] ? 1 : size));
  const wanted = checkShape(known, `${what}: shape`);
  if (inferred.length === 1) {
    const rest = numel(wanted);
    if (count % rest !== 0)
      throw new RangeError(`${what}: cannot infer shape[${inferred[0]}]: ${count} elements are not a multiple of ${rest}`);
    wanted[inferred[0]] = count / rest;
  }
  if (numel(wanted) !== count)
    throw new RangeError(`${what}: shape [${wanted.join(', ')}] has ${numel(wanted)} elements, the tensor [${layout.shape.join(', ')}] has ${count}`);
  if (!isContiguous(layout))
    throw new RangeError(
      `${what}: only a contiguous tensor can be viewed with a new shape; strides [${layout.strides.join(', ')}] for shape [${layout.shape.join(', ')}] are not row-major`,
    );
  return { shape: wanted, strides: contiguousStrides(wanted), offset: layout.offset };
}

/** Elements start..end-1 of one dimension (end exclusive, default the size; at least one kept). */
export function sliceLayout(layout: Layout, dim: unknown, start: unknown, end?: unknown, what = 'slice'): Layout {
  const d = checkDim(dim, layout.shape.length, `${what}: dim`);
  const size = layout.shape[d];
  const from = requireInteger(start, `${what}: start`, 0, size - 1);
  const to = end === undefined ? size : requireInteger(end, `${what}: end`, 0, size);
  if (to <= from) throw new RangeError(`${what}: end (${to}) must be greater than start (${from}): a slice keeps at least one element`);
  const shape = [...layout.shape];
  shape[d] = to - from;
  return { shape, strides: [...layout.strides], offset: layout.offset + from * layout.strides[d] };
}

/** Index `index` of one dimension, which disappears from the shape. */
export function selectLayout(layout: Layout, dim: unknown, index: unknown, what = 'select'): Layout {
  const d = checkDim(dim, layout.shape.length, `${what}: dim`);
  const i = requireInteger(index, `${what}: index`, 0, layout.shape[d] - 1);
  return {
    shape: layout.shape.filter((_, k) => k !== d),
    strides: layout.strides.filter((_, k) => k !== d),
    offset: layout.offset + i * layout.strides[d],
  };
}

/** Copies the layout's elements, in logical (row-major) order, from `src` into `out`; src[0]
 * is storage element `base` (a downloaded window of the storage). */
export function gather<T extends Float32Array | Uint16Array | Int32Array>(src: T, layout: Layout, base: number, out: T): void {
  const { shape, strides } = layout;
  const rank = shape.length;
  if (rank === 0) {
    out[0] = src[layout.offset - base];
    return;
  }
  const inner = shape[rank - 1];
  const innerStride = strides[rank - 1];
  const rows = numel(shape) / inner;
  const index = new Array<number>(rank - 1).fill(0);
  let at = layout.offset - base;
  let n = 0;
  for (let row = 0; row < rows; row++) {
    for (let i = 0, p = at; i < inner; i++, p += innerStride) out[n++] = src[p];
    // Odometer over the outer dimensions: bump the last, carrying into earlier ones.
    for (let d = rank - 2; d >= 0; d--) {
      if (++index[d] < shape[d]) {
        at += strides[d];
        break;
      }
      index[d] = 0;
      at -= (shape[d] - 1) * strides[d];
    }
  }
}
