// ptx.cuh: one tiny named function per PTX instruction family used by stagewise kernels.
// The generated source includes no CUDA toolkit header, so NVRTC needs no include path:
// every type and intrinsic below is spelled out here.
#pragma once

typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

// A CUtensorMap travels by value as a __grid_constant__ kernel parameter (128 bytes, 64-aligned).
struct alignas(64) TmaDesc { char bytes[128]; };

#define SW_DEVICE __device__ __forceinline__

SW_DEVICE u32 smemAddr(const void* p) { return static_cast<u32>(__cvta_generic_to_shared(p)); }

// ---- mbarrier ------------------------------------------------------------------------------
SW_DEVICE void mbarInit(u32 bar, u32 count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" :: "r"(bar), "r"(count) : "memory");
}
// Makes the initialised barriers visible to the async proxy (TMA) and to other threads.
SW_DEVICE void fenceBarrierInit() { asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory"); }
// Adds `bytes` to the transaction count and arrives once: the phase completes when TMA has written them.
SW_DEVICE void expectTx(u32 bar, u32 bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" :: "r"(bar), "r"(bytes) : "memory");
}
SW_DEVICE void mbarArrive(u32 bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" :: "r"(bar) : "memory");
}
// Blocks until the phase with the given parity has completed. With SW_DEBUG_HANG defined the wait
// traps after 4 s on the GPU's global timer (2^26 polls took 266 s on an H200: each try_wait
// suspends for microseconds), so a schedule that deadlocks becomes a launch error, not a hang.
SW_DEVICE bool mbarTryWait(u32 bar, u32 parity) {
  u32 done;
  asm volatile(
      "{\n\t.reg .pred p;\n\t"
      "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n\t"
      "selp.u32 %0, 1, 0, p;\n\t}" : "=r"(done) : "r"(bar), "r"(parity) : "memory");
  return done != 0;
}
SW_DEVICE u64 globalTimerNs() {
  u64 t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}
SW_DEVICE void mbarWait(u32 bar, u32 parity) {
#ifdef SW_DEBUG_HANG
  if (mbarTryWait(bar, parity)) return;
  const u64 start = globalTimerNs();
  for (u32 polls = 1; !mbarTryWait(bar, parity); ++polls) {
    if (polls % 256 == 0 && globalTimerNs() - start > 4000000000ull) asm volatile("trap;");
  }
#else
  while (!mbarTryWait(bar, parity)) {
  }
#endif
}

// ---- TMA (bulk tensor copy) -------------------------------------------------------------------
SW_DEVICE void tmaLoad3d(u32 dst, const TmaDesc* map, int c0, int c1, int c2, u32 bar) {
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4}], [%5];"
      :: "r"(dst), "l"(map), "r"(c0), "r"(c1), "r"(c2), "r"(bar) : "memory");
}
// Four coordinates: element in the row, row (token), head, batch.
SW_DEVICE void tmaLoad4d(u32 dst, const TmaDesc* map, int c0, int c1, int c2, int c3, u32 bar) {
  asm volatile(
      "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], [%6];"
      :: "r"(dst), "l"(map), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(bar) : "memory");
}
// ---- two CTAs of a cluster sharing K/V (KV_SHARE 2) -------------------------------------------------
// The same load, written at dst (and its mbarrier signalled) in every CTA of ctaMask.
SW_DEVICE void tmaLoad4dMulticast(u32 dst, const TmaDesc* map, int c0, int c1, int c2, int c3, u32 bar, u16 ctaMask) {
  asm volatile(
      "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster [%0], [%1, {%2, %3, %4, %5}], [%6], %7;"
      :: "r"(dst), "l"(map), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(bar), "h"(ctaMask) : "memory");
}
SW_DEVICE u32 clusterCtaRank() { u32 r; asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(r)); return r; }
// Arrives on the mbarrier at the same shared-memory offset in CTA `rank` of the cluster. The
// default semantics (release at CTA scope), as for a local arrive: a consumer's arrive only says its
// wgmma reads of the slot retired (its wait returned), which orders them before the peer's TMA
// overwrites the slot. `.release.cluster` would also fence this thread's earlier writes at cluster
// scope, which nothing here needs (session 11: with it the pair ran 37% slower than one CTA).
SW_DEVICE void mbarArriveCluster(u32 bar, u32 rank) {
  u32 remote;
  asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(remote) : "r"(bar), "r"(rank));
  asm volatile("mbarrier.arrive.shared::cluster.b64 _, [%0];" :: "r"(remote) : "memory");
}
// Every thread of every CTA of the cluster: what each did before is visible to all after.
SW_DEVICE void clusterSync() {
  asm volatile("barrier.cluster.arrive.release;\n\tbarrier.cluster.wait.acquire;" ::: "memory");
}

