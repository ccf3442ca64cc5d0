// attention.cuh: the six ops of the attention loop (loadK, loadV, MMA0, Softmax, MUL, MMA1) as
// device functions, plus set-up and the final store. The generated kernel calls them in the order
// the schedule dictates; this file never decides an order. Waits on wgmma groups and cp.async
// groups are emitted by the generator (their counts depend on the schedule), so no op here waits
// on an asynchronous group except through the mbarriers it owns.
//
// Expects, defined before inclusion (generated from the kernel config):
//   HEAD_DIM, BLOCK_M, BLOCK_N, NUM_WG, K_BUFS, V_BUFS, S_TILES, P_TILES, A_TILES, CAUSAL,
//   SW_LOAD_TMA (1: TMA, 0: cp.async), SW_PRODUCER_WARP (1: a dedicated producer warpgroup issues
//   every load; 0: the consumers issue them where the schedule places them), SW_P_SHARED (1: P
//   reaches the P V product through shared memory; 0: through registers), SW_PINGPONG (1: the
//   consumer warpgroups take ping-pong turns), SW_OPAQUE_Q_DESC (1: rebuild Q's descriptors from an
//   opaque base every step, to save registers), PACK(lo, hi),
//   WGMMA_S(d, descA, descB, scaleD), and WGMMA_O(d, a0, a1, a2, a3, descB) (P in registers) or
//   WGMMA_O(d, descA, descB) (P in shared memory)
#pragma once

// Consumer threads (the ones that compute); a producer warpgroup, when present, comes after them.
constexpr int NUM_THREADS = 128 * NUM_WG;
constexpr int NUM_WARPS = 4 * NUM_WG;
// The one thread that issues TMA copies and arms their barriers.
constexpr int PRODUCER_TID = SW_PRODUCER_WARP ? NUM_THREADS : 0;
constexpr int S_REGS = BLOCK_N / 2;     // f32 accumulator registers of S per thread
constexpr int P_REGS = BLOCK_N / 4;     // packed 16-bit P registers per thread
constexpr int O_REGS = HEAD_DIM / 2;    // f32 accumulator registers of O per thread
#define NEG_INF __int_as_float(0xff800000)  // -inf; no constexpr builtin works under both nvcc and NVRTC

// One struct describes shared memory. Offsets are from a 1024-byte aligned base: the 128B swizzle
// pattern repeats every 1024 bytes and TMA / wgmma assume it starts on such a boundary. Every tile
// is a stack of 64-column blocks (rows x 128 B each), the canonical K-major 128B-swizzled layout.
struct Smem {
  static constexpr u32 Q_WG_BYTES = 64 * HEAD_DIM * 2;          // one warpgroup's 64 query rows
  static constexpr u32 Q = 0;
  static constexpr u32 TILE_BYTES = BLOCK_N * HEAD_DIM * 2;     // one K or V tile
  static constexpr u32 K = Q + NUM_WG * Q_WG_BYTES;
  static constexpr u32 V = K + K_BUFS * TILE_BYTES;
  // P tiles in shared memory (SW_P_SHARED): per tile and warpgroup, 64 rows x BLOCK_N columns,
  // K-major without swizzle (see storeP); P_SBO is the step between 8-row groups.
  static constexpr u32 P_SBO = BLOCK_N * 16;
  static constexpr u32 P_WG_BYTES = 8 * P_SBO;
  static constexpr u32 P = V + V_BUFS * TILE_BYTES;
  static constexpr u32 BARS = P + (SW_P_SHARED ? P_TILES * NUM_WG * P_WG_BYTES : 0);
  // Barriers, one enum-like block: full (data landed) and empty (all warps done reading) per slot.
  static constexpr u32 FULL_K = BARS;
  static constexpr u32 EMPTY_K = FULL_K + 8 * K_BUFS;
  static constexpr u32 FULL_V = EMPTY_K + 8 * K_BUFS;
  static constexpr u32 EMPTY_V = FULL_V + 8 * V_BUFS;
  static constexpr u32 FULL_Q = EMPTY_V + 8 * V_BUFS;
  static constexpr u32 TOTAL = FULL_Q + 8;
};
static_assert(Smem::TILE_BYTES % 1024 == 0, "K/V tiles must keep 1024-byte alignment");

