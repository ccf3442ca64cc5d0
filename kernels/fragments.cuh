// fragments.cuh: where stmatrix puts a warpgroup's accumulator fragments in shared memory (O's
// tile for its TMA store, P's tile for the P V wgmma), host and device alike, so a host program
// built from this same file (test/codegen/fragments_mirror.test.ts) checks every element's address
// against the layouts the TMA store and the wgmma descriptor read.
//
// The fragment (wgmma's m64nN f32 accumulator, and P packed from S): register i of lane l in warp w
// (0-3 within the warpgroup) is row 16 w + l / 4 + 8 ((i >> 1) & 1), column 8 (i >> 2) + 2 (l % 4)
// + (i & 1). Packed in pairs (i, i + 1), pair p = i / 2 is row half p & 1 of 16-byte column chunk
// p >> 1: exactly the 8x8 b16 matrix fragment stmatrix takes (register j of lane l: row l / 4,
// columns 2 (l % 4), +1 of matrix j), with lane l giving the address of row l % 8 of matrix l / 8.
#pragma once

#ifndef SW_HOST_DEVICE
#define SW_HOST_DEVICE __host__ __device__ __forceinline__
#endif

// ---- O: a 64-row tile of 64-column blocks (64 rows x 128 B each), 128B swizzle (Q's geometry) ----
// stmatrix.x4 number g (0 <= g < headDim / 16) stores chunks 2g and 2g + 1, both row halves: its
// matrix j is packed pair oStagePair(g, j), scaled by the 1/l of row half j & 1.
SW_HOST_DEVICE int oStagePair(int g, int j) { return 4 * g + j; }
// The byte offset, within the warpgroup's O tile, of the row that lane gives to stmatrix.x4 g.
// Chunk (16 B) k of a row sits at chunk k ^ (row % 8) of its block: the 8 rows of one matrix hit 8
// different chunks, so a warp's stores are free of bank conflicts.
SW_HOST_DEVICE unsigned oStageOffset(int warp, int lane, int g) {
  const int mat = lane / 8, row = warp * 16 + lane % 8 + 8 * (mat & 1), chunk = 2 * g + (mat >> 1);
  return static_cast<unsigned>(row * 128 + (chunk / 8) * (64 * 128) + (((chunk % 8) ^ (row & 7)) << 4));
}

// ---- P: a 64-row tile in 8x8 core matrices (no swizzle): 128 contiguous bytes each, K-adjacent ones
// 128 B apart, 8-row groups sbo apart (the wgmma descriptor's LBO 128 and SBO) ----
// stmatrix.x2 number u (0 <= u < blockN / 8) stores column chunk u, both row halves: its matrix j is
// packed pair pStorePair(u, j). Lanes 16-31 repeat lanes 0-15 (.x2 reads only those).
SW_HOST_DEVICE int pStorePair(int u, int j) { return 2 * u + j; }
// The address of the lane's row within stmatrix.x2 u = 0 of the tile at `tile`, and the step to u
// (the kernel adds the two, so that the row part is computed once).
SW_HOST_DEVICE unsigned pStoreRowAddr(unsigned tile, int warp, int lane, unsigned sbo) {
  return tile + warp * 2 * sbo + ((lane / 8) & 1) * sbo + (lane % 8) * 16;
}
SW_HOST_DEVICE unsigned pStoreChunkOffset(int u) { return static_cast<unsigned>(u * 128); }