// Shared -> global (the O tile): rows and columns past the tensor's extent are not written.
SW_DEVICE void tmaStore4d(const TmaDesc* map, u32 src, int c0, int c1, int c2, int c3) {
  asm volatile("cp.async.bulk.tensor.4d.global.shared::cta.bulk_group [%0, {%2, %3, %4, %5}], [%1];"
               :: "l"(map), "r"(src), "r"(c0), "r"(c1), "r"(c2), "r"(c3) : "memory");
}
SW_DEVICE void bulkCommit() { asm volatile("cp.async.bulk.commit_group;" ::: "memory"); }
// Until at most N of this thread's bulk groups still read their shared-memory source.
template <int N> SW_DEVICE void bulkWaitRead() { asm volatile("cp.async.bulk.wait_group.read %0;" :: "n"(N) : "memory"); }
SW_DEVICE void prefetchTmaDesc(const TmaDesc* map) {
  asm volatile("prefetch.tensormap [%0];" :: "l"(map) : "memory");
}

// ---- cp.async (16-byte, Ampere-style) ----------------------------------------------------------
// srcBytes = 0 zero-fills the 16 destination bytes (rows past the sequence end).
SW_DEVICE void cpAsync16(u32 dst, const void* src, u32 srcBytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(dst), "l"(src), "r"(srcBytes) : "memory");
}
SW_DEVICE void cpAsyncCommit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int N> SW_DEVICE void cpAsyncWait() { asm volatile("cp.async.wait_group %0;" :: "n"(N) : "memory"); }

// ---- proxies and barriers ---------------------------------------------------------------------
// Generic-proxy writes to shared memory (cp.async, st.shared) become visible to wgmma / TMA only
// after this fence in the writing thread.
SW_DEVICE void fenceProxyAsync() { asm volatile("fence.proxy.async.shared::cta;" ::: "memory"); }
SW_DEVICE void namedBarSync(u32 id, u32 threads) {
  asm volatile("bar.sync %0, %1;" :: "r"(id), "r"(threads) : "memory");
}

SW_DEVICE void namedBarArrive(u32 id, u32 threads) {
  asm volatile("bar.arrive %0, %1;" :: "r"(id), "r"(threads) : "memory");
}

// Global f32 stores and loads cached in L2 only (.cg): splitTail's partial results, written by one
// SM and read by another, never from a stale L1 line. Inline PTX, so NVRTC needs no CUDA header.
SW_DEVICE void stGlobalCg(float* p, float v) { asm volatile("st.global.cg.f32 [%0], %1;" :: "l"(p), "f"(v) : "memory"); }
SW_DEVICE float ldGlobalCg(const float* p) {
  float v;
  asm volatile("ld.global.cg.f32 %0, [%1];" : "=f"(v) : "l"(p) : "memory");
  return v;
}

// A named barrier that also ORs a predicate over its threads: every thread gets the OR.
SW_DEVICE bool namedBarOr(u32 id, u32 threads, bool v) {
  u32 r;
  asm volatile("{\n .reg .pred p, q;\n setp.ne.u32 p, %1, 0;\n barrier.red.or.pred q, %2, %3, p;\n selp.u32 %0, 1, 0, q;\n}"
               : "=r"(r) : "r"(static_cast<u32>(v)), "r"(id), "r"(threads) : "memory");
  return r != 0u;
}

// ---- shared-memory stores --------------------------------------------------------------------
SW_DEVICE void stShared32(u32 addr, u32 v) { asm volatile("st.shared.b32 [%0], %1;" :: "r"(addr), "r"(v) : "memory"); }
// Four 8x8 b16 matrices from a warp's mma-fragment registers: register j of every thread holds
// row lane / 4, columns 2 (lane % 4) and 2 (lane % 4) + 1 of matrix j (as an accumulator fragment
// packed to 16 bits does); lane i gives the address of row i % 8 of matrix i / 8. One instruction
// stores what four st.shared.b32 per matrix row group would (512 B per warp).
SW_DEVICE void stMatrixX4(u32 addr, u32 a, u32 b, u32 c, u32 d) {
  asm volatile("stmatrix.sync.aligned.m8n8.x4.shared.b16 [%0], {%1, %2, %3, %4};" :: "r"(addr), "r"(a), "r"(b), "r"(c), "r"(d) : "memory");
}
// Two 8x8 matrices, the same way: lanes 0-15 give the row addresses.
SW_DEVICE void stMatrixX2(u32 addr, u32 a, u32 b) {
  asm volatile("stmatrix.sync.aligned.m8n8.x2.shared.b16 [%0], {%1, %2};" :: "r"(addr), "r"(a), "r"(b) : "memory");
}
SW_DEVICE u32 ldShared32(u32 addr) {
  u32 v;
  asm volatile("ld.shared.b32 %0, [%1];" : "=r"(v) : "r"(addr) : "memory");
  return v;
}
SW_DEVICE void stShared128(u32 addr, u32 v) {
  asm volatile("st.shared.v4.u32 [%0], {%1, %1, %1, %1};" :: "r"(addr), "r"(v) : "memory");
}