// Named barrier ids (id 0 is __syncthreads).
enum NamedBarrier : u32 { BAR_CPASYNC_FULL = 1, BAR_PINGPONG_WG0 = 2, BAR_PINGPONG_WG1 = 3, BAR_P_WG0 = 4, BAR_P_WG1 = 5 };

struct Ctx {
  u32 base;            // shared-memory address of the aligned base
  int tid, wg, warp, lane;
  int bh;              // batch * heads index
  int m0;              // first query row of this CTA
  int seqLen;
  int tiles;           // number of KV tiles this CTA visits
  float scaleLog2;     // softmax scale * log2(e)
  const TmaDesc* tmQ; const TmaDesc* tmK; const TmaDesc* tmV;
  const u16* q; const u16* k; const u16* v;   // this head's rows
};

struct Regs {
  float s[S_TILES][S_REGS];
  u32 p[P_TILES][P_REGS];
  float o[O_REGS];
  float m[2];          // running row max (log2 domain) of the thread's two rows
  float l[2];          // running row sum, thread-partial (quad-reduced at the end)
  float alpha[A_TILES][2];
};

// Ring-buffer position of iteration j in an n-slot ring: slot and the phase parity to wait for.
struct Ring {
  u32 slot, parity;
  SW_DEVICE Ring(int j, int n) : slot(static_cast<u32>(j % n)), parity(static_cast<u32>((j / n) & 1)) {}
};

SW_DEVICE u32 fullK(const Ctx& c, u32 slot) { return c.base + Smem::FULL_K + 8 * slot; }
SW_DEVICE u32 emptyK(const Ctx& c, u32 slot) { return c.base + Smem::EMPTY_K + 8 * slot; }
SW_DEVICE u32 fullV(const Ctx& c, u32 slot) { return c.base + Smem::FULL_V + 8 * slot; }
SW_DEVICE u32 emptyV(const Ctx& c, u32 slot) { return c.base + Smem::EMPTY_V + 8 * slot; }

// ---- loads ----------------------------------------------------------------------------------------
// Copies `rows` rows of a head (starting at row0) into a 128B-swizzled tile at dst with cp.async,
// zero-filling rows past the sequence end. Chunk c (16 B) of row r lands at chunk c ^ (r % 8).
SW_DEVICE void cpAsyncTile(const Ctx& c, u32 dst, const u16* src, int row0, int rows) {
  constexpr int CHUNKS_PER_ROW = HEAD_DIM / 8;
  for (int idx = c.tid; idx < rows * CHUNKS_PER_ROW; idx += NUM_THREADS) {
    const int r = idx / CHUNKS_PER_ROW, chunk = idx % CHUNKS_PER_ROW;
    const int block = chunk / 8, cc = chunk % 8;
    const u32 d = dst + block * rows * 128 + r * 128 + ((cc ^ (r & 7)) << 4);
    const bool inside = row0 + r < c.seqLen;
    const u16* s = src + (size_t)(inside ? row0 + r : 0) * HEAD_DIM + chunk * 8;
    cpAsync16(d, s, inside ? 16u : 0u);
  }
}

// Loads K or V tile j into its ring slot. The slot is reused only once every warp released the
// previous occupant (empty barrier); producers start waiting on parity 1, which a fresh barrier
// reports complete, because every slot begins empty.
SW_DEVICE void loadTile(const Ctx& c, const TmaDesc* map, const u16* src, u32 tiles, u32 full, u32 empty,
                        int j, int bufs) {
  const Ring ring(j, bufs);
  const u32 dst = c.base + tiles + ring.slot * Smem::TILE_BYTES;
#if SW_LOAD_TMA
  if (c.tid == PRODUCER_TID) {
    mbarWait(empty + 8 * ring.slot, ring.parity ^ 1);
    expectTx(full + 8 * ring.slot, Smem::TILE_BYTES);
#pragma unroll
    for (int b = 0; b < HEAD_DIM / 64; ++b)
      tmaLoad3d(dst + b * BLOCK_N * 128, map, b * 64, j * BLOCK_N, c.bh, full + 8 * ring.slot);
  }
#else
  (void)map; (void)full;
  mbarWait(empty + 8 * ring.slot, ring.parity ^ 1);
  cpAsyncTile(c, dst, src, j * BLOCK_N, BLOCK_N);
#endif
}

