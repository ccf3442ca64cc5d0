// emit(plan) -> the CUDA C++ of one kernel, the headers NVRTC needs, and how to launch it. It
// decides nothing: sizes, offsets, ring depths, wait counts and variants are the plan's. Variants
// reach the kernel as C++ types (the `using` lines below select the policies of
// kernels/variants.cuh); kernels/attention.cuh has no variant #if.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configOf, type KernelConfig } from './config.js';
import type { KernelPlan, SoftcapTanh } from './plan.js';
import { crossTileWaits, programOf, type CrossTileWaits, type OpBlock, type Program, type Step, type Stmt } from './program.js';
import { ALIGNMENT_SLACK_BYTES, HOPPER_MAX_SHARED_BYTES, TILE_SLOTS } from './smem.js';
import { wgmmaHeader } from './wgmma.js';
import { kernelSignature } from './abi.js';

export const KERNEL_NAME = 'stagewise_attn_fwd';

/** kernels/ sits at the package root, two levels above both src/codegen and dist/codegen. */
const KERNEL_DIR = fileURLToPath(new URL('../../kernels/', import.meta.url));
export const STATIC_HEADERS = ['ptx.cuh', 'tiles.cuh', 'fragments.cuh', 'masks.cuh', 'variants.cuh', 'attention.cuh'] as const;

let staticHeaders: Record<string, string> | undefined;
function readStaticHeaders(): Record<string, string> {
  staticHeaders ??= Object.fromEntries(STATIC_HEADERS.map((n) => [n, readFileSync(KERNEL_DIR + n, 'utf8')]));
  return staticHeaders;
}

export interface GeneratedKernel {
  name: string;
  source: string;
  /** Header name -> contents, for NVRTC (or to write beside the source for nvcc). */
  headers: Record<string, string>;
  plan: KernelPlan;
  /** The knob view of the plan. */
  config: KernelConfig;
  threads: number;
  /** Dynamic shared memory to request: the plan's layout plus the alignment slack. */
  sharedMemBytes: number;
}

// ---- printing the program ------------------------------------------------------------------------
function indent(lines: string[], n = 2): string[] {
  const pad = ' '.repeat(n);
  return lines.map((x) => (x.length ? pad + x : x));
}

function printStmts(stmts: Stmt[]): string[] {
  return stmts.flatMap((s): string[] => {
    switch (s.t) {
      case 'code':
        return [s.text];
      case 'ifLive':
        if (s.then.length === 0 && s.else.length === 0) return [];
        return s.else.length
          ? ['if (j < T) {', ...indent(printStmts(s.then)), '} else {', ...indent(printStmts(s.else)), '}']
          : ['if (j < T) {', ...indent(printStmts(s.then)), '}'];
      case 'commit':
        return [s.group === 'wgmma' ? 'wgmmaCommit();' : 'cpAsyncCommit();'];
      case 'wait':
        return [s.group === 'wgmma' ? `wgmmaWait<${s.n}>();` : `cpAsyncWait<${s.n}>();`, ...s.fences];
      case 'turn':
        return [s.what === 'wait' ? 'pingpongWait(c);' : 'pingpongSignal(c);'];
      case 'needs':
      case 'needsP':
      case 'needsO':
        return []; // for the models only
    }
  });
}

function printStep(st: Step, kExpr: string): string[] {
  return st.items.flatMap((it) => {
    if (!('op' in it)) return printStmts([it]);
    const blk: OpBlock = it;
    const head = `// ${blk.op}(k - ${blk.stage})`;
    if (blk.dead) return [head, ...printStmts(blk.stmts)];
    return [head, '{', ...indent([`[[maybe_unused]] const int j = ${kExpr} - ${blk.stage};`, ...printStmts(blk.stmts)]), '}'];
  });
}

/**
 * The iterations a steady trip at step k runs the softmax of, as k + d for d in [dMin, dMax]: the
 * peeled loop's tests (a trip is mask-free when k + dMin >= lo and k + dMax < hi).
 */
