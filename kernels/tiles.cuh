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