SW_DEVICE void opLoadK(const Ctx& c, int j) {
  loadTile(c, c.tmK, c.k, Smem::K, c.base + Smem::FULL_K, c.base + Smem::EMPTY_K, j, K_BUFS);
}
SW_DEVICE void opLoadV(const Ctx& c, int j) {
  loadTile(c, c.tmV, c.v, Smem::V, c.base + Smem::FULL_V, c.base + Smem::EMPTY_V, j, V_BUFS);
}

// Waits until tile j is in shared memory (TMA variant; the cp.async variant's wait is generated,
// since its group count depends on the schedule).
SW_DEVICE void waitFullK(const Ctx& c, int j) { const Ring r(j, K_BUFS); mbarWait(fullK(c, r.slot), r.parity); }
SW_DEVICE void waitFullV(const Ctx& c, int j) { const Ring r(j, V_BUFS); mbarWait(fullV(c, r.slot), r.parity); }

// A warp is done reading a slot once its covering wgmma wait returned; one lane arrives for it.
SW_DEVICE void releaseK(const Ctx& c, int j) { if (c.lane == 0) mbarArrive(emptyK(c, Ring(j, K_BUFS).slot)); }
SW_DEVICE void releaseV(const Ctx& c, int j) { if (c.lane == 0) mbarArrive(emptyV(c, Ring(j, V_BUFS).slot)); }

// ---- fences (the compiler must not move register accesses across a wgmma wait) -----------------------
template <int SB> SW_DEVICE void fenceS(Regs& r) {
#pragma unroll
  for (int i = 0; i < S_REGS; ++i) fenceReg(r.s[SB][i]);
}
template <int PB> SW_DEVICE void fenceP(Regs& r) {
#if !SW_P_SHARED
#pragma unroll
  for (int i = 0; i < P_REGS; ++i) fenceReg(r.p[PB][i]);
#endif
}
SW_DEVICE void fenceO(Regs& r) {
#pragma unroll
  for (int i = 0; i < O_REGS; ++i) fenceReg(r.o[i]);
}

// ---- ping-pong between two warpgroups ------------------------------------------------------------
// Each warpgroup issues a step's matmuls only after the other one issued its own, so one warpgroup's
// softmax runs while the other's matmuls occupy the tensor cores (FA3's warpgroup ping-pong).
// Warpgroup 1 signals first so that warpgroup 0 leads.
SW_DEVICE void pingpongStart(const Ctx& c) { if (c.wg == 1) namedBarArrive(BAR_PINGPONG_WG0, 2 * 128); }
SW_DEVICE void pingpongWait(const Ctx& c) { namedBarSync(BAR_PINGPONG_WG0 + c.wg, 2 * 128); }
SW_DEVICE void pingpongSignal(const Ctx& c) { namedBarArrive(BAR_PINGPONG_WG0 + (1 - c.wg), 2 * 128); }

// ---- matmuls --------------------------------------------------------------------------------------
// MMA0(j): S = Q K(j)^T, both operands K-major in shared memory.
template <int SB>
SW_DEVICE void opMMA0(const Ctx& c, Regs& r, int j) {
#if SW_LOAD_TMA
  mbarWait(c.base + Smem::FULL_Q, 0);   // already complete after the first tile: one poll
#endif
  const u32 q = c.base + Smem::Q + c.wg * Smem::Q_WG_BYTES;
  const u32 kt = c.base + Smem::K + Ring(j, K_BUFS).slot * Smem::TILE_BYTES;
  // Operand fence before the wgmma sequence: without it the compiler moves ordinary register work
  // in between the wgmmas, and ptxas then serialises every one of them (C7515/C7519). Reads after
  // the sequence are ordered by the fences that follow each wgmma wait.
  fenceS<SB>(r);
  wgmmaFence();
#if SW_OPAQUE_Q_DESC
  // Q's descriptors never change; left visible, the compiler keeps all HEAD_DIM / 16 of them live
  // across the loop, which two S tiles cannot afford. Made opaque, each step derives them from one
  // base (an add into the start-address field, which cannot carry: every offset stays inside the
  // 18-bit shared address).
  u64 dq = makeDesc128B(q, 16, 1024);
  asm volatile("" : "+l"(dq));
  const u64 dk = makeDesc128B(kt, 16, 1024);
#pragma unroll
  for (int kk = 0; kk < HEAD_DIM / 16; ++kk) {
    const u64 da = dq + (u64)(((kk % 4) * 32 + (kk / 4) * 64 * 128) >> 4);
    const u64 db = dk + (u64)(((kk % 4) * 32 + (kk / 4) * BLOCK_N * 128) >> 4);
    WGMMA_S(r.s[SB], da, db, kk > 0 ? 1 : 0);
  }
#else
#pragma unroll
  for (int kk = 0; kk < HEAD_DIM / 16; ++kk) {
    const u64 da = makeDesc128B(q + (kk % 4) * 32 + (kk / 4) * 64 * 128, 16, 1024);
    const u64 db = makeDesc128B(kt + (kk % 4) * 32 + (kk / 4) * BLOCK_N * 128, 16, 1024);
    WGMMA_S(r.s[SB], da, db, kk > 0 ? 1 : 0);
  }
#endif
}

