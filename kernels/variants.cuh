// variants.cuh: the kernel's state (the shared-memory layout checks, Ctx, Regs, rings, barriers)
// and the variant policies. The generated source defines the plan's constants and `struct Smem`
// before including this file, then picks one policy of each kind with `using` lines:
//   Loads  = CpAsyncLoads | TmaLoads<TmaIssuer::Consumer> | TmaLoads<TmaIssuer::ProducerWarpgroup>
//   PPath  = PInRegisters | PInShared<PPublish::OwnBarrier> | PInShared<PPublish::TurnBarrier>
//   QDesc  = QDescVisible | QDescOpaque
//   Logits = PlainLogits | SoftcapLogits<TanhLibm | TanhExp2 | TanhApprox>
//   OStore = OStoreRegisters | OStoreTma | OStoreTmaPacked
//   Tiles  = StaticTiles | DynamicTiles (the persistent kernel only)
// and includes attention.cuh, whose ops call the policies. Variants are types, never #if.
//
// Expects: KV_SHARE, HEAD_DIM, BLOCK_M, BLOCK_N, NUM_WG, K_BUFS, V_BUFS, S_TILES, P_TILES, A_TILES, MASKED, VARLEN,
// PRODUCER_WARPGROUP, PRODUCER_REGS, CONSUMER_REGS, PERSISTENT, TILE_SLOTS, ALIGNMENT_SLACK, HOPPER_MAX_SHARED_BYTES, struct Smem, PACK(lo, hi), and from
// wgmma.cuh WGMMA_S, WGMMA_O_REGS, WGMMA_O_SHARED.
#pragma once

// Consumer threads (the ones that compute); a producer warpgroup, when present, comes after them.
constexpr int NUM_THREADS = 128 * NUM_WG;
constexpr int NUM_WARPS = 4 * NUM_WG;
constexpr int S_REGS = BLOCK_N / 2;     // f32 accumulator registers of S per thread
constexpr int P_REGS = BLOCK_N / 4;     // packed 16-bit P registers per thread
constexpr int O_REGS = HEAD_DIM / 2;    // f32 accumulator registers of O per thread
#define NEG_INF __int_as_float(0xff800000)  // -inf; no constexpr builtin works under both nvcc and NVRTC

// ---- the plan's shared-memory layout, checked against what C++ can derive ------------------------
// Every tile is a stack of 64-column blocks (rows x 128 B each), the canonical K-major 128B-swizzled
// layout; TMA and wgmma need each tile on a 1024-byte boundary.
static_assert(Smem::Q_WG_BYTES == 64 * HEAD_DIM * 2, "Q block size disagrees with the head dim");
static_assert(Smem::TILE_BYTES == BLOCK_N * HEAD_DIM * 2, "K/V tile size disagrees with BLOCK_N x HEAD_DIM");
static_assert(Smem::Q % 1024 == 0 && Smem::K % 1024 == 0 && Smem::V % 1024 == 0 && Smem::TILE_BYTES % 1024 == 0,
              "Q, K and V tiles must keep 1024-byte alignment");
static_assert(Smem::Q_BUF_BYTES == NUM_WG * Smem::Q_WG_BYTES && (Smem::Q_BUFS == 1 || (Smem::Q_BUFS == 2 && PERSISTENT)),
              "a Q buffer is one 64-row block per warpgroup; two buffers only in a persistent kernel");
static_assert(Smem::K >= Smem::Q + Smem::Q_BUFS * Smem::Q_BUF_BYTES, "Q overlaps the K ring");
static_assert(Smem::V >= Smem::K + K_BUFS * Smem::TILE_BYTES, "the K ring overlaps the V ring");
// O either in Q's place (O_IN_Q) or after the V ring. In Q's place without a tile loop, or with two
// Q buffers (tile n's O in tile n's buffer): a persistent CTA with one buffer loads the next tile's
// Q while this tile's O may still be in it.
static_assert(Smem::O_IN_Q ? (Smem::O == Smem::Q && Smem::O_BYTES == NUM_WG * Smem::Q_WG_BYTES && (!PERSISTENT || Smem::Q_BUFS == 2))
                           : (Smem::O >= Smem::V + V_BUFS * Smem::TILE_BYTES && Smem::O % 1024 == 0),
              "the V ring overlaps the O tiles, they lose 1024-byte alignment, or O sits in Q's place in a persistent kernel");
static_assert(Smem::O_BYTES == 0 || Smem::O_BYTES == NUM_WG * Smem::Q_WG_BYTES, "one O tile per warpgroup, Q's size");
static_assert(Smem::P >= (Smem::O_IN_Q ? Smem::V + V_BUFS * Smem::TILE_BYTES : Smem::O + Smem::O_BYTES), "the O tiles or the V ring overlap the P tiles");
static_assert(Smem::P_SBO == BLOCK_N * 16 && Smem::P_WG_BYTES == 8 * Smem::P_SBO, "P tile geometry");
static_assert(Smem::FULL_K % 8 == 0 && Smem::EMPTY_K >= Smem::FULL_K + 8 * K_BUFS && Smem::FULL_V >= Smem::EMPTY_K + 8 * K_BUFS &&
              Smem::EMPTY_V >= Smem::FULL_V + 8 * V_BUFS && Smem::FULL_Q >= Smem::EMPTY_V + 8 * V_BUFS && Smem::EMPTY_Q >= Smem::FULL_Q + 8 * Smem::Q_BUFS * NUM_WG &&
              Smem::TILE_FULL >= Smem::EMPTY_Q + 8 * Smem::Q_BUFS * NUM_WG && Smem::TILE_EMPTY >= Smem::TILE_FULL + 8 * TILE_SLOTS &&
              Smem::TILE_IDS >= Smem::TILE_EMPTY + 8 * TILE_SLOTS && Smem::END >= Smem::TILE_IDS + 4 * TILE_SLOTS,
              "mbarriers overlap");
