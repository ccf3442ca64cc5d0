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

// ---- the last round split along the keys (the plan's splitTail; scheduler.ts tailSplit) ----------------
// The static scheduler hands CTA i the units i, i + G, ... (a unit: a tile, or under KV_SHARE 2 a pair
// of tiles run by one cluster; G units per round). When the units do not fill the last round, its
// R = units % G units run alone while the other CTAs idle for a whole tile. With splitTail each of
// those units becomes P pieces, each over a contiguous share of the unit's KV tiles, so the last
// round runs R * P <= G pieces side by side; the last piece of a tile to finish merges the others'
// partial results (attention.cuh mergeTail). P = min(G / R, the KV tiles, TAIL_MAX_PIECES) rounded
// down to a power of two (the kernel divides by it with shifts); below 2 nothing is split. Work items 0 .. fullUnits - 1 are whole units, the rest pieces, piece-major
// within each unit: items fullUnits + u * P + k is piece k of tail unit u.
constexpr int TAIL_MAX_PIECES = 4;
struct TailSplit { int items, fullUnits, pieces; };
SW_HOST_DEVICE TailSplit tailSplit(int units, int gridUnits, int kvTiles) {
  const int tail = units % gridUnits;
  int p = tail == 0 ? 1 : gridUnits / tail;
  p = p < kvTiles ? p : kvTiles;
  p = p >= 4 ? 4 : p >= 2 ? 2 : 1;  // TAIL_MAX_PIECES, a power of two
  if (p < 2) return {units, units, 1};
  return {units - tail + tail * p, units - tail, p};
}
// Work item -> its unit and piece (piece 0 of 1 for a whole unit).
struct WorkItem { int unit, piece; };
SW_HOST_DEVICE WorkItem decodeItem(const TailSplit& s, int item) {
  if (item < s.fullUnits) return {item, 0};
  const int q = item - s.fullUnits, u = q / s.pieces;
  return {s.fullUnits + u, q - u * s.pieces};
}
// What the kernel decodes (the host passes the split as launch arguments, tailFull = fullUnits x
// kvShare and tailShift = log2 of the pieces, so nothing of it is held in a register and nothing is
// divided: the producer's 24 registers spilled with the divisions, ptxas, kvShare 2): item `item` of
// the static stride (tiles, not units) -> its tile, its piece of how many, and for a piece the tile's
// index among the split tiles (its arrival counter; its slots follow).
struct TailPiece { int tile, piece, pieces, tailTile; };
SW_HOST_DEVICE TailPiece tailPiece(int tailFull, int tailShift, int kvShare, int item) {
  if (item < tailFull) return {item, 0, 1, 0};
  const int q = item - tailFull, unit = kvShare == 2 ? q >> 1 : q;
  const int u = unit >> tailShift, piece = unit & ((1 << tailShift) - 1);
  const int tailTile = kvShare == 2 ? 2 * u + (q & 1) : u;
  return {tailFull + tailTile, piece, 1 << tailShift, tailTile};
}
// Piece k of P = 2^shift over T KV tiles: [T k / P, T (k + 1) / P), never empty for P <= T. In 32
// bits (T k < 2^31: T <= 2^31 / 16 keys per tile, k <= TAIL_MAX_PIECES) and by a shift.
SW_HOST_DEVICE int pieceStart(int kvTiles, int piece, int shift) { return (kvTiles * piece) >> shift; }