// This warpgroup's P tile PB in shared memory (SW_P_SHARED).
SW_DEVICE u32 pTile(const Ctx& c, int pb) { return c.base + Smem::P + (pb * NUM_WG + c.wg) * Smem::P_WG_BYTES; }

// MMA1(j): O += P(j) V(j). P comes from registers (K-major by construction); V stays row-major in
// shared memory and is read MN-major (transpose-b), so no transpose is ever materialised.
template <int PB>
SW_DEVICE void opMMA1(const Ctx& c, Regs& r, int j) {
  const u32 vt = c.base + Smem::V + Ring(j, V_BUFS).slot * Smem::TILE_BYTES;
  // All of P and the rescaled O must exist before the first wgmma reads them (see opMMA0).
  fenceP<PB>(r);
  fenceO(r);
  wgmmaFence();
#if SW_P_SHARED
  const u32 pt = pTile(c, PB);
#endif
#pragma unroll
  for (int kk = 0; kk < BLOCK_N / 16; ++kk) {
    const u64 db = makeDesc128B(vt + kk * 16 * 128, BLOCK_N * 128, 1024);
#if SW_P_SHARED
    WGMMA_O(r.o, makeDescInterleave(pt + kk * 2 * 128, 128, Smem::P_SBO), db);
#else
    WGMMA_O(r.o, r.p[PB][4 * kk], r.p[PB][4 * kk + 1], r.p[PB][4 * kk + 2], r.p[PB][4 * kk + 3], db);
#endif
  }
}

// ---- softmax --------------------------------------------------------------------------------------
// Accumulator fragment of m64nNk16: register i of thread (warp w, lane l) holds
// row 16w + l/4 + 8*((i>>1)&1), column 8*(i>>2) + 2*(l%4) + (i&1).
SW_DEVICE int fragRow(const Ctx& c, int i) { return c.m0 + c.wg * 64 + (c.warp % 4) * 16 + c.lane / 4 + 8 * ((i >> 1) & 1); }
SW_DEVICE int fragCol(const Ctx& c, int i) { return 8 * (i >> 2) + 2 * (c.lane % 4) + (i & 1); }

SW_DEVICE bool tileNeedsMask(const Ctx& c, int j) {
  const int lastCol = (j + 1) * BLOCK_N - 1;
  return lastCol >= c.seqLen || (CAUSAL && lastCol > c.m0 + c.wg * 64);
}

template <int SB>
SW_DEVICE void maskTile(const Ctx& c, Regs& r, int j) {
#pragma unroll
  for (int i = 0; i < S_REGS; ++i) {
    const int col = j * BLOCK_N + fragCol(c, i);
    if (col >= c.seqLen || (CAUSAL && col > fragRow(c, i))) r.s[SB][i] = NEG_INF;
  }
}

SW_DEVICE float quadMax(float v) { return fmaxf(fmaxf(v, shflXor(v, 1)), shflXor(fmaxf(v, shflXor(v, 1)), 2)); }

// Softmax(j): online update in the log2 domain. S(j) is exponentiated in place; alpha(j) rescales
// the old O and l. A row whose max is still -inf uses 0 as its max so that no inf - inf NaN appears.
template <int SB, int AB>
SW_DEVICE void opSoftmax(const Ctx& c, Regs& r, int j) {
  float* s = r.s[SB];
  if (tileNeedsMask(c, j)) maskTile<SB>(c, r, j);
  float mx[2] = {NEG_INF, NEG_INF};
#pragma unroll
  for (int i = 0; i < S_REGS; ++i) mx[(i >> 1) & 1] = fmaxf(mx[(i >> 1) & 1], s[i]);
  float use[2];
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const float mNew = fmaxf(r.m[h], quadMax(mx[h]) * c.scaleLog2);
    use[h] = mNew == NEG_INF ? 0.f : mNew;
    r.alpha[AB][h] = ex2(r.m[h] - use[h]);
    r.m[h] = mNew;
  }
  float sum[2] = {0.f, 0.f};