static_assert(KV_SHARE == 1 || (KV_SHARE == 2 && PERSISTENT && PRODUCER_WARPGROUP && !MASKED && !VARLEN && (BLOCK_N / 2) % 8 == 0),
              "two CTAs share K/V only in the static persistent kernel with the producer warpgroup, unmasked, fixed lengths, half tiles on 1024 B");
static_assert(Smem::END + ALIGNMENT_SLACK <= Smem::LAUNCH_BYTES, "the layout does not fit the launch's dynamic shared memory");
static_assert(Smem::LAUNCH_BYTES <= HOPPER_MAX_SHARED_BYTES, "the launch asks for more shared memory than Hopper has");

// Named barrier ids (id 0 is __syncthreads): one per consumer warpgroup (up to three) for each of
// the ping-pong turn, the P publish and the O store; 16 exist.
enum NamedBarrier : u32 { BAR_CPASYNC_FULL = 1, BAR_PINGPONG_WG0 = 2, BAR_P_WG0 = 5, BAR_O_WG0 = 8, BAR_TAIL = 11, BAR_END = 12 };
static_assert(NUM_WG <= 3 && BAR_END <= 16, "named barriers: three per consumer warpgroup, at most three warpgroups");

// The producer warpgroup's register split (the plan's registerSplit; ptx.cuh).
SW_DEVICE void producerRegisters() { if constexpr (PRODUCER_WARPGROUP) setmaxnregDec<PRODUCER_REGS>(); }
SW_DEVICE void consumerRegisters() { if constexpr (PRODUCER_WARPGROUP) setmaxnregInc<CONSUMER_REGS>(); }
// What __launch_bounds__(threads, 1) gives each thread at entry with the producer warpgroup (its
// 128 threads and NUM_WG consumer warpgroups): 65536 over the CTA, in steps of 8.
constexpr int LAUNCH_REGS = 65536 / (128 * (NUM_WG + 1)) / 8 * 8;
static_assert(!PRODUCER_WARPGROUP || 128 * (LAUNCH_REGS - PRODUCER_REGS) == 128 * NUM_WG * (CONSUMER_REGS - LAUNCH_REGS),
              "the producer must free exactly the registers the consumers take");

struct Ctx {
  u32 base;            // shared-memory address of the aligned base
  int tid, wg, warp, lane;
  int batch;           // batch index (pointers); tmaBatch: the TMA coordinate (0 for packed sequences)
  int tmaBatch;
  int hq, hk;          // query head and the K/V head it reads (grouped-query attention)
  int qStart, kStart;  // first token of this sequence in the Q and K/V tensors (packed sequences)
  int seqQ, seqK;      // this sequence's query and key lengths
  int off;             // seqK - seqQ: query i is aligned with key i + off (bottom-right)
  int winLeft, winRight;  // visible keys i + off - winLeft .. i + off + winRight; -1 = unbounded
  int m0;              // first query row of this CTA
  int kvTile0;         // first KV tile this CTA visits (windows skip the ones before)
  int tiles;           // number of KV tiles this CTA visits
  int ring0;           // ring position of KV tile 0 (a persistent CTA's rings run on across its tiles)
  int qUse;            // this tile's Q fill: a persistent CTA's count of tiles that loaded Q (buffer qUse % Q_BUFS)
  u32 rank;            // KV_SHARE 2: this CTA's rank in its cluster of two (0 otherwise)
  float scaleLog2;     // softmax scale * log2(e)
  float capScale, capLog2;  // softcap: tanh(s * scale / cap) * cap * log2(e)
  const TmaDesc* tmQ; const TmaDesc* tmK; const TmaDesc* tmV;
  const u16* q; const u16* k; const u16* v;   // this sequence's row 0 of this head (cp.async loads)
  long long qRow, kRow, vRow;                 // element strides between tokens
};

struct Regs {
  float s[S_TILES][S_REGS];
  u32 p[P_TILES][P_REGS];
  float o[O_REGS];
  float m[2];          // running row max (log2 domain) of the thread's two rows
  float l[2];          // running row sum, thread-partial (quad-reduced at the end)
  float alpha[A_TILES][2];
  bool rescale[A_TILES];  // LAZY_RESCALE: some row of the warp moved its max, so MUL runs
};

// Accumulator fragment of m64nNk16: register i of thread (warp w, lane l) holds
// row 16w + l/4 + 8*((i>>1)&1), column 8*(i>>2) + 2*(l%4) + (i&1).
SW_DEVICE int fragRow(const Ctx& c, int i) { return c.m0 + c.wg * 64 + (c.warp % 4) * 16 + c.lane / 4 + 8 * ((i >> 1) & 1); }
SW_DEVICE int fragCol(const Ctx& c, int i) { return 8 * (i >> 2) + 2 * (c.lane % 4) + (i & 1); }