export function softmaxLag(plan: KernelPlan, prog: Program = programOf(plan)): { dMin: number; dMax: number } {
  const ds = prog.loop.flatMap((st) => st.items.filter((it): it is OpBlock => 'op' in it && it.op === 'Softmax' && !it.dead).map((b) => st.offset - b.stage));
  return { dMin: Math.min(...ds), dMax: Math.max(...ds) };
}

/** The pipelined main loop: prologue, steady state, epilogue. */
export function emitPipeline(plan: KernelPlan): string[] {
  const prog = programOf(plan);
  const S = plan.pipeline.numStages;
  const u = plan.pipeline.unroll;
  // A persistent kernel runs the set-up once, before its tile loop (persistentBody).
  const setup = plan.scheduler === 'grid' ? printStmts(prog.setup) : [];
  // Softmax masks where it must unless a peeled loop's unmasked trip says otherwise.
  const out = [...setup, 'constexpr bool MASK_STEP = true;', ...printStmts(prog.start), `// ---- prologue: steps 0..${S - 1} ----`];
  for (const st of prog.prologue) out.push(`// step ${st.k}`, ...printStep(st, String(st.k)));
  out.push(...printStmts(prog.beforeLoop));
  out.push(`// ---- steady state: steps ${S}..T-1, ${u} per trip ----`, `int k = ${S};`);
  const trip = prog.loop.flatMap((st) => indent(printStep(st, st.offset ? `(k + ${st.offset})` : 'k')));
  if (!plan.peelMasks) {
    out.push(`for (; k + ${u - 1} < T; k += ${u}) {`, ...trip, '}');
  } else {
    // Peeled: the softmaxes of a trip at k mask iterations k + d for d in [dMin, dMax]; a trip whose
    // iterations all lie in [lo, hi) (unmaskedIterations) runs a copy of the body without mask code.
    const { dMin, dMax } = softmaxLag(plan, prog);
    const at = (d: number) => (d === 0 ? 'k' : d > 0 ? `k + ${d}` : `k - ${-d}`);
    out.push('const TileSpan unmasked = unmaskedIterations(c);');
    if (plan.window) out.push(`for (; k + ${u - 1} < T && ${at(dMin)} < unmasked.lo; k += ${u}) {  // masked: the window's left edge`, ...trip, '}');
    out.push(
      `for (; k + ${u - 1} < T && ${at(dMax)} < unmasked.hi; k += ${u}) {  // no mask code`, '  constexpr bool MASK_STEP = false;', ...trip, '}',
      `for (; k + ${u - 1} < T; k += ${u}) {  // masked: the diagonal, the right edge, the last partial tile`, ...trip, '}',
    );
  }
  out.push(`// ---- tail: steps k .. k+${S + u - 2} (epilogue, and the steady step an odd count leaves) ----`);
  for (const st of prog.tail) out.push(`// tail step ${st.offset}`, ...printStep(st, `(k + ${st.offset})`));
  out.push(...printStmts(prog.end));
  return out;
}

// ---- the kernel's constants and variant types --------------------------------------------------------
function smemStruct(plan: KernelPlan): string[] {
  const l = plan.smem;
  const fields: Array<[string, number]> = [
    ['Q', l.q], ['Q_WG_BYTES', l.qWarpgroupBytes], ['Q_BUFS', l.qBuffers], ['Q_BUF_BYTES', l.qBufferBytes], ['K', l.k], ['V', l.v], ['TILE_BYTES', l.tileBytes], ['O', l.o], ['O_BYTES', l.oBytes],
    ['P', l.p], ['P_WG_BYTES', l.pWarpgroupBytes], ['P_SBO', l.pSbo],
    ['FULL_K', l.fullK], ['EMPTY_K', l.emptyK], ['FULL_V', l.fullV], ['EMPTY_V', l.emptyV], ['FULL_Q', l.fullQ],
    ['EMPTY_Q', l.emptyQ], ['TILE_FULL', l.tileFull], ['TILE_EMPTY', l.tileEmpty], ['TILE_IDS', l.tileIds],
    ['END', l.end], ['LAUNCH_BYTES', l.launchBytes],
  ];
  return [
    '// Shared memory, from the plan (src/codegen/smem.ts): offsets from the 1024-byte aligned base.',
    'struct Smem {',
    ...fields.map(([n, v]) => `  static constexpr u32 ${n} = ${v};`),
    `  static constexpr bool O_IN_Q = ${l.oInQ};`,
    '};',
  ];
}

