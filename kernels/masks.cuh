// masks.cuh: which KV tiles need the element mask, host and device alike, so a host program built
// from this same file (test/codegen/masks_mirror.test.ts) checks the peeled loop's bounds against
// the per-tile predicate the softmax uses.
//
// Query row i sees key j when j < seqK and, for each bounded side (>= 0), i + off - left <= j <=
// i + off + right (off = seqK - seqQ: bottom-right alignment; causal is right = 0).
#pragma once

#ifndef SW_HOST_DEVICE
#define SW_HOST_DEVICE __host__ __device__ __forceinline__
#endif

// Whether KV tile `tile` (absolute: keys tile * blockN ..) hides any key from any of the query rows
// row0 .. row0 + rows - 1: then the softmax masks it element by element.
SW_HOST_DEVICE bool tileNeedsMaskAt(int tile, int blockN, int seqK, int row0, int rows, int off, int left, int right) {
  const int col0 = tile * blockN, col1 = col0 + blockN - 1;
  if (col1 >= seqK) return true;
  const int row1 = row0 + rows - 1;
  return (right >= 0 && col1 > row0 + off + right) || (left >= 0 && col0 < row1 + off - left);
}

SW_HOST_DEVICE int floorDiv(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
SW_HOST_DEVICE int ceilDiv(int a, int b) { return -floorDiv(-a, b); }

// The absolute KV tiles [lo, hi) that hide no key from any of rows row0 .. row0 + rows - 1 (empty
// when hi <= lo). Tiles needing a mask form a prefix (a window's left edge) and a suffix (the
// diagonal or the window's right edge, and the last partial tile), so this range is exactly the
// complement of tileNeedsMaskAt over those rows.
struct TileSpan { int lo, hi; };
SW_HOST_DEVICE TileSpan unmaskedTiles(int blockN, int seqK, int row0, int rows, int off, int left, int right) {
  int hi = seqK / blockN;  // col1 < seqK  <=>  (tile + 1) * blockN <= seqK
  if (right >= 0) {
    const int h = floorDiv(row0 + off + right + 1, blockN);  // col1 <= row0 + off + right
    hi = h < hi ? h : hi;
  }
  int lo = 0;
  if (left >= 0) {
    const int l = ceilDiv(row0 + rows - 1 + off - left, blockN);  // col0 >= row1 + off - left
    lo = l > lo ? l : lo;
  }
  return {lo, hi};
}