// Ring-buffer position of iteration j in an n-slot ring: slot and the phase parity to wait for.
struct Ring {
  u32 slot, parity;
  SW_DEVICE Ring(int j, int n) : slot(static_cast<u32>(j % n)), parity(static_cast<u32>((j / n) & 1)) {}
};

// Ring positions: KV tile j of this CTA's current query tile.
SW_DEVICE Ring kRing(const Ctx& c, int j) { return Ring(c.ring0 + j, K_BUFS); }
SW_DEVICE Ring vRing(const Ctx& c, int j) { return Ring(c.ring0 + j, V_BUFS); }

SW_DEVICE u32 fullK(const Ctx& c, u32 slot) { return c.base + Smem::FULL_K + 8 * slot; }
SW_DEVICE u32 emptyK(const Ctx& c, u32 slot) { return c.base + Smem::EMPTY_K + 8 * slot; }
SW_DEVICE u32 fullV(const Ctx& c, u32 slot) { return c.base + Smem::FULL_V + 8 * slot; }
SW_DEVICE u32 emptyV(const Ctx& c, u32 slot) { return c.base + Smem::EMPTY_V + 8 * slot; }
// Warpgroup w's Q block of Q fill u (buffer u % Q_BUFS): landed (fullQ, phase (u / Q_BUFS) & 1), and
// in a persistent CTA free for a later fill (emptyQ).
SW_DEVICE u32 qBuf(int u) { return static_cast<u32>(u % Smem::Q_BUFS); }
SW_DEVICE u32 qFillParity(int u) { return static_cast<u32>((u / Smem::Q_BUFS) & 1); }
SW_DEVICE u32 qBlock(const Ctx& c, int w, int u) { return c.base + Smem::Q + qBuf(u) * Smem::Q_BUF_BYTES + w * Smem::Q_WG_BYTES; }
SW_DEVICE u32 fullQ(const Ctx& c, int w, int u) { return c.base + Smem::FULL_Q + 8 * (qBuf(u) * NUM_WG + w); }
SW_DEVICE u32 emptyQ(const Ctx& c, int w, int u) { return c.base + Smem::EMPTY_Q + 8 * (qBuf(u) * NUM_WG + w); }
SW_DEVICE u32 kTile(const Ctx& c, int j) { return c.base + Smem::K + kRing(c, j).slot * Smem::TILE_BYTES; }
SW_DEVICE u32 vTile(const Ctx& c, int j) { return c.base + Smem::V + vRing(c, j).slot * Smem::TILE_BYTES; }

// ---- loads --------------------------------------------------------------------------------------------
// Copies `rows` rows of a head (starting at row0) into a 128B-swizzled tile at dst with cp.async,
// zero-filling rows past the sequence end. Chunk c (16 B) of row r lands at chunk c ^ (r % 8).
// Copies `rows` rows (starting at row0, `stride` elements apart) into a 128B-swizzled tile at dst
// with cp.async, zero-filling rows at or past `limit`. Chunk c (16 B) of row r lands at chunk c ^ (r % 8).
SW_DEVICE void cpAsyncTile(const Ctx& c, u32 dst, const u16* src, long long stride, int row0, int rows, int limit) {
  constexpr int CHUNKS_PER_ROW = HEAD_DIM / 8;
  for (int idx = c.tid; idx < rows * CHUNKS_PER_ROW; idx += NUM_THREADS) {
    const int r = idx / CHUNKS_PER_ROW, chunk = idx % CHUNKS_PER_ROW;
    const int block = chunk / 8, cc = chunk % 8;
    const u32 d = dst + block * rows * 128 + r * 128 + ((cc ^ (r & 7)) << 4);
    const bool inside = row0 + r < limit;
    const u16* s = src + (inside ? row0 + r : 0) * stride + chunk * 8;
    cpAsync16(d, s, inside ? 16u : 0u);
  }
}

// KV tile j of this CTA's range as an absolute tile index, and its first key row (windows start past tile 0).
SW_DEVICE int kvTileIndex(const Ctx& c, int j) { return MASKED ? c.kvTile0 + j : j; }
SW_DEVICE int kvRow(const Ctx& c, int j) { return kvTileIndex(c, j) * BLOCK_N; }

// SPLIT_TAIL: the producer's current item starts this many keys into its sequence (a piece of a
// split tile; 0 for a whole one). Kept in the tile-id word the static scheduler does not use and read
// at each load (volatile): held in a register through the producer's loop it spilled its 24
// (ptxas, kvShare 2). The consumers count keys from the piece's first instead (seqK less the skip),
// so their KV tile j is the producer's j.
SW_DEVICE void setPieceKeys(const Ctx& c, int skip) { if constexpr (SPLIT_TAIL) stShared32(c.base + Smem::TILE_IDS, static_cast<u32>(skip)); }
SW_DEVICE int pieceKeys(const Ctx& c) { return static_cast<int>(ldShared32(c.base + Smem::TILE_IDS)); }
// The K/V row a TMA load of KV tile j starts at. Without the split exactly the expression it always
// was: `c.kStart + 0 + kvRow` with the zero folded still moved ptxas to spill 24 B in firstDot hd128
// with every feature (nvcc.test, session 19).
SW_DEVICE int keyRow(const Ctx& c, int j) {
  if constexpr (SPLIT_TAIL) return c.kStart + pieceKeys(c) + kvRow(c, j);
  else return c.kStart + kvRow(c, j);
}