/** The kernels/variants.cuh policy of each softcapTanh. */
const TANH_POLICY: Readonly<Record<SoftcapTanh, string>> = { tanhf: 'TanhLibm', exp2: 'TanhExp2', approx: 'TanhApprox' };

function variantTypes(plan: KernelPlan): string[] {
  const loads = { 'cp.async': 'CpAsyncLoads', 'tma-inline': 'TmaLoads<TmaIssuer::Consumer>', 'tma-producer': 'TmaLoads<TmaIssuer::ProducerWarpgroup>' }[plan.loads];
  // P in shared memory is published by a warpgroup barrier, unless the ping-pong turn's barrier
  // (which every thread of the warpgroup passes between the packing and the P V product) does it.
  const pPath = plan.pOperand === 'registers' ? 'PInRegisters' : `PInShared<${plan.turn === 'none' ? 'PPublish::OwnBarrier' : 'PPublish::TurnBarrier'}>`;
  const qDesc = plan.qDescriptors === 'visible' ? 'QDescVisible' : 'QDescOpaque';
  const logits = plan.softcapTanh !== null ? `SoftcapLogits<${TANH_POLICY[plan.softcapTanh]}>` : 'PlainLogits';
  const tiles = plan.scheduler === 'dynamic' ? ['using Tiles = DynamicTiles;'] : plan.scheduler === 'static' ? ['using Tiles = StaticTiles;'] : [];
  const oStore = plan.oStore === 'tma' ? (plan.varlen ? 'OStoreTmaPacked' : 'OStoreTma') : 'OStoreRegisters';
  return [`using Loads = ${loads};`, `using PPath = ${pPath};`, `using QDesc = ${qDesc};`, `using Logits = ${logits};`, `using OStore = ${oStore};`, ...tiles];
}

function configBlock(plan: KernelPlan): string[] {
  const p = plan.pipeline;
  const pack = plan.dtype === 'f16' ? 'packF16' : 'packBF16';
  return [
    `constexpr int KV_SHARE = ${plan.kvShare};  // CTAs of a cluster sharing each K/V tile`,
    `constexpr int HEAD_DIM = ${plan.headDim};`,
    `constexpr int BLOCK_M = ${plan.blockM};`,
    `constexpr int BLOCK_N = ${plan.blockN};`,
    `constexpr int NUM_WG = ${plan.consumerWarpgroups};`,
    `constexpr int K_BUFS = ${p.kBuffers};`,
    `constexpr int V_BUFS = ${p.vBuffers};`,
    `constexpr int S_TILES = ${p.sTiles};`,
    `constexpr int P_TILES = ${p.pTiles};`,
    `constexpr int A_TILES = ${p.aTiles};`,
    `constexpr bool CAUSAL = ${plan.causal};`,
    `constexpr bool WINDOW = ${plan.window};  // the sides are launch arguments`,
    `constexpr bool MASKED = CAUSAL || WINDOW;`,
    `constexpr bool VARLEN = ${plan.varlen};`,
    `constexpr bool PRODUCER_WARPGROUP = ${plan.loads === 'tma-producer'};`,
    `constexpr int PRODUCER_REGS = ${plan.registerSplit?.producer ?? 0};  // setmaxnreg (registerSplit)`,
    `constexpr int CONSUMER_REGS = ${plan.registerSplit?.consumer ?? 0};`,
    `constexpr bool PERSISTENT = ${plan.scheduler !== 'grid'};  // scheduler ${plan.scheduler}`,
    `constexpr bool CROSS_TILE = ${plan.crossTile};  // the rotated tile loop (crossTileConsumers)`,
    `constexpr bool LAZY_RESCALE = ${plan.lazyRescale};  // MUL only where a row's max moved (plan lazyRescale)`,
    `constexpr bool SPLIT_TAIL = ${plan.splitTail};  // the last round split along the keys (plan splitTail)`,
    `constexpr int TILE_SLOTS = ${TILE_SLOTS};`,
    `constexpr u32 ALIGNMENT_SLACK = ${ALIGNMENT_SLACK_BYTES};`,
    `constexpr u32 HOPPER_MAX_SHARED_BYTES = ${HOPPER_MAX_SHARED_BYTES};`,
    ...smemStruct(plan),
    `#define PACK(lo, hi) ${pack}(lo, hi)`,
  ];
}