#pragma unroll
  for (int i = 0; i < S_REGS; ++i) {
    const int h = (i >> 1) & 1;
    s[i] = ex2(fmaf(s[i], c.scaleLog2, -use[h]));
    sum[h] += s[i];
  }
#pragma unroll
  for (int h = 0; h < 2; ++h) r.l[h] = fmaf(r.l[h], r.alpha[AB][h], sum[h]);
}

#if SW_P_SHARED
// P in shared memory, K-major without swizzle: 8 x 8 core matrices of 128 contiguous bytes,
// K-adjacent ones 128 B apart (LBO) and 8-row groups P_SBO apart. The thread's pair t of P(j)
// (row 16w + l/4 + 8(t&1), columns 8(t>>1) + 2(l%4) and +1, as in the accumulator fragment) lands
// at a fixed offset from one per-thread base, and one store instruction covers a whole core matrix
// per warp: no bank conflict, no swizzle arithmetic.
// `sync`: end with the warpgroup barrier that publishes P. Without it, the caller guarantees that
// a barrier over the warpgroup's threads (the ping-pong turn's) separates the stores from the wgmma.
template <typename F>
SW_DEVICE void storeP(const Ctx& c, int pb, F value, bool sync) {
  const u32 base = pTile(c, pb) + (c.warp % 4) * 2 * Smem::P_SBO + (c.lane / 4) * 16 + 4 * (c.lane % 4);
#pragma unroll
  for (int t = 0; t < P_REGS; ++t) {
    asm volatile("st.shared.b32 [%0], %1;" :: "r"(base + (t & 1) * Smem::P_SBO + (t >> 1) * 128), "r"(value(t)) : "memory");
  }
  // The P V wgmma reads through the async proxy, after every warp of the warpgroup wrote its rows.
  fenceProxyAsync();
  if (sync) namedBarSync(BAR_P_WG0 + c.wg, 128);
}
#endif

// The tail of Softmax(j): P(j) = 16-bit S(j), laid out as the A operand of the P V wgmma.
template <int SB, int PB>
SW_DEVICE void opPackP(const Ctx& c, Regs& r) {
#if SW_P_SHARED
  // With ping-pong, the turn's barrier (bar.sync over both warpgroups, every thread of this one
  // taking part) always lies between Softmax(j)'s packing and MMA1(j): it publishes P.
  storeP(c, PB, [&](int t) { return PACK(r.s[SB][2 * t], r.s[SB][2 * t + 1]); }, !SW_PINGPONG);
#else
#pragma unroll
  for (int t = 0; t < P_REGS; ++t) r.p[PB][t] = PACK(r.s[SB][2 * t], r.s[SB][2 * t + 1]);
#endif
}

// A dummy MMA1 (an iteration past the end, issued so no wgmma sits in a branch) multiplies zeros.
template <int PB>
SW_DEVICE void zeroP(const Ctx& c, Regs& r) {
#if SW_P_SHARED
  storeP(c, PB, [](int) { return 0u; }, true);  // a dummy MMA1 may follow inside the same turn
#else
#pragma unroll
  for (int t = 0; t < P_REGS; ++t) r.p[PB][t] = 0u;
#endif
}

// MUL(j): O *= alpha(j).
template <int AB>
SW_DEVICE void opMul(Regs& r) {
#pragma unroll
  for (int i = 0; i < O_REGS; ++i) r.o[i] *= r.alpha[AB][(i >> 1) & 1];
}

// ---- set-up and final store --------------------------------------------------------------------------
SW_DEVICE int numTiles(int seqLen, int m0) {
  const int kvEnd = CAUSAL ? min(seqLen, m0 + BLOCK_M) : seqLen;
  return (kvEnd + BLOCK_N - 1) / BLOCK_N;
}