// Every consumer thread copies part of each tile with cp.async where the schedule places the load;
// completion is a cp.async group (its wait count is generated) and a CTA-wide barrier.
struct CpAsyncLoads {
  static constexpr u32 FULL_ARRIVALS = NUM_THREADS;
  // A slot is reused only once every warp released its previous occupant (empty barrier); loaders
  // start waiting on parity 1, which a fresh barrier reports complete: every slot begins empty.
  static SW_DEVICE void loadK(const Ctx& c, int j) {
    const Ring ring = kRing(c, j);
    mbarWait(emptyK(c, ring.slot), ring.parity ^ 1);
    cpAsyncTile(c, kTile(c, j), c.k, c.kRow, kvRow(c, j), BLOCK_N, c.seqK);
  }
  static SW_DEVICE void loadV(const Ctx& c, int j) {
    const Ring ring = vRing(c, j);
    mbarWait(emptyV(c, ring.slot), ring.parity ^ 1);
    cpAsyncTile(c, vTile(c, j), c.v, c.vRow, kvRow(c, j), BLOCK_N, c.seqK);
  }
  // Q is committed as the oldest group, so the first wait for a K tile covers it too.
  static SW_DEVICE void loadQ(const Ctx& c) {
    for (int w = 0; w < NUM_WG; ++w) cpAsyncTile(c, qBlock(c, w, c.qUse), c.q, c.qRow, c.m0 + w * 64, 64, c.seqQ);
    cpAsyncCommit();
  }
  static SW_DEVICE void waitQ(const Ctx&) {}
  // After this thread's cp.async wait: its copies become visible to wgmma (async proxy), and the
  // barrier waits for every other thread's part of the tile.
  static SW_DEVICE void cpAsyncPublish(const Ctx&) {
    fenceProxyAsync();
    namedBarSync(BAR_CPASYNC_FULL, NUM_THREADS);
  }
};

// One thread issues TMA copies: a consumer thread where the schedule places the loads, or the
// producer warpgroup's first thread, which loads Q, K(0), V(0), K(1), ... as slots free up.
enum class TmaIssuer { Consumer, ProducerWarpgroup };

template <TmaIssuer ISSUER>
struct TmaLoads {
  static constexpr int ISSUER_TID = ISSUER == TmaIssuer::ProducerWarpgroup ? NUM_THREADS : 0;
  static constexpr u32 FULL_ARRIVALS = 1;
  static_assert((ISSUER == TmaIssuer::ProducerWarpgroup) == PRODUCER_WARPGROUP, "the plan's load path disagrees with the kernel's warpgroups");
  static SW_DEVICE void loadK(const Ctx& c, int j) { load(c, c.tmK, kTile(c, j), Smem::FULL_K, Smem::EMPTY_K, j, kRing(c, j)); }
  static SW_DEVICE void loadV(const Ctx& c, int j) { load(c, c.tmV, vTile(c, j), Smem::FULL_V, Smem::EMPTY_V, j, vRing(c, j)); }
  // Rows past this sequence's keys: zero-filled past the tensor's end, another packed sequence's
  // rows otherwise; the softmax masks them (column >= seqK) either way.
  static SW_DEVICE void load(const Ctx& c, const TmaDesc* map, u32 dst, u32 fullOff, u32 emptyOff, int j, Ring ring) {
    if (c.tid == ISSUER_TID) {
      // Loaders start waiting on parity 1, which a fresh barrier reports complete: every slot begins empty.
      // KV_SHARE 2: this empty barrier counts both CTAs' warps, so the slot is free in both.
      mbarWait(c.base + emptyOff + 8 * ring.slot, ring.parity ^ 1);
      // KV_SHARE 2: the whole tile's bytes, half from this CTA's copy and half from the peer's
      // (a peer's bytes landing first only run the count below zero; the phase waits for this arrival).
      expectTx(c.base + fullOff + 8 * ring.slot, Smem::TILE_BYTES);
      if constexpr (KV_SHARE == 2) {
        // This CTA's half of the rows, into both CTAs: row offset rank * BLOCK_N / 2 of each 64-column block.
        const int half = static_cast<int>(c.rank) * (BLOCK_N / 2);
#pragma unroll
        for (int b = 0; b < HEAD_DIM / 64; ++b)
          tmaLoad4dMulticast(dst + b * BLOCK_N * 128 + half * 128, map, b * 64, keyRow(c, j) + half, c.hk, c.tmaBatch,
                             c.base + fullOff + 8 * ring.slot, 0x3);
      } else {
#pragma unroll
        for (int b = 0; b < HEAD_DIM / 64; ++b)
          tmaLoad4d(dst + b * BLOCK_N * 128, map, b * 64, keyRow(c, j), c.hk, c.tmaBatch, c.base + fullOff + 8 * ring.slot);
      }
    }
  }
  // Warpgroup w's 64-row Q block of fill c.qUse, on its own barrier (fullQ).
  static SW_DEVICE void loadQBlock(const Ctx& c, int w) {
    if (c.tid == ISSUER_TID) {
      const u32 full = fullQ(c, w, c.qUse);
      expectTx(full, Smem::Q_WG_BYTES);
#pragma unroll
      for (int b = 0; b < HEAD_DIM / 64; ++b)
        tmaLoad4d(qBlock(c, w, c.qUse) + b * 64 * 128, c.tmQ, b * 64, c.qStart + c.m0 + w * 64, c.hq, c.tmaBatch, full);
    }
  }
  static SW_DEVICE void loadQ(const Ctx& c) {
    for (int w = 0; w < NUM_WG; ++w) loadQBlock(c, w);
  }
  // Waits until tile j is in shared memory.
  static SW_DEVICE void waitK(const Ctx& c, int j) { const Ring r = kRing(c, j); mbarWait(fullK(c, r.slot), r.parity); }
  static SW_DEVICE void waitV(const Ctx& c, int j) { const Ring r = vRing(c, j); mbarWait(fullV(c, r.slot), r.parity); }
  // Complete after the tile's first MMA0: one poll each later time.
  static SW_DEVICE void waitQ(const Ctx& c) { mbarWait(fullQ(c, c.wg, c.qUse), qFillParity(c.qUse)); }
};