/** One CTA per query tile: blockIdx.x is the query block (reversed when masked), blockIdx.y batch * head. */
function gridBody(plan: KernelPlan): string[] {
  const producer = plan.loads === 'tma-producer';
  return [
    '  Ctx c;',
    '  c.tid = threadIdx.x; c.wg = warpUniform(c.tid / 128); c.warp = c.tid / 32; c.lane = c.tid % 32;',
    '  c.batch = blockIdx.y / headsQ; c.hq = blockIdx.y % headsQ; c.hk = c.hq / groupSize;',
    '  c.tmaBatch = VARLEN ? 0 : c.batch;',
    '  c.qStart = VARLEN ? cuSeqlensQ[c.batch] : 0;',
    '  c.kStart = VARLEN ? cuSeqlensK[c.batch] : 0;',
    '  c.seqQ = VARLEN ? cuSeqlensQ[c.batch + 1] - c.qStart : seqQ;',
    '  c.seqK = VARLEN ? cuSeqlensK[c.batch + 1] - c.kStart : seqK;',
    // Masked CTAs with the most tiles start first, so the long ones don't trail the grid.
    '  const int qBlock = MASKED ? gridDim.x - 1 - blockIdx.x : blockIdx.x;',
    '  c.m0 = qBlock * BLOCK_M;',
    '  if (c.m0 >= c.seqQ) return;  // a packed sequence shorter than the longest',
    '  c.off = c.seqK - c.seqQ;',
    '  c.winLeft = windowLeft; c.winRight = windowRight;',
    '  c.scaleLog2 = scaleLog2; c.capScale = capScale; c.capLog2 = capLog2;',
    '  c.tmQ = &tmQ; c.tmK = &tmK; c.tmV = &tmV;',
    '  c.qRow = qRow; c.kRow = kRow; c.vRow = vRow;',
    '  c.ring0 = 0; c.qUse = 0;',
    '  c.q = gq + c.batch * qBatch + c.hq * qHead + c.qStart * qRow;',
    '  c.k = gk + c.batch * kBatch + c.hk * kHead + c.kStart * kRow;',
    '  c.v = gv + c.batch * vBatch + c.hk * vHead + c.kStart * vRow;',
    // Where this sequence's rows of this head start in O and LSE: recomputed from the launch's
    // arguments and blockIdx where needed rather than held in registers across the main loop
    // (holding them spilled the packed-sequence firstDot kernel).
    '  const auto outRows = [&]() {',
    '    const int b = blockIdx.y / headsQ, h = blockIdx.y % headsQ;',
    '    const int start = VARLEN ? cuSeqlensQ[b] : 0;',
    '    return o + b * oBatch + h * oHead + start * oRow;',
    '  };',
    '  const auto lseRows = [&]() {',
    '    const int b = blockIdx.y / headsQ, h = blockIdx.y % headsQ;',
    '    return lse + b * lseBatch + h * lseHead + (VARLEN ? cuSeqlensQ[b] : 0);',
    '  };',
    '  tileRange(c);',
    '  if (c.tiles == 0) {  // every row of this CTA is masked from every key',
    '    storeEmptyRows(c, outRows(), oRow, lseRows());',
    '    return;',
    '  }',
    '  const int T = c.tiles;',
    '  c.base = (smemAddr(smemRaw) + 1023u) & ~1023u;',
    '  initBarriers(c);',
    ...(producer
      ? [
          '  if (c.wg == NUM_WG) {',
          '    producerRegisters();',
          '    if (c.tid == Loads::ISSUER_TID) producerLoop(c);',
          '    return;',
          '  }',
          '  consumerRegisters();',
        ]
      : ['  Loads::loadQ(c);']),
    '  Regs r;',
    '  initRegs(r);',
    ...indent(emitPipeline(plan)),
    '  wgmmaWait<0>();',
    '  fenceO(r);',
    '  storeOutput(c, r, outRows(), oRow, lseRows(), &tmO);',
    '  OStore::drain(c);',
  ];
}