// ---- register budget (warp specialization) --------------------------------------------------------
// The producer warpgroup gives its registers to the consumers; the counts are the plan's
// (registerSplit; FA3's budgets: 24 / 240 for two consumer warpgroups, 32 / 160 for three).
// The split must balance against what the launch allocated (168 per thread x 384, 128 x 512): with
// two consumers the producer frees 128 x (168 - 24) registers and the consumers take
// 256 x (240 - 168), exactly as many. A producer keeping more (32 was tried for the persistent
// kernel with two consumers) leaves the consumers' increase waiting forever.
template <int N> SW_DEVICE void setmaxnregDec() { asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" :: "n"(N)); }
template <int N> SW_DEVICE void setmaxnregInc() { asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" :: "n"(N)); }

// ---- wgmma control ----------------------------------------------------------------------------
SW_DEVICE void wgmmaFence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
SW_DEVICE void wgmmaCommit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
template <int N> SW_DEVICE void wgmmaWait() { asm volatile("wgmma.wait_group.sync.aligned %0;" :: "n"(N) : "memory"); }
// Keeps the compiler from moving register reads or writes across a wgmma wait: the register
// must be "re-defined" here, after the wait, before any later use.
SW_DEVICE void fenceReg(float& r) { asm volatile("" : "+f"(r) :: "memory"); }
SW_DEVICE void fenceReg(u32& r) { asm volatile("" : "+r"(r) :: "memory"); }
// Hides a value's origin from the compiler, so it cannot keep values derived from it live across a
// loop instead of recomputing them (see QDescOpaque).
SW_DEVICE void opaque(u64& v) { asm volatile("" : "+l"(v)); }

// Shared-memory matrix descriptor (128B swizzle): start, leading and stride byte offsets, >> 4.
SW_DEVICE u64 makeDesc128B(u32 addr, u32 lbo, u32 sbo) {
  return (u64)((addr & 0x3FFFF) >> 4) | ((u64)((lbo & 0x3FFFF) >> 4) << 16) |
         ((u64)((sbo & 0x3FFFF) >> 4) << 32) | (1ull << 62);
}

// Shared-memory matrix descriptor without swizzle (8 x 16 B core matrices): LBO is the step
// between K-adjacent core matrices, SBO between 8-row groups (K-major operands).
SW_DEVICE u64 makeDescInterleave(u32 addr, u32 lbo, u32 sbo) {
  return (u64)((addr & 0x3FFFF) >> 4) | ((u64)((lbo & 0x3FFFF) >> 4) << 16) | ((u64)((sbo & 0x3FFFF) >> 4) << 32);
}

// ---- math -------------------------------------------------------------------------------------
SW_DEVICE float ex2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}
// 1 / x with the MUFU approximation (ftz; one unit in the last place): the softcap's TanhExp2.
SW_DEVICE float rcpApprox(float x) {
  float y;
  asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}
// tanh with the MUFU approximation (max relative error about 2^-11): the logit softcap.
SW_DEVICE float tanhApprox(float x) {
  float y;
  asm("tanh.approx.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}
// The same value in every lane, in a form the compiler can prove warp-uniform (a broadcast from
// lane 0): values derived from it, such as a warpgroup's shared-memory descriptors, can then live in
// uniform registers instead of being moved there before every wgmma.
SW_DEVICE int warpUniform(int v) { return __shfl_sync(0xffffffffu, v, 0); }
SW_DEVICE float shflXor(float v, int mask) { return __shfl_xor_sync(0xffffffffu, v, mask); }
// Packs two floats into one register of 16-bit values, `lo` in the low half.
SW_DEVICE u32 packF16(float lo, float hi) {
  u32 r;
  asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}
SW_DEVICE u32 packBF16(float lo, float hi) {
  u32 r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}