// ---- tile schedulers of the persistent kernel: the order and the hand-off (src/codegen/scheduler.ts, line for line) ----
#include "tiles.cuh"
#include "fragments.cuh"

// Static: CTA i takes tiles i, i + grid, ...; producer and consumers each count for themselves.
struct StaticTiles {
  static SW_DEVICE int next(const Ctx&, const TileWork&, int t) { return t + static_cast<int>(gridDim.x); }
  static SW_DEVICE void publish(const Ctx&, int, int) {}
  static SW_DEVICE int consumerTile(const Ctx&, int n) { return static_cast<int>(blockIdx.x + n * gridDim.x); }
  static SW_DEVICE void finish(const TileWork&) {}
};

// Dynamic: the producer takes counter + grid when it starts a tile (the atomic's latency hides
// behind that tile's loads) and publishes each tile id in a two-slot ring; every consumer warp
// reads it, then releases the slot.
struct DynamicTiles {
  static SW_DEVICE int next(const Ctx&, const TileWork& w, int) { return atomicAdd(w.counter, 1) + static_cast<int>(gridDim.x); }
  static SW_DEVICE void publish(const Ctx& c, int n, int t) {
    const u32 slot = n % TILE_SLOTS, parity = (n / TILE_SLOTS) & 1;
    mbarWait(c.base + Smem::TILE_EMPTY + 8 * slot, parity ^ 1);
    stShared32(c.base + Smem::TILE_IDS + 4 * slot, static_cast<u32>(t));
    mbarArrive(c.base + Smem::TILE_FULL + 8 * slot);  // release: the id is visible to whoever sees the phase
  }
  static SW_DEVICE int consumerTile(const Ctx& c, int n) {
    const u32 slot = n % TILE_SLOTS, parity = (n / TILE_SLOTS) & 1;
    mbarWait(c.base + Smem::TILE_FULL + 8 * slot, parity);
    const int t = static_cast<int>(ldShared32(c.base + Smem::TILE_IDS + 4 * slot));
    __syncwarp();  // every lane has read the id before its warp frees the slot
    if (c.lane == 0) mbarArrive(c.base + Smem::TILE_EMPTY + 8 * slot);
    return t;
  }
  // The last CTA to finish resets the counter for the next launch on this stream: every CTA's last
  // fetch precedes its arrival here (the fence orders the two atomics).
  static SW_DEVICE void finish(const TileWork& w) {
    __threadfence();
    if (atomicAdd(w.counter + 1, 1) == static_cast<int>(gridDim.x) - 1) {
      atomicExch(w.counter, 0);
      atomicExch(w.counter + 1, 0);
    }
  }
};

// ---- register fences (the compiler must not move register accesses across a wgmma wait) ------------
template <int SB> SW_DEVICE void fenceS(Regs& r) {
#pragma unroll
  for (int i = 0; i < S_REGS; ++i) fenceReg(r.s[SB][i]);
}
SW_DEVICE void fenceO(Regs& r) {
#pragma unroll
  for (int i = 0; i < O_REGS; ++i) fenceReg(r.o[i]);
}

// ---- Q descriptors for S = Q K(j)^T --------------------------------------------------------------------
// Both operands K-major in shared memory. The caller fences before the sequence.
struct QDescVisible {
  template <int SB>
  static SW_DEVICE void mma0(Regs& r, u32 q, u32 kt) {
#pragma unroll
    for (int kk = 0; kk < HEAD_DIM / 16; ++kk) {
      const u64 da = makeDesc128B(q + (kk % 4) * 32 + (kk / 4) * 64 * 128, 16, 1024);
      const u64 db = makeDesc128B(kt + (kk % 4) * 32 + (kk / 4) * BLOCK_N * 128, 16, 1024);
      WGMMA_S(r.s[SB], da, db, kk > 0 ? 1 : 0);
    }
  }
};

// Q's descriptors never change; left visible, the compiler keeps all HEAD_DIM / 16 of them live
// across the loop, which two S tiles cannot afford. Made opaque, each step derives them from one
// base (an add into the start-address field, which cannot carry: every offset stays inside the
// 18-bit shared address).
struct QDescOpaque {
  template <int SB>
  static SW_DEVICE void mma0(Regs& r, u32 q, u32 kt) {
    u64 dq = makeDesc128B(q, 16, 1024);
    opaque(dq);
    const u64 dk = makeDesc128B(kt, 16, 1024);
#pragma unroll
    for (int kk = 0; kk < HEAD_DIM / 16; ++kk) {
      const u64 da = dq + (u64)(((kk % 4) * 32 + (kk / 4) * 64 * 128) >> 4);
      const u64 db = dk + (u64)(((kk % 4) * 32 + (kk / 4) * BLOCK_N * 128) >> 4);
      WGMMA_S(r.s[SB], da, db, kk > 0 ? 1 : 0);
    }
  }
};