/**
 * The persistent kernel: each CTA walks tiles of the scheduler's order (Tiles) until none is left.
 * The producer thread runs ahead (producerTiles); the consumers take the same tiles in the same
 * order, their rings and Q phase running on across tiles.
 */
function persistentBody(plan: KernelPlan): string[] {
  const prog = programOf(plan);
  return [
    '  Ctx c;',
    '  c.tid = threadIdx.x; c.wg = warpUniform(c.tid / 128); c.warp = c.tid / 32; c.lane = c.tid % 32;',
    '  c.winLeft = windowLeft; c.winRight = windowRight;',
    '  c.scaleLog2 = scaleLog2; c.capScale = capScale; c.capLog2 = capLog2;',
    '  c.tmQ = &tmQ; c.tmK = &tmK; c.tmV = &tmV;',
    '  c.qRow = qRow; c.kRow = kRow; c.vRow = vRow;',
    '  c.ring0 = 0; c.qUse = 0;',
    `  c.rank = ${plan.kvShare === 2 ? 'clusterCtaRank()' : '0'};`,
    ...(plan.splitTail
      ? [
          // The last round's units split along the keys (tiles.cuh tailSplit): the items, not the
          // tiles, are what the static stride walks. Every tile sees every key here (no mask, no
          // packed sequences: choose.ts chooseSplitTail), so one KV tile count serves all.
          // Items: whole tiles up to tailFull, then 2^tailShift pieces per tile after it (launch arguments,
          // launch_args.ts from scheduler.ts tailSplit).
          '  const TileWork w{numTiles + (numTiles - tailFull) * ((1 << tailShift) - 1), numTiles / qBlocks, qBlocks, headGroup, tileCounter, divSection, divGroup, divLastGroup};',
          '  const auto pieceOf = [&](int item) { return tailPiece(tailFull, tailShift, KV_SHARE, item); };',
        ]
      : ['  const TileWork w{numTiles, numTiles / qBlocks, qBlocks, headGroup, tileCounter, divSection, divGroup, divLastGroup};']),
    // Everything one tile needs, from its index; false when the block lies past its sequence's end.
    `  const auto ${plan.splitTail ? 'setWhole' : 'setTile'} = [&](int t) -> bool {`,
    `    const TileCoord tc = ${plan.kvShare === 2 ? 'decodePairTile(w, t)' : 'decodeTile(w, t, MASKED)'};`,
    '    c.batch = fastDiv(tc.bh, divHeadsQ); c.hq = tc.bh - c.batch * headsQ; c.hk = fastDiv(c.hq, divGroupSize);',
    '    c.tmaBatch = VARLEN ? 0 : c.batch;',
    '    c.qStart = VARLEN ? cuSeqlensQ[c.batch] : 0;',
    '    c.kStart = VARLEN ? cuSeqlensK[c.batch] : 0;',
    '    c.seqQ = VARLEN ? cuSeqlensQ[c.batch + 1] - c.qStart : seqQ;',
    '    c.seqK = VARLEN ? cuSeqlensK[c.batch + 1] - c.kStart : seqK;',
    '    c.m0 = tc.qBlock * BLOCK_M;',
    // kvShare 2: a block past the end (an odd block count, padded by tileSpace) still runs, on
    // the zero rows the TMA fills Q with, and stores nothing (O clipped, LSE guarded): its half of
    // every K/V tile feeds its peer, whose producer and consumers count on it.
    ...(plan.kvShare === 2 ? [] : ['    if (c.m0 >= c.seqQ) return false;']),
    '    c.off = c.seqK - c.seqQ;',
    '    c.q = gq + c.batch * qBatch + c.hq * qHead + c.qStart * qRow;',
    '    c.k = gk + c.batch * kBatch + c.hk * kHead + c.kStart * kRow;',
    '    c.v = gv + c.batch * vBatch + c.hk * vHead + c.kStart * vRow;',
    '    tileRange(c);',
    '    return true;',
    '  };',
    ...(plan.splitTail
      ? [
          '  const auto setTile = [&](int item) -> bool {',
          '    const TailPiece tp = pieceOf(item);',
          '    if (!setWhole(tp.tile)) return false;',
          // This piece's share of the KV tiles (never empty: pieces <= tiles), as a sequence of keys that
          // starts at its first: the keys' start, pointers and count move, so KV tile j stays j (an
          // offset held through the loop spilled the consumers) and the last partial tile is still
          // the one the seqK mask clips.
          // The producer keeps the skip in shared memory (pieceKeys), not in a register of its 24.
          '    int skip = 0;',
          '    if (tp.pieces > 1) {',
          '      const int lo = pieceStart(c.tiles, tp.piece, tailShift), hi = pieceStart(c.tiles, tp.piece + 1, tailShift);',
          '      skip = lo * BLOCK_N;',
          '      c.tiles = hi - lo;',
          '    }',
          '    if (c.wg == NUM_WG) setPieceKeys(c, skip);',
          '    else c.seqK -= skip;',
          '    return true;',
          '  };',
        ]
      : []),
    '  const auto outRows = [&]() { return o + c.batch * oBatch + c.hq * oHead + c.qStart * oRow; };',
    '  const auto lseRows = [&]() { return lse + c.batch * lseBatch + c.hq * lseHead + c.qStart; };',
    '  c.base = (smemAddr(smemRaw) + 1023u) & ~1023u;',
    '  initBarriers(c);',
    '  if (c.wg == NUM_WG) {',
    '    producerRegisters();',
    // The producer's whole tiles need no piece decode: items below tailFull are tiles.
    ...(plan.splitTail
      ? [
          '    if (c.tid == Loads::ISSUER_TID) {',
          '      setPieceKeys(c, 0);  // whole tiles start at key 0; only the last item, a piece, moves it',
          '      producerTilesSplit(c, w, setWhole, tailFull, setTile);',
          '    }',
        ]
      : ['    if (c.tid == Loads::ISSUER_TID) producerTiles(c, w, setTile);']),
    // KV_SHARE 2: no CTA leaves while its peer may still arrive on its barriers (see the end).
    ...(plan.kvShare === 2 ? ['    clusterSync();'] : []),
    '    return;',
    '  }',
    '  consumerRegisters();',
    ...indent(printStmts(prog.setup)),
    ...(plan.crossTile ? crossTileConsumers(plan) : [
    '  int qUses = 0;',
    '  for (int n = 0;; ++n) {',
    '    const int t = Tiles::consumerTile(c, n);',
    '    if (t >= w.numTiles) break;',
    '    if (!setTile(t)) continue;',
    '    if (c.tiles == 0) {  // every row of this tile is masked from every key',
    '      storeEmptyRows(c, outRows(), oRow, lseRows());',
    '      continue;',
    '    }',
    '    const int T = c.tiles;',
    '    c.qUse = qUses;',
    // Fresh per tile: nothing of a tile's accumulators is live into the next (kept across the tile
    // loop, the S tiles a two-tile schedule leaves in flight made ptxas serialise every wgmma, C7514).
    '    Regs r;',
    '    initRegs(r);',
    ...indent(emitPipeline(plan), 4),
    '    wgmmaWait<0>();',
    // The pipeline releases V(j - 1) at step j; the tile's last V slot is released here, once its
    // P V product retired, or the producer would wait for it forever in the next tile.
    '    releaseV(c, T - 1);',
    '    fenceO(r);',
    // A piece of a split tile: its partial O, m and l go to the workspace; the last piece of the
    // tile to finish merges the others' into its registers and stores the tile as a whole one would.
    ...(plan.splitTail
      ? [
          '    const TailPiece tp = pieceOf(t);',
          '    if (tp.pieces == 1 || mergeTail(c, r, tileCounter, tp)) storeOutput(c, r, outRows(), oRow, lseRows(), &tmO);',
        ]
      : ['    storeOutput(c, r, outRows(), oRow, lseRows(), &tmO);']),
    '    c.ring0 += T;',
    '    ++qUses;',
    '  }',
    ]),
    '  OStore::drain(c);',
    // KV_SHARE 2: the peer's consumers release K/V slots here too (remote arrives) until its last tile.
    ...(plan.kvShare === 2 ? ['  clusterSync();'] : []),
  ];
}

