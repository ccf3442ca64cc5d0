// attention.cuh: the six ops of the attention loop (loadK, loadV, MMA0, Softmax, MUL, MMA1) as
// device functions, plus set-up and the final store. The generated kernel calls them in the order
// the schedule dictates; this file never decides an order. Waits on wgmma groups and cp.async
// groups are emitted by the generator (their counts are the plan's), so no op here waits on an
// asynchronous group except through the mbarriers it owns.
//
// Expects variants.cuh and the plan's policy choices before inclusion: `Loads`, `PPath`, `QDesc`,
// `Logits`, `OStore` (see variants.cuh). Nothing here is selected by #if.
//
// Masks (MASKED: causal and/or a window): query row i sees key j when j < seqK and, for each bounded
// side, i + off - winLeft <= j <= i + off + winRight, off = seqK - seqQ (bottom-right alignment, as
// FlashAttention; causal is winRight = 0). A row that sees no key stores O = 0 and LSE = -inf.
#pragma once
#include "masks.cuh"

static_assert(Smem::FULL_K >= Smem::P + PPath::SMEM_TILES * NUM_WG * Smem::P_WG_BYTES, "the P tiles overlap the barriers");

// ---- ping-pong between the consumer warpgroups ------------------------------------------------------
// Each warpgroup issues a turn's matmuls only after the one before it issued its own (a token passed
// round 0, 1, .., NUM_WG - 1, 0, ..), so one warpgroup's softmax runs while the others' matmuls
// occupy the tensor cores (FA3's warpgroup ping-pong). Each turn barrier counts its waiting
// warpgroup and the one signalling it. The last warpgroup signals first so that warpgroup 0 leads.
SW_DEVICE void pingpongStart(const Ctx& c) { if (c.wg == NUM_WG - 1) namedBarArrive(BAR_PINGPONG_WG0, 2 * 128); }
SW_DEVICE void pingpongWait(const Ctx& c) { namedBarSync(BAR_PINGPONG_WG0 + c.wg, 2 * 128); }
SW_DEVICE void pingpongSignal(const Ctx& c) { namedBarArrive(BAR_PINGPONG_WG0 + (c.wg + 1 == NUM_WG ? 0 : c.wg + 1), 2 * 128); }

// A warp is done reading a slot once its covering wgmma wait returned; one lane arrives for it.
// KV_SHARE 2: the peer CTA's producer writes this slot too, so the warp frees it in both CTAs.
SW_DEVICE void releaseSlot(const Ctx& c, u32 bar) {
  if (c.lane != 0) return;
  mbarArrive(bar);
  if constexpr (KV_SHARE == 2) mbarArriveCluster(bar, c.rank ^ 1u);
}
SW_DEVICE void releaseK(const Ctx& c, int j) { releaseSlot(c, emptyK(c, kRing(c, j).slot)); }
SW_DEVICE void releaseV(const Ctx& c, int j) { releaseSlot(c, emptyV(c, vRing(c, j).slot)); }
// A persistent CTA's producer refills a warpgroup's Q buffer once the warpgroup is done with it.
// Without O in Q's place: once each of its warps' last S = Q K^T of this tile retired (the caller's
// wgmma wait covers MMA0(j)); each warpgroup frees its own block, so the first to finish a tile's
// QK^T is the first to get its next Q. Later dummy MMA0s still read the block while it refills,
// into an S tile nobody reads.
// O in Q's place (two Q buffers): the previous tile's buffer held that tile's O until its TMA store
// read it; at this tile's first softmax (MMA0(0) retired, the store issued a whole QK^T ago) the
// store's issuer waits for those reads and frees the buffer, and the producer loads the fill after
// next into it.
SW_DEVICE void releaseQ(const Ctx& c, int j) {
  if constexpr (PERSISTENT && !Smem::O_IN_Q) {
    if (j == c.tiles - 1 && c.lane == 0) mbarArrive(emptyQ(c, c.wg, c.qUse));
  } else if constexpr (PERSISTENT) {
    // Hazard (WAR on the previous Q buffer, O_IN_Q): O's TMA store reads it; the refill waits for that.
    // crossTile: mid-tile, where the store (issued at this tile's start) has long finished and the
    // refill still lands before this tile's end issues the next tile's first QK^T.
    if (j == (CROSS_TILE ? c.tiles / 2 : 0) && c.qUse > 0 && oStoreIssuer(c)) {
      bulkWaitRead<0>();
      mbarArrive(emptyQ(c, c.wg, c.qUse - 1));
    }
  }
}