// ---- P paths: how P(j) reaches O += P V(j) ------------------------------------------------------------
// P in registers: K-major by construction (the accumulator fragment of S is the A fragment of P V).
struct PInRegisters {
  static constexpr int SMEM_TILES = 0;
  template <int PB> static SW_DEVICE void fence(Regs& r) {
#pragma unroll
    for (int i = 0; i < P_REGS; ++i) fenceReg(r.p[PB][i]);
  }
  template <int SB, int PB> static SW_DEVICE void pack(const Ctx&, Regs& r) {
#pragma unroll
    for (int t = 0; t < P_REGS; ++t) r.p[PB][t] = PACK(r.s[SB][2 * t], r.s[SB][2 * t + 1]);
  }
  // A dummy MMA1 (an iteration past the end, issued so no wgmma sits in a branch) multiplies zeros.
  template <int PB> static SW_DEVICE void zero(const Ctx&, Regs& r) {
#pragma unroll
    for (int t = 0; t < P_REGS; ++t) r.p[PB][t] = 0u;
  }
  // accumulate false: the product overwrites O (the rotated tile loop's first P V, emit.ts); other
  // kernels keep the always-accumulating wrapper (wgmma.ts says why).
  template <int PB> static SW_DEVICE void mma1(const Ctx&, Regs& r, u32 vt, bool accumulate) {
#pragma unroll
    for (int kk = 0; kk < BLOCK_N / 16; ++kk) {
      const u64 db = makeDesc128B(vt + kk * 16 * 128, BLOCK_N * 128, 1024);
      if constexpr (CROSS_TILE) WGMMA_O_REGS_D(r.o, r.p[PB][4 * kk], r.p[PB][4 * kk + 1], r.p[PB][4 * kk + 2], r.p[PB][4 * kk + 3], db, kk > 0 || accumulate);
      else WGMMA_O_REGS(r.o, r.p[PB][4 * kk], r.p[PB][4 * kk + 1], r.p[PB][4 * kk + 2], r.p[PB][4 * kk + 3], db);
    }
  }
};

// Who publishes P in shared memory to the P V wgmma: a warpgroup barrier of its own, or the
// ping-pong turn's barrier (bar.sync of this warpgroup with the one handing it the turn, every
// thread of this one taking part), which always lies between Softmax(j)'s packing and MMA1(j) when
// the plan has turns.
enum class PPublish { OwnBarrier, TurnBarrier };

// P in shared memory, K-major without swizzle: 8 x 8 core matrices of 128 contiguous bytes,
// K-adjacent ones 128 B apart (LBO) and 8-row groups P_SBO apart. The thread's pair t of P(j)
// (row 16w + l/4 + 8(t&1), columns 8(t>>1) + 2(l%4) and +1, as in the accumulator fragment) lands
// at a fixed offset from one per-thread base, and one store instruction covers a whole core matrix
// per warp: no bank conflict, no swizzle arithmetic.
template <PPublish PUBLISH>
struct PInShared {
  static constexpr int SMEM_TILES = P_TILES;
  // This warpgroup's P tile pb.
  static SW_DEVICE u32 tile(const Ctx& c, int pb) { return c.base + Smem::P + (pb * NUM_WG + c.wg) * Smem::P_WG_BYTES; }
  // `sync`: end with the warpgroup barrier that publishes P; otherwise the turn's barrier does.
  template <typename F>
  static SW_DEVICE void store(const Ctx& c, int pb, F value, bool sync) {
    // P's fragment by stmatrix.x2, one 16-byte column chunk (both row halves) each (fragments.cuh).
    // Each matrix is 128 contiguous bytes, so the stores are free of bank conflicts. Not .x4: its
    // four packed values live at once spill 16 B in the 192-row secondDot kernel at 128 registers.
    const u32 base = pStoreRowAddr(tile(c, pb), c.warp % 4, c.lane, Smem::P_SBO);
    static_assert(P_REGS % 2 == 0, "P fragment in whole stmatrix.x2 pairs");
#pragma unroll
    for (int u = 0; u < P_REGS / 2; ++u) stMatrixX2(base + pStoreChunkOffset(u), value(pStorePair(u, 0)), value(pStorePair(u, 1)));
    // The P V wgmma reads through the async proxy, after every warp of the warpgroup wrote its rows.
    fenceProxyAsync();
    if (sync) namedBarSync(BAR_P_WG0 + c.wg, 128);
  }
  template <int PB> static SW_DEVICE void fence(Regs&) {}
  template <int SB, int PB> static SW_DEVICE void pack(const Ctx& c, Regs& r) {
    store(c, PB, [&](int t) { return PACK(r.s[SB][2 * t], r.s[SB][2 * t + 1]); }, PUBLISH == PPublish::OwnBarrier);
  }
  // A dummy MMA1 may follow inside the same turn, so zeroing always publishes with its own barrier.
  template <int PB> static SW_DEVICE void zero(const Ctx& c, Regs&) {
    store(c, PB, [](int) { return 0u; }, true);
  }
  template <int PB> static SW_DEVICE void mma1(const Ctx& c, Regs& r, u32 vt, bool accumulate) {
    const u32 pt = tile(c, PB);
#pragma unroll
    for (int kk = 0; kk < BLOCK_N / 16; ++kk) {
      const u64 db = makeDesc128B(vt + kk * 16 * 128, BLOCK_N * 128, 1024);
      if constexpr (CROSS_TILE) WGMMA_O_SHARED_D(r.o, makeDescInterleave(pt + kk * 2 * 128, 128, Smem::P_SBO), db, kk > 0 || accumulate);
      else WGMMA_O_SHARED(r.o, makeDescInterleave(pt + kk * 2 * 128, 128, Smem::P_SBO), db);
    }
  }
};