/**
 * One KV tile of the rotated loop (crossTileConsumers); tile j = 0's QK^T was issued at the loop's
 * top, and its P V product overwrites O (MUL(0) scaled the last tile's O by exp(-inf - m) = 0).
 */
function crossTileStep(w: CrossTileWaits): string[] {
  return [
    '      if (j > 0) {',
    '        Loads::waitQ(c);',
    '        Loads::waitK(c, j);',
    '        opMMA0<0>(c, r, j);',
    '        wgmmaCommit();',
    '      }',
    `      wgmmaWait<${w.softmax}>();`,
    '      fenceS<0>(r);',
    '      PPath::fence<0>(r);',
    '      releaseK(c, j);',
    '      releaseQ(c, j);',
    '      opSoftmax<0, 0, MASK_STEP>(c, r, j);',
    ...(w.pack < w.softmax ? [`      wgmmaWait<${w.pack}>();`, '      PPath::fence<0>(r);'] : []),
    '      PPath::pack<0, 0>(c, r);',
    '      if (j >= 1) releaseV(c, j - 1);',
    `      wgmmaWait<${w.mul}>();`,
    '      fenceO(r);',
    '      opMul<0>(r);',
    '      Loads::waitV(c, j);',
    '      opMMA1<0>(c, r, j, j > 0);',
    '      wgmmaCommit();',
  ];
}