// ---- matmuls --------------------------------------------------------------------------------------
// MMA0(j): S = Q K(j)^T, both operands K-major in shared memory.
template <int SB>
SW_DEVICE void opMMA0(const Ctx& c, Regs& r, int j) {
  // Operand fence before the wgmma sequence: without it the compiler moves ordinary register work
  // in between the wgmmas, and ptxas then serialises every one of them (C7515/C7519). Reads after
  // the sequence are ordered by the fences that follow each wgmma wait.
  fenceS<SB>(r);
  wgmmaFence();
  QDesc::template mma0<SB>(r, qBlock(c, c.wg, c.qUse), kTile(c, j));
}

// MMA1(j): O += P(j) V(j). V stays row-major in shared memory and is read MN-major (transpose-b),
// so no transpose is ever materialised. accumulate false: O = P(j) V(j), whatever O held (the
// rotated tile loop's first KV tile, whose O registers are never zeroed: emit.ts crossTileStep).
template <int PB>
SW_DEVICE void opMMA1(const Ctx& c, Regs& r, int j, bool accumulate = true) {
  // All of P and the rescaled O must exist before the first wgmma reads them (see opMMA0).
  PPath::template fence<PB>(r);
  fenceO(r);
  wgmmaFence();
  PPath::template mma1<PB>(c, r, vTile(c, j), accumulate);
}

// ---- softmax --------------------------------------------------------------------------------------
// The window's sides as the mask sees them: compile-time for a causal mask alone (right 0, no left),
// so the steady state keeps no window registers where none is needed.
SW_DEVICE int maskRight(const Ctx& c) { return WINDOW ? c.winRight : (CAUSAL ? 0 : -1); }
SW_DEVICE int maskLeft(const Ctx& c) { return WINDOW ? c.winLeft : -1; }

// This warpgroup's 64 rows against KV tile j (masks.cuh; without a mask the sides are -1 at compile time).
SW_DEVICE bool tileNeedsMask(const Ctx& c, int j) {
  return tileNeedsMaskAt(kvTileIndex(c, j), BLOCK_N, c.seqK, c.m0 + c.wg * 64, 64, c.off, maskLeft(c), maskRight(c));
}

// The peeled loop's bounds: iterations j in [lo, hi) of this CTA's KV range need no mask for any
// row of the CTA (every warpgroup), so a steady trip whose softmaxes all fall inside runs without
// mask code.
SW_DEVICE TileSpan unmaskedIterations(const Ctx& c) {
  const TileSpan s = unmaskedTiles(BLOCK_N, c.seqK, c.m0, BLOCK_M, c.off, maskLeft(c), maskRight(c));
  const int first = kvTileIndex(c, 0);
  return {s.lo - first, s.hi - first};
}

template <int SB>
SW_DEVICE void maskTile(const Ctx& c, Regs& r, int j) {
  const int right = maskRight(c), left = maskLeft(c);
  // Column limits relative to this thread's first row; rows 8 apart shift them by 8.
  const int col0 = kvRow(c, j);
  const int diag = fragRow(c, 0) + c.off - col0;
#pragma unroll
  for (int i = 0; i < S_REGS; ++i) {
    const int col = fragCol(c, i);
    const int d = diag + 8 * ((i >> 1) & 1);
    const bool hidden = col0 + col >= c.seqK || (MASKED && ((right >= 0 && col > d + right) || (left >= 0 && col < d - left)));
    if (hidden) r.s[SB][i] = NEG_INF;
  }
}

SW_DEVICE float quadMax(float v) { return fmaxf(fmaxf(v, shflXor(v, 1)), shflXor(fmaxf(v, shflXor(v, 1)), 2)); }

// LAZY_RESCALE: how far (log2 domain) a tile's row max may rise above the running max before the
// running max moves. Below it the old max stays, so P = 2^(s - m) <= 2^8 = 256: f16 and bf16 hold
// it exactly as they hold P <= 1 (the same relative precision; f16's largest finite is 65504), and
// l <= 256 per key stays far from float's range. O = acc / l and LSE = m + log2(l) are the same
// quantities whichever m the row keeps (FlashAttention 4's conditional rescaling).
constexpr float RESCALE_SLACK_LOG2 = 8.f;