SW_DEVICE void initBarriers(const Ctx& c) {
  if (c.tid == 0) {
    for (int i = 0; i < K_BUFS; ++i) {
      mbarInit(fullK(c, i), SW_LOAD_TMA ? 1 : NUM_THREADS);
      mbarInit(emptyK(c, i), NUM_WARPS);
    }
    for (int i = 0; i < V_BUFS; ++i) {
      mbarInit(fullV(c, i), SW_LOAD_TMA ? 1 : NUM_THREADS);
      mbarInit(emptyV(c, i), NUM_WARPS);
    }
    mbarInit(c.base + Smem::FULL_Q, 1);
    fenceBarrierInit();
  }
  // Dummy MMA1s (see zeroP) read V slots before any copy may have landed: zeros make 0 * V exact
  // where uninitialised shared memory could hold NaN patterns. The fence orders these generic
  // stores before the async proxy's (TMA, wgmma) accesses.
  for (u32 off = c.tid * 16; off < V_BUFS * Smem::TILE_BYTES; off += blockDim.x * 16)
    asm volatile("st.shared.v4.u32 [%0], {%1, %1, %1, %1};" :: "r"(c.base + Smem::V + off), "r"(0u) : "memory");
  fenceProxyAsync();
  __syncthreads();
}

// Q for the whole CTA (each warpgroup's 64 rows in its own block). The cp.async variant commits it as
// the oldest group, so the first wait for a K tile covers it too.
SW_DEVICE void loadQ(const Ctx& c) {
#if SW_LOAD_TMA
  if (c.tid == PRODUCER_TID) {
    expectTx(c.base + Smem::FULL_Q, NUM_WG * Smem::Q_WG_BYTES);
    for (int w = 0; w < NUM_WG; ++w)
      for (int b = 0; b < HEAD_DIM / 64; ++b)
        tmaLoad3d(c.base + Smem::Q + w * Smem::Q_WG_BYTES + b * 64 * 128, c.tmQ, b * 64, c.m0 + w * 64, c.bh,
                  c.base + Smem::FULL_Q);
  }
#else
  for (int w = 0; w < NUM_WG; ++w)
    cpAsyncTile(c, c.base + Smem::Q + w * Smem::Q_WG_BYTES, c.q, c.m0 + w * 64, 64);
  cpAsyncCommit();
#endif
}

SW_DEVICE void initRegs(Regs& r) {
#pragma unroll
  for (int i = 0; i < O_REGS; ++i) r.o[i] = 0.f;
#pragma unroll
  for (int h = 0; h < 2; ++h) { r.m[h] = NEG_INF; r.l[h] = 0.f; }
}

// O = acc / l in the output dtype, LSE = ln(sum exp(scaled S)) per row; rows past the end are skipped.
SW_DEVICE void storeOutput(const Ctx& c, Regs& r, u16* o, float* lse) {
  float inv[2], lseRow[2];
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    float l = r.l[h];
    l += shflXor(l, 1);
    l += shflXor(l, 2);
    inv[h] = l > 0.f ? 1.f / l : 0.f;
    lseRow[h] = (r.m[h] + __log2f(l)) * 0.69314718055994531f;
  }
#pragma unroll
  for (int i = 0; i < O_REGS; i += 2) {
    const int row = fragRow(c, i), h = (i >> 1) & 1;
    if (row < c.seqLen) {
      u32* dst = reinterpret_cast<u32*>(o + ((size_t)c.bh * c.seqLen + row) * HEAD_DIM + fragCol(c, i));
      *dst = PACK(r.o[i] * inv[h], r.o[i + 1] * inv[h]);
    }
  }
  if (c.lane % 4 == 0) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int row = fragRow(c, 2 * h);
      if (row < c.seqLen) lse[(size_t)c.bh * c.seqLen + row] = lseRow[h];
    }
  }
}

// ---- warp specialization ------------------------------------------------------------------------
// The producer warpgroup gives its registers to the consumers (FA3's budget for two consumer
// warpgroups: 24 / 240; 24 + 2 * 240 = 3 * 168, the per-thread share at entry).
SW_DEVICE void producerRegisters() { asm volatile("setmaxnreg.dec.sync.aligned.u32 24;"); }
SW_DEVICE void consumerRegisters() { asm volatile("setmaxnreg.inc.sync.aligned.u32 240;"); }

// The producer's whole job: Q, then K(j) and V(j) in iteration order, each as soon as its ring
// slot is released. The schedule's load stages become how far ahead this runs (the ring sizes).
SW_DEVICE void producerLoop(const Ctx& c) {
  loadQ(c);
  for (int j = 0; j < c.tiles; ++j) {
    opLoadK(c, j);
    opLoadV(c, j);
  }
}