/**
 * The persistent consumers' loop rotated (the plan's crossTile; choose.ts chooseCrossTile says
 * which plans): each tile's first QK^T is issued at the loop's top, one site for every tile,
 * between the previous tile's two epilogue halves, so it runs while that tile's O is stored, its
 * LSE written and the next tile decoded. Past the last tile the same site issues a dummy into an S
 * tile nobody reads. The body is the one-stage MMA0, Softmax, MUL, MMA1 of baseline as a plain
 * loop over the tile's KV tiles. ptxas keeps the wgmmas asynchronous only with the first half
 * (every read of an accumulator) before the issue (bench/NOTES.md session 12; nvcc.test.ts).
 */
function crossTileConsumers(plan: KernelPlan): string[] {
  const w = crossTileWaits(plan);
  return [
    '  int qUses = 0, n = 0, prevT = 0;',
    '  int t = Tiles::consumerTile(c, 0);',
    '  bool ending = false;  // a tile whose epilogue is still to run',
    '  float lseRow[2];',
    '  Regs r;',
    '  initRegs(r);  // O defined once: the first tile\'s opMul(0) multiplies it by zero',
    '  constexpr bool MASK_STEP = true;',
    '  for (;;) {',
    '    const bool more = t < w.numTiles;',
    '    if (ending) {',
    `      wgmmaWait<${w.epilogue}>();`,
    '      releaseV(c, prevT - 1);',
    '      fenceO(r);',
    '      stageOutput(c, r, lseRow);',
    '    }',
    // The next tile's m and l start here (stageOutput read the last ones). Its O is never zeroed:
    // its first P V product overwrites it (opMMA1's accumulate false). Zeroed inside the tile's
    // first trip, ptxas predicated the zeroing into 68 FSELs on every trip; peeling that trip spilled
    // 32-40 B; zeroed here, before the issue, ptxas serialised every wgmma (C7515): NOTES session 13.
    '    resetRowStats(r);',
    // The next tile's K(0) sits prevT ring positions on and its Q is the next fill.
    '    c.ring0 += prevT;',
    '    c.qUse = qUses + (ending ? 1 : 0);',
    '    if (more) {',
    '      Loads::waitQ(c);',
    '      Loads::waitK(c, 0);',
    '    }',
    '    opMMA0<0>(c, r, 0);',
    '    wgmmaCommit();',
    '    c.ring0 -= prevT;',
    '    c.qUse = qUses;',
    '    if (ending) {',
    '      finishOutput(c, lseRow, lseRows(), &tmO);',
    '      c.ring0 += prevT;',
    '      ++qUses;',
    '    }',
    '    if (!more) {',
    '      wgmmaWait<0>();',
    '      break;',
    '    }',
    // No mask and fixed lengths (chooseCrossTile): the block lies inside its sequence and T >= 1.
    '    setTile(t);',
    '    c.qUse = qUses;',
    '    const int T = c.tiles;',
    '    for (int j = 0; j < T; ++j) {',
    ...crossTileStep(w),
    '    }',
    '    ending = true;',
    '    prevT = T;',
    '    t = Tiles::consumerTile(c, ++n);',
    '  }',
  ];
}