// ---- O stores: how the normalised O leaves the CTA (LSE is always a direct store) --------------------------
// Each thread's O fragment, scaled by its rows' 1/l: registers i, i+1 are two adjacent columns.
struct OStoreRegisters {
  // `o` points at this sequence's row 0 of this head; O rows are `oRow` elements apart; rows past
  // the sequence's end are skipped.
  static SW_DEVICE void store(const Ctx& c, const Regs& r, const float inv[2], u16* o, long long oRow, const TmaDesc*) {
    // The thread's two rows, addressed once: the per-store offsets are then compile-time constants
    // (a 64-bit row stride multiplied at every store doubled the epilogue's SASS).
    u16* rowPtr[2];
    bool rowIn[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int row = fragRow(c, 2 * h);
      rowIn[h] = row < c.seqQ;
      rowPtr[h] = o + row * oRow + fragCol(c, 0);
    }
#pragma unroll
    for (int i = 0; i < O_REGS; i += 2) {
      const int h = (i >> 1) & 1;
      if (rowIn[h]) *reinterpret_cast<u32*>(rowPtr[h] + (fragCol(c, i) - fragCol(c, 0))) = PACK(r.o[i] * inv[h], r.o[i + 1] * inv[h]);
    }
  }
  static SW_DEVICE void drain(const Ctx&) {}
};

// Through this warpgroup's O tile (Q's geometry: 64-column blocks of 64 rows x 128 B, 128B
// swizzle) and a TMA store per block, issued by the warpgroup's first thread. The store runs on
// while the warpgroup starts its next tile; only its reads of the O tile are awaited, when the
// tile is next written (and before the CTA exits). Rows past the tensor's extent are not written,
// so a block at the end of a sequence is safe (never used for packed sequences; plan.ts OStore).
// (A template so that the layout check below only applies to kernels that use it.)
// The thread of each warpgroup that issues its O tile's TMA store (and so alone can wait for its reads).
SW_DEVICE bool oStoreIssuer(const Ctx& c) { return c.tid % 128 == 0; }
template <int N = 0>
struct OStoreTmaPolicy {
  static_assert(N != 0 || Smem::O_BYTES == NUM_WG * Smem::Q_WG_BYTES, "oStore tma without O tiles in the layout");
  static SW_DEVICE bool issuer(const Ctx& c) { return oStoreIssuer(c); }
  static SW_DEVICE u32 tile(const Ctx& c) { return Smem::O_IN_Q ? qBlock(c, c.wg, c.qUse) : c.base + Smem::O + c.wg * Smem::Q_WG_BYTES; }
  static SW_DEVICE void store(const Ctx& c, const Regs& r, const float inv[2], u16*, long long, const TmaDesc* tmO) {
    stage(c, r, inv);
    issue(c, tmO);
  }
  // The warpgroup's O rows, scaled by inv and packed, into its O tile (the first half of store).
  static SW_DEVICE void stage(const Ctx& c, const Regs& r, const float inv[2]) {
    const u32 tile = OStoreTmaPolicy::tile(c);
    // Hazard (WAR on Q, O_IN_Q): the tile is this warpgroup's own Q block of this tile, read only by
    // its own QK^T wgmmas (dummies past the end included). Each warp's wgmmaWait<0> before
    // storeOutput retires its own; the namedBarSync below orders all four warps' waits before any
    // thread writes, so it is needed even where no earlier store can be reading the tile (one CTA
    // per tile). No other warpgroup reads the block. One CTA per tile, nothing loads Q again; with
    // two Q buffers the producer refills this one only after releaseQ (attention.cuh) saw this
    // store's reads done, in the next tile.
    // Hazard (WAR on the O tile): the previous tile's TMA store may still read it (O's own tiles;
    // with two Q buffers it used the other buffer). Its issuer waits for those reads; the barrier
    // then lets every thread of the warpgroup write.
    if (issuer(c)) bulkWaitRead<0>();
    namedBarSync(BAR_O_WG0 + c.wg, 128);
    // O's fragment, scaled and packed, by stmatrix.x4: two 16-byte column chunks (both row halves)
    // each, into the swizzled tile (fragments.cuh).
    static_assert(O_REGS % 8 == 0, "O fragment in whole stmatrix.x4 groups");
    const auto pair = [&](int g, int j) {
      const int i = 2 * oStagePair(g, j);
      return PACK(r.o[i] * inv[j & 1], r.o[i + 1] * inv[j & 1]);
    };
#pragma unroll
    for (int g = 0; g < O_REGS / 8; ++g)
      stMatrixX4(tile + oStageOffset(c.warp % 4, c.lane, g), pair(g, 0), pair(g, 1), pair(g, 2), pair(g, 3));
    // Hazard (RAW across proxies): the generic-proxy writes must be visible to the TMA engine
    // (async proxy): each writer fences here, then the barrier in issue() orders all of them before the store.
    fenceProxyAsync();
  }
  // The second half of store: every thread's staged rows fenced (stage), the issuer stores the tile.
  // Reads no accumulator, so the next tile's first QK^T may be in flight (crossTile).
  static SW_DEVICE void issue(const Ctx& c, const TmaDesc* tmO) {
    namedBarSync(BAR_O_WG0 + c.wg, 128);
    if (issuer(c)) {
      const u32 tile = OStoreTmaPolicy::tile(c);
#pragma unroll
      for (int b = 0; b < HEAD_DIM / 64; ++b)
        tmaStore4d(tmO, tile + b * 64 * 128, b * 64, c.qStart + c.m0 + c.wg * 64, c.hq, c.tmaBatch);
      bulkCommit();
    }
  }
  // Shared memory must outlive the last store's reads of it.
  static SW_DEVICE void drain(const Ctx& c) { if (issuer(c)) bulkWaitRead<0>(); }
};
using OStoreTma = OStoreTmaPolicy<>;

