// tiles.cuh: the persistent kernel's tile order, host and device alike, so a host program built
// from this same file (test/codegen/tiles_mirror.test.ts) checks it against src/codegen/scheduler.ts.
#pragma once

#ifndef SW_HOST_DEVICE
#define SW_HOST_DEVICE __host__ __device__ __forceinline__
#endif

struct TileWork {
  int numTiles, batchHeads, qBlocks, headGroup;
  int* counter;  // the dynamic scheduler's [next, finished CTAs]; zero at launch
};

// Tile t of the order: sections of headGroup heads, their blocks walked (longest first when
// `reversed`) each for every head of the section before the next block.
struct TileCoord { int bh, qBlock; };
SW_HOST_DEVICE TileCoord decodeTile(const TileWork& w, int t, bool reversed) {
  const int sectionTiles = w.headGroup * w.qBlocks;
  const int section = t / sectionTiles, r = t - section * sectionTiles;
  const int heads = w.headGroup < w.batchHeads - section * w.headGroup ? w.headGroup : w.batchHeads - section * w.headGroup;
  const int i = r / heads;
  return {section * w.headGroup + (r - i * heads), reversed ? w.qBlocks - 1 - i : i};
}

// KV_SHARE 2: tiles 2p and 2p + 1 are the two halves of pair
// p, query blocks 2i and 2i + 1 of one head (qBlocks even), so a cluster's two CTAs (blockIdx.x 2k
// and 2k + 1 under the static stride, an even grid) always read the same K/V tiles.
SW_HOST_DEVICE TileCoord decodePairTile(const TileWork& w, int t) {
  const TileWork pairs{w.numTiles / 2, w.batchHeads, w.qBlocks / 2, w.headGroup, w.counter};
  const TileCoord p = decodeTile(pairs, t >> 1, false);
  return {p.bh, 2 * p.qBlock + (t & 1)};
}