export function emit(plan: KernelPlan): GeneratedKernel {
  const cfg = configOf(plan);
  const p = plan.pipeline;
  const source = [
    `// Generated by stagewise: schedule ${plan.schedule.name ?? 'custom'}, ${plan.dtype}, head dim ${plan.headDim}, ` +
      `${plan.blockM}x${plan.blockN} tiles, loads ${plan.loads}, P in ${plan.pOperand}, turn ${plan.turn}, Q descriptors ${plan.qDescriptors}` +
      `${plan.causal ? ', causal' : ''}${plan.window ? ', window' : ''}${plan.softcap ? ', softcap' : ''}${plan.varlen ? ', packed sequences' : ''}.`,
    `// K/V buffers ${p.kBuffers}/${p.vBuffers}; S/P/alpha tiles ${p.sTiles}/${p.pTiles}/${p.aTiles}; ` +
      `waits: softmax ${p.waitSoftmax}, pack ${p.waitPack}, mul ${p.waitMul}; shared memory ${plan.smem.launchBytes} B.`,
    // The hang trap: every mbarrier wait traps after about 2^26 polls instead of spinning forever.
    ...(plan.hangTrap ? ['#define SW_DEBUG_HANG 1'] : []),
    '#include "ptx.cuh"',
    '#include "wgmma.cuh"',
    ...configBlock(plan),
    '#include "variants.cuh"',
    ...variantTypes(plan),
    '#include "attention.cuh"',
    '',
    `extern "C" __global__ void __launch_bounds__(${plan.threads}, 1) ${KERNEL_NAME}(`,
    `    ${kernelSignature()}) {`,
    '  extern __shared__ __align__(1024) unsigned char smemRaw[];',
    ...(plan.scheduler === 'grid' ? gridBody(plan) : persistentBody(plan)),
    '}',
    '',
  ].join('\n');
  const headers = { ...readStaticHeaders(), 'wgmma.cuh': wgmmaHeader(plan.blockN, plan.headDim, plan.dtype) };
  return { name: KERNEL_NAME, source, headers, plan, config: cfg, threads: plan.threads, sharedMemBytes: plan.smem.launchBytes };
}
