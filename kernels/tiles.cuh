// tiles.cuh: the persistent kernel's tile order, host and device alike, so a host program built
// from this same file (test/codegen/tiles_mirror.test.ts) checks it against src/codegen/scheduler.ts.
#pragma once

#ifndef SW_HOST_DEVICE
#define SW_HOST_DEVICE __host__ __device__ __forceinline__
#endif

// n / d for 0 <= n < 2^31 by a multiply-high and a shift (Granlund and Montgomery): the divisor's
// magic, shift * 2^32 + mul with mul = ceil(2^(32 + shift) / d), comes from the host
// (src/codegen/scheduler.ts fastDivisor); mul 0 stands for d = 1. A tile's decode runs at every
// tile start of a persistent CTA with both warpgroups waiting on it, where the integer divisions it
// replaces cost a few percent at 1k (bench/NOTES.md session 12).
SW_HOST_DEVICE unsigned mulHi32(unsigned a, unsigned b) {
#ifdef __CUDA_ARCH__
  return __umulhi(a, b);
#else
  return static_cast<unsigned>((static_cast<unsigned long long>(a) * b) >> 32);
#endif
}
SW_HOST_DEVICE int fastDiv(int n, unsigned long long magic) {
  const unsigned mul = static_cast<unsigned>(magic);
  return mul == 0u ? n : static_cast<int>(mulHi32(static_cast<unsigned>(n), mul) >> static_cast<unsigned>(magic >> 32));
}

struct TileWork {
  int numTiles, batchHeads, qBlocks, headGroup;
  int* counter;  // the dynamic scheduler's [next, finished CTAs]; zero at launch
  // fastDiv magics (scheduler.ts tileDivisors): by a section's tiles (headGroup x the decoded
  // space's query blocks: half of qBlocks in decodePairTile's), by headGroup, and by the last
  // section's heads.
  unsigned long long divSection, divGroup, divLastGroup;
};

// Tile t of the order: sections of headGroup heads, their blocks walked (longest first when
// `reversed`) each for every head of the section before the next block.
struct TileCoord { int bh, qBlock; };
SW_HOST_DEVICE TileCoord decodeTile(const TileWork& w, int t, bool reversed) {
  const int sectionTiles = w.headGroup * w.qBlocks;
  const int section = fastDiv(t, w.divSection), r = t - section * sectionTiles;
  const bool full = w.headGroup <= w.batchHeads - section * w.headGroup;
  const int heads = full ? w.headGroup : w.batchHeads - section * w.headGroup;
  const int i = fastDiv(r, full ? w.divGroup : w.divLastGroup);
  return {section * w.headGroup + (r - i * heads), reversed ? w.qBlocks - 1 - i : i};
}

// KV_SHARE 2: tiles 2p and 2p + 1 are the two halves of pair
// p, query blocks 2i and 2i + 1 of one head (qBlocks even), so a cluster's two CTAs (blockIdx.x 2k
// and 2k + 1 under the static stride, an even grid) always read the same K/V tiles.
SW_HOST_DEVICE TileCoord decodePairTile(const TileWork& w, int t) {
  const TileWork pairs{w.numTiles / 2, w.batchHeads, w.qBlocks / 2, w.headGroup, w.counter, w.divSection, w.divGroup, w.divLastGroup};
  const TileCoord p = decodeTile(pairs, t >> 1, false);
  return {p.bh, 2 * p.qBlock + (t & 1)};
}