// Packed sequences (the plan's oStore 'tma' with varlen): a box is 64 rows of the packed tensor, so
// a warpgroup's block that runs past its sequence's end would write the next sequence's first rows
// (TMA clips only at the tensor's end). Such a block leaves from registers with its rows checked;
// every block that ends inside its sequence leaves by TMA, as above. The test is warpgroup-uniform
// (m0, wg and the sequence's length), so the TMA path's warpgroup barriers see all 128 threads.
// Hazard (WAW across the two paths): none; each block's rows are written once, by one path, and
// blocks of different tiles never overlap. The O tile is written only on the TMA path, whose
// stage() waits for the previous store's reads, as it does without packing.
// (A template, as OStoreTmaPolicy, so that only a kernel that uses it instantiates the TMA store.)
template <int N = 0>
struct OStoreTmaPackedPolicy {
  static SW_DEVICE bool wholeBlock(const Ctx& c) { return c.m0 + c.wg * 64 + 64 <= c.seqQ; }
  static SW_DEVICE void store(const Ctx& c, const Regs& r, const float inv[2], u16* o, long long oRow, const TmaDesc* tmO) {
    if (wholeBlock(c)) OStoreTmaPolicy<N>::store(c, r, inv, o, oRow, tmO);
    else OStoreRegisters::store(c, r, inv, o, oRow, tmO);
  }
  static SW_DEVICE void drain(const Ctx& c) { OStoreTmaPolicy<N>::drain(c); }
};
using OStoreTmaPacked = OStoreTmaPackedPolicy<>;

// ---- logits: what the softmax exponentiates (log2 domain) ----------------------------------------------
// Plain: scale * s. The scale is folded into the exponent's multiplier.
struct PlainLogits {
  template <int SB> static SW_DEVICE void transform(const Ctx&, Regs&) {}
  static SW_DEVICE float log2Multiplier(const Ctx& c) { return c.scaleLog2; }
};
// Softcap (Gemma 2): cap * tanh(scale * s / cap). Applied before masking, so a masked logit stays -inf.
// How tanh is computed is the plan's softcapTanh (plan.ts SoftcapTanh); each policy maps the raw
// score s and capScale = scale / cap to tanh(s * capScale).
// CUDA's tanhf: a polynomial for |x| < 0.6 and the exponential form above, both computed, then a
// select (2 MUFU and about 10 other instructions).
struct TanhLibm {
  static SW_DEVICE float of(float s, float capScale) { return tanhf(s * capScale); }
};
// 1 - 2 / (e^(2x) + 1), e^(2x) = 2^(2 x log2 e): 2 MUFU and 3 other instructions. Absolute error a
// few units of 2^-23 (ex2.approx's relative 2^-22, rcp.approx's one unit); near 0 the subtraction
// cancels, so the error stays absolute, which is what the logit cap * tanh(x) sees (50 * 2^-21).
// Large |x|: 2^(2 x log2 e) is +inf (rcp 0: tanh 1) or flushes to 0 (rcp 1: tanh -1); NaN stays NaN.
struct TanhExp2 {
  static SW_DEVICE float of(float s, float capScale) {
    const float e = ex2(s * (capScale * 2.8853900817779268f));  // 2 log2(e)
    return fmaf(-2.f, rcpApprox(e + 1.f), 1.f);
  }
};
// tanh.approx.f32 (1 MUFU): relative error up to about 2^-11, so a cap of 50 moves a logit near the
// cap by up to 0.024 (FlashAttention's choice).
struct TanhApprox {
  static SW_DEVICE float of(float s, float capScale) { return tanhApprox(s * capScale); }
};
template <class Tanh>
struct SoftcapLogits {
  template <int SB> static SW_DEVICE void transform(const Ctx& c, Regs& r) {
#pragma unroll
    for (int i = 0; i < S_REGS; ++i) r.s[SB][i] = Tanh::of(r.s[SB][i], c.capScale);
  }
  static SW_DEVICE float log2Multiplier(const Ctx& c) { return c.capLog2; }
};