// Softmax(j): online update in the log2 domain. S(j) is exponentiated in place; alpha(j) rescales
// the old O and l. A row whose max is still -inf uses 0 as its max so that no inf - inf NaN appears.
// MASK false: a steady trip of a peeled loop whose tiles need no mask (unmaskedIterations).
// LAZY_RESCALE: a row keeps its max (alpha exactly 1) unless the tile's max exceeds it by more than
// RESCALE_SLACK_LOG2, and MUL(j) runs only in a warp where some row moved (rescale, warp-uniform by
// the vote). A row whose max is -inf always takes the update, so its alpha is 0 as without the
// option: a tile's first MUL still zeroes what the previous tile left in O (the rotated loop).
template <int SB, int AB, bool MASK>
SW_DEVICE void opSoftmax(const Ctx& c, Regs& r, int j) {
  float* s = r.s[SB];
  Logits::template transform<SB>(c, r);
  if (MASK && tileNeedsMask(c, j)) maskTile<SB>(c, r, j);
  const float mul = Logits::log2Multiplier(c);
  float mx[2] = {NEG_INF, NEG_INF};
#pragma unroll
  for (int i = 0; i < S_REGS; ++i) mx[(i >> 1) & 1] = fmaxf(mx[(i >> 1) & 1], s[i]);
  float use[2];
  bool moved = false;
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const float mTile = quadMax(mx[h]) * mul;
    // NaN mTile: not kept, and fmaxf keeps the old max, as without the option.
    const bool keep = LAZY_RESCALE && r.m[h] > NEG_INF && mTile <= r.m[h] + RESCALE_SLACK_LOG2;
    const float mNew = keep ? r.m[h] : fmaxf(r.m[h], mTile);
    use[h] = mNew == NEG_INF ? 0.f : mNew;
    r.alpha[AB][h] = keep ? 1.f : ex2(r.m[h] - use[h]);
    r.m[h] = mNew;
    moved |= !keep;
  }
  // Every lane of the warp runs the softmax together (no divergence here), so the vote is whole.
  if (LAZY_RESCALE) r.rescale[AB] = __any_sync(0xffffffffu, moved);
  float sum[2] = {0.f, 0.f};
#pragma unroll
  for (int i = 0; i < S_REGS; ++i) {
    const int h = (i >> 1) & 1;
    s[i] = ex2(fmaf(s[i], mul, -use[h]));
    sum[h] += s[i];
  }
#pragma unroll
  for (int h = 0; h < 2; ++h) r.l[h] = fmaf(r.l[h], r.alpha[AB][h], sum[h]);
}

// MUL(j): O *= alpha(j). LAZY_RESCALE: skipped by a warp whose rows all kept their max (alpha 1).
template <int AB>
SW_DEVICE void opMul(Regs& r) {
  if (LAZY_RESCALE && !r.rescale[AB]) return;
#pragma unroll
  for (int i = 0; i < O_REGS; ++i) r.o[i] *= r.alpha[AB][(i >> 1) & 1];
}

// ---- set-up and final store --------------------------------------------------------------------------
// The KV tiles this CTA visits: from the first a window lets in to the last any of its rows sees.
// Fully masked tiles are never loaded or computed.
SW_DEVICE void tileRange(Ctx& c) {
  int begin = 0, end = c.seqK;
  if (MASKED) {
    const int lastRow = min(c.m0 + BLOCK_M, c.seqQ) - 1;
    const int right = maskRight(c), left = maskLeft(c);
    if (right >= 0) end = min(end, lastRow + c.off + right + 1);
    if (left >= 0) begin = max(0, c.m0 + c.off - left);
  }
  c.kvTile0 = begin / BLOCK_N;
  c.tiles = end > begin ? (end + BLOCK_N - 1) / BLOCK_N - c.kvTile0 : 0;
}

SW_DEVICE void initBarriers(const Ctx& c) {
  if (c.tid == 0) {
    // KV_SHARE 2: a slot is empty once every warp of both CTAs released it.
    for (int i = 0; i < K_BUFS; ++i) {
      mbarInit(fullK(c, i), Loads::FULL_ARRIVALS);
      mbarInit(emptyK(c, i), KV_SHARE * NUM_WARPS);
    }
    for (int i = 0; i < V_BUFS; ++i) {
      mbarInit(fullV(c, i), Loads::FULL_ARRIVALS);
      mbarInit(emptyV(c, i), KV_SHARE * NUM_WARPS);
    }
    for (int u = 0; u < static_cast<int>(Smem::Q_BUFS); ++u)
      for (int w = 0; w < NUM_WG; ++w) mbarInit(fullQ(c, w, u), 1);
    if (PERSISTENT) {
      // The warpgroup's four warps, or with O in Q's place the O store's issuer (releaseQ).
      for (int u = 0; u < static_cast<int>(Smem::Q_BUFS); ++u)
        for (int w = 0; w < NUM_WG; ++w) mbarInit(emptyQ(c, w, u), Smem::O_IN_Q ? 1 : 4);
      for (int i = 0; i < TILE_SLOTS; ++i) {
        mbarInit(c.base + Smem::TILE_FULL + 8 * i, 1);
        mbarInit(c.base + Smem::TILE_EMPTY + 8 * i, NUM_WARPS);
      }
    }
    fenceBarrierInit();
  }
  // Dummy MMA1s (see PPath::zero) read V slots before any copy may have landed: zeros make 0 * V
  // exact where uninitialised shared memory could hold NaN patterns. (A persistent CTA's later
  // dummies read a slot holding, or being filled with, some tile of V: 0 * V is exact for finite V.) The fence orders these generic
  // stores before the async proxy's (TMA, wgmma) accesses.
  for (u32 off = c.tid * 16; off < V_BUFS * Smem::TILE_BYTES; off += blockDim.x * 16) stShared128(c.base + Smem::V + off, 0u);
  fenceProxyAsync();
  // KV_SHARE 2: the peer's first multicast may land in these slots and signal these barriers as
  // soon as its producer starts, so both CTAs' barriers and zeroed V slots come first.
  if constexpr (KV_SHARE == 2) clusterSync();
  else __syncthreads();
}

// A tile's row statistics only (the rotated tile loop: its O is overwritten by the first P V).
SW_DEVICE void resetRowStats(Regs& r) {
#pragma unroll
  for (int h = 0; h < 2; ++h) { r.m[h] = NEG_INF; r.l[h] = 0.f; }
}

SW_DEVICE void initRegs(Regs& r) {
#pragma unroll
  for (int i = 0; i < O_REGS; ++i) r.o[i] = 0.f;
#pragma unroll
  for (int h = 0; h < 2; ++h) { r.m[h] = NEG_INF; r.l[h] = 0.f; }
}

// O = acc / l in the output dtype, LSE = ln(sum exp(logits)) per row; rows past the end are skipped.
// `o` and `lse` point at this sequence's row 0 of this head; O rows are `oRow` elements apart.
// `tmO` is O's tensor map (the kernel parameter, taken where it is needed rather than held in Ctx
// through the loop: holding it spilled the windowed persistent kernel).
SW_DEVICE void outputScale(const Regs& r, float inv[2], float lseRow[2]) {
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    float l = r.l[h];
    l += shflXor(l, 1);
    l += shflXor(l, 2);
    inv[h] = l > 0.f ? 1.f / l : 0.f;
    // A row that saw no key has m = -inf and l = 0: LSE -inf, O 0 (never NaN).
    lseRow[h] = l > 0.f ? (r.m[h] + __log2f(l)) * 0.69314718055994531f : NEG_INF;
  }
}
SW_DEVICE void storeLse(const Ctx& c, const float lseRow[2], float* lse) {
  if (c.lane % 4 == 0) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int row = fragRow(c, 2 * h);
      if (row < c.seqQ) lse[row] = lseRow[h];
    }
  }
}
SW_DEVICE void storeOutput(const Ctx& c, Regs& r, u16* o, long long oRow, float* lse, const TmaDesc* tmO) {
  float inv[2], lseRow[2];
  outputScale(r, inv, lseRow);
  OStore::store(c, r, inv, o, oRow, tmO);
  storeLse(c, lseRow, lse);
}

// The epilogue in two halves around the next tile's first QK^T (the plan's crossTile, O by TMA):
// stageOutput reads the accumulators (O, l, m) and writes O's tile in shared memory; finishOutput
// stores the tile and LSE and reads no accumulator. ptxas serialises every wgmma if an accumulator
// is read while that QK^T is in flight (C7514), and spills if O is held packed in registers across
// its issue instead (bench/NOTES.md session 12).
// (Templates, so that only a kernel that calls them instantiates the TMA store and its layout check.)
template <typename Store = OStoreTma>
SW_DEVICE void stageOutput(const Ctx& c, Regs& r, float lseRow[2]) {
  float inv[2];
  outputScale(r, inv, lseRow);
  Store::stage(c, r, inv);
}
template <typename Store = OStoreTma>
SW_DEVICE void finishOutput(const Ctx& c, const float lseRow[2], float* lse, const TmaDesc* tmO) {
  Store::issue(c, tmO);
  storeLse(c, lseRow, lse);
}

// ---- the last round split along the keys (SPLIT_TAIL; tiles.cuh tailSplit) --------------------------
// The workspace (the launch's tileCounter argument, workspace.ts tailWorkspace): TAIL_COUNTERS ints,
// one arrival count per split tile of the last round (zero between launches: the last piece resets
// its own), then one slot per piece of (O_REGS + 4) x NUM_THREADS floats: consumer thread tid's
// value i at [i * NUM_THREADS + tid] (O registers, then m[0..1], then l[0..1]), so each warp's stores
// and loads are whole 128-byte lines.
constexpr int TAIL_COUNTERS = 1024;
constexpr int TAIL_SLOT_FLOATS = (O_REGS + 4) * NUM_THREADS;

// Every piece stores its partial state; the last of its tile to arrive merges the others' into its
// registers (the same fragment layout: thread tid of every piece holds the same rows and columns) and
// returns true, so it stores O and LSE; the others return false and store nothing. With m the
// reference each partial was accumulated against (the running max, or under LAZY_RESCALE a max up to
// 2^8 stale), merging with m' = max(m_a, m_b) scales O and l of each side by 2^(m - m'), which is
// exact whichever reference each side kept. l stays thread-partial (outputScale reduces it).
SW_DEVICE bool mergeTail(const Ctx& c, Regs& r, int* ws, const TailPiece& tp) {
  float* const slots = reinterpret_cast<float*>(ws + TAIL_COUNTERS);
  float* const mine = slots + static_cast<long long>(tp.tailTile * tp.pieces + tp.piece) * TAIL_SLOT_FLOATS + c.tid;
#pragma unroll
  for (int i = 0; i < O_REGS; ++i) stGlobalCg(mine + i * NUM_THREADS, r.o[i]);
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    stGlobalCg(mine + (O_REGS + h) * NUM_THREADS, r.m[h]);
    stGlobalCg(mine + (O_REGS + 2 + h) * NUM_THREADS, r.l[h]);
  }
  // Hazard (RAW across CTAs on the slots): every consumer thread's stores are device-visible (its own
  // fence) before the barrier, and the barrier before the one arrival; the last arrival's fence
  // orders its reads of the other slots after every other piece's arrival.
  __threadfence();
  namedBarSync(BAR_TAIL, NUM_THREADS);
  bool last = false;
  if (c.tid == 0) last = atomicAdd(ws + tp.tailTile, 1) == tp.pieces - 1;
  if (!namedBarOr(BAR_TAIL, NUM_THREADS, last)) return false;
  __threadfence();
  // One piece at a time, and O in chunks of 16 registers with a compiler barrier between them: with
  // every load hoisted ahead of its FMAs the 168-register consumer spilled (ptxas, baseline hd128).
#pragma unroll 1
  for (int k = 0; k < tp.pieces; ++k) {
    if (k == tp.piece) continue;
    const float* const other = slots + static_cast<long long>(tp.tailTile * tp.pieces + k) * TAIL_SLOT_FLOATS + c.tid;
    float a[2], b[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const float mOther = ldGlobalCg(other + (O_REGS + h) * NUM_THREADS), lOther = ldGlobalCg(other + (O_REGS + 2 + h) * NUM_THREADS);
      const float mNew = fmaxf(r.m[h], mOther);
      const float ref = mNew == NEG_INF ? 0.f : mNew;  // both -inf: no key seen on either side, no NaN
      a[h] = ex2(r.m[h] - ref);
      b[h] = ex2(mOther - ref);
      r.m[h] = mNew;
      r.l[h] = fmaf(r.l[h], a[h], lOther * b[h]);
    }
#pragma unroll
    for (int i0 = 0; i0 < O_REGS; i0 += 16) {
#pragma unroll
      for (int i = i0; i < i0 + 16; ++i) r.o[i] = fmaf(r.o[i], a[(i >> 1) & 1], ldGlobalCg(other + i * NUM_THREADS) * b[(i >> 1) & 1]);
      asm volatile("" ::: "memory");
    }
  }
  // The count back to zero for the next launch on this workspace: every piece of this tile arrived.
  if (c.tid == 0) atomicExch(ws + tp.tailTile, 0);
  return true;
}

// A CTA whose rows see no key at all (a window or causal mask past the keys, a sequence with no
// keys): O = 0 and LSE = -inf for its rows, written by every thread, before any barrier exists.
// Written by the consumer threads (a persistent CTA's producer is elsewhere by then).
SW_DEVICE void storeEmptyRows(const Ctx& c, u16* o, long long oRow, float* lse) {
  if (c.tid >= NUM_THREADS) return;
  const int rows = min(BLOCK_M, c.seqQ - c.m0);
  for (int idx = c.tid; idx < rows * HEAD_DIM / 2; idx += NUM_THREADS) {
    const int row = c.m0 + idx / (HEAD_DIM / 2), col = 2 * (idx % (HEAD_DIM / 2));
    *reinterpret_cast<u32*>(o + row * oRow + col) = 0u;
  }
  for (int row = c.m0 + c.tid; row < c.m0 + rows; row += NUM_THREADS) lse[row] = NEG_INF;
}

// ---- warp specialization ------------------------------------------------------------------------
// The producer's whole job: Q, then K(j) and V(j) in iteration order, each as soon as its ring
// slot is released. The schedule's load stages become how far ahead this runs (the ring sizes).
SW_DEVICE void producerLoop(const Ctx& c) {
  Loads::loadQ(c);
  for (int j = 0; j < c.tiles; ++j) {
    Loads::loadK(c, j);
    Loads::loadV(c, j);
  }
}

// The persistent producer: for each tile, K(0) first (its slot frees early in the previous tile's
// tail), then each warpgroup's Q block once that warpgroup released it (warpgroup 0, first in the
// ping-pong, first), then V(0), K(1), V(1), ... The rings run on across tiles (ring0), so slot
// reuse stays ordered by the same empty barriers.
template <typename SetTile>
SW_DEVICE void producerTiles(Ctx& c, const TileWork& w, SetTile setTile) {
  int qUses = 0;
  c.ring0 = 0;
  int t = static_cast<int>(blockIdx.x);
  for (int n = 0;; ++n) {
    Tiles::publish(c, n, t);
    if (t >= w.numTiles) break;
    const int next = Tiles::next(c, w, t);
    if (setTile(t) && c.tiles > 0) {
      Loads::loadK(c, 0);
      c.qUse = qUses;
      for (int w = 0; w < NUM_WG; ++w) {
        // The fill before in this buffer released (a fresh barrier reports parity 1 complete).
        mbarWait(emptyQ(c, w, qUses), qFillParity(qUses) ^ 1);
        Loads::loadQBlock(c, w);
      }
      Loads::loadV(c, 0);
      for (int j = 1; j < c.tiles; ++j) {
        Loads::loadK(c, j);
        Loads::loadV(c, j);
      }
      c.ring0 += c.tiles;
      ++qUses;
    }
    t = next;
  }
  Tiles::finish(w);
}

// SPLIT_TAIL (static tiles only): the same walk, but the loop takes only the whole tiles (items
// below `wholeItems`) and a CTA's piece of a split tile, always its last item, is set up after the
// loop by `setPiece`: decoded inside the loop, the piece spilled the producer's 24 registers (ptxas,
// kvShare 2). Kept apart from producerTiles so that the kernels without the split are unchanged.
template <typename SetTile, typename SetPiece>
SW_DEVICE void producerTilesSplit(Ctx& c, const TileWork& w, SetTile setTile, int wholeItems, SetPiece setPiece) {
  int qUses = 0;
  c.ring0 = 0;
  const auto loadTile = [&]() {
    Loads::loadK(c, 0);
    c.qUse = qUses;
    for (int w = 0; w < NUM_WG; ++w) {
      // The fill before in this buffer released (a fresh barrier reports parity 1 complete).
      mbarWait(emptyQ(c, w, qUses), qFillParity(qUses) ^ 1);
      Loads::loadQBlock(c, w);
    }
    Loads::loadV(c, 0);
    for (int j = 1; j < c.tiles; ++j) {
      Loads::loadK(c, j);
      Loads::loadV(c, j);
    }
    c.ring0 += c.tiles;
    ++qUses;
  };
  int t = static_cast<int>(blockIdx.x);
  for (int n = 0;; ++n) {
    Tiles::publish(c, n, t);
    if (t >= wholeItems) break;
    const int next = Tiles::next(c, w, t);
    if (setTile(t) && c.tiles > 0) loadTile();
    t = next;
  }
  if (t < w.numTiles && setPiece(t) && c.tiles > 0) loadTile();
  Tiles::finish(w);
}
