// verify(plan) -> reasons[]: runs every model of the generated kernel against one plan and says,
// in the schedule validator's style (the op, the rule, the numbers), what would go wrong on the GPU.
// An empty list means every model passed for every trip count T = 1..MAX_TRIPS. choose() never
// returns a plan with reasons; the tests run verify over every legal schedule and variant, with
// negative controls (a wait count off by one, a ring one slot short must be flagged).
//
// The models:
//   shape      the variant combination is one the kernel implements; sizes are consistent
//   smem       the layout is the one formula's (smem.ts) and fits Hopper
//   waits      the emitted program (program.ts) run with a counter of pending wgmma and cp.async
//              groups: every point that reads a result finds its group retired
//   deadlock   producer, warpgroups and ping-pong turns as concurrent processes over the rings'
//              full/empty barriers: some process can always move until all are done
//   hazards    the CPU machine with NaN-poisoned rings (schedule/interpret.ts) at the plan's ring
//              depths reproduces the fp32 reference
import {
  expand, interpret, kvTileCount, referenceAttention, type AttentionProblem, type ExpandedOp,
} from '../schedule/index.js';
import type { OpName } from '../schedule/ops.js';
import { LOAD_PATHS, loadInsideTurn, P_OPERANDS, Q_DESCRIPTORS, TILE_SCHEDULERS, TURNS, turnKind, type KernelPlan } from './plan.js';
import { crossTileWaits, programOf, type CrossTileWaits, type Group, type Program, type Step, type Stmt } from './program.js';
import { HOPPER_MAX_SHARED_BYTES, oStoreInQ, smemLayout, TILE_SLOTS } from './smem.js';

/** Trip counts every model runs: every prologue/steady/epilogue shape of schedules up to 4 stages. */
export const MAX_TRIPS = 9;

export interface VerifyOptions {
  /** Which models to run (default: all). */
  models?: ReadonlyArray<'shape' | 'smem' | 'waits' | 'deadlock' | 'hazards'>;
  /** Trip counts (default 1..MAX_TRIPS). */
  trips?: readonly number[];
}

const ALL_TRIPS = Array.from({ length: MAX_TRIPS }, (_, i) => i + 1);

export function verify(plan: KernelPlan, options: VerifyOptions = {}): string[] {
  const models = new Set(options.models ?? ['shape', 'smem', 'waits', 'deadlock', 'hazards']);
  const trips = options.trips ?? ALL_TRIPS;
  const reasons = models.has('shape') ? shapeReasons(plan) : [];
  if (reasons.length) return reasons; // the other models assume a well-formed plan
  if (models.has('smem')) reasons.push(...smemReasons(plan));
  for (const T of trips) {
    const found = [
      ...(models.has('waits') ? (plan.crossTile ? crossTileWaitModel([T], crossTileWaits(plan)) : waitReasons(plan, T)) : []),
      ...(models.has('deadlock') ? deadlockReasons(plan, [T], PLAN_MODEL) : []),
      // With a producer warpgroup the loads do not run where the expansion places them: slot reuse
      // is ordered by the empty barriers, which the deadlock model covers.
      ...(models.has('hazards') && plan.loads !== 'tma-producer' ? hazardReasons(plan, T) : []),
    ];
    if (found.length) {
      reasons.push(...found);
      break; // the smallest trip count that fails is the clearest report
    }
  }
  // A persistent CTA runs tile after tile: Q's hand-off, the rings and the turns carry across, and
  // in the rotated loop the wgmma groups of one tile's end and the next one's start interleave.
  if (!reasons.length && plan.scheduler !== 'grid' && (models.has('deadlock') || (models.has('waits') && plan.crossTile))) {
    for (const seq of persistentTrips(trips)) {
      const found = [
        ...(models.has('waits') && plan.crossTile ? crossTileWaitModel(seq, crossTileWaits(plan)) : []),
        ...(models.has('deadlock') ? deadlockReasons(plan, seq, PLAN_MODEL) : []),
      ];
      if (found.length) {
        reasons.push(...found);
        break;
      }
    }
  }
  return reasons;
}

// ---- shape ---------------------------------------------------------------------------------------------
/**
 * setmaxnreg: the launch gives every thread floor(65536 / threads) registers, rounded down to 8
 * (168 for 384 threads, 128 for 512; the same formula as the static_assert in variants.cuh); the
 * producer must free exactly what the consumers take, or a consumer's increase waits forever
 * (ptx.cuh). Counts are multiples of 8 in 24..256.
 */
function registerSplitReasons(plan: KernelPlan): string[] {
  const s = plan.registerSplit;
  if (plan.loads !== 'tma-producer') return s === null ? [] : ['registerSplit: only a producer warpgroup gives registers away'];
  if (s === null) return ['registerSplit: a producer warpgroup needs one'];
  const r: string[] = [];
  for (const [what, n] of [['producer', s.producer], ['consumer', s.consumer]] as const) {
    if (!Number.isInteger(n) || n < 24 || n > 256 || n % 8 !== 0) r.push(`registerSplit.${what} ${n}: setmaxnreg takes a multiple of 8 in 24..256`);
  }
  const atLaunch = Math.floor(65536 / plan.threads / 8) * 8;
  const freed = 128 * (atLaunch - s.producer);
  const taken = 128 * plan.consumerWarpgroups * (s.consumer - atLaunch);
  if (freed !== taken) {
    r.push(`registerSplit ${s.producer} / ${s.consumer}: at ${atLaunch} registers per thread (${plan.threads} threads) the producer frees ${freed} and ${plan.consumerWarpgroups} consumer warpgroups take ${taken}`);
  }
  return r;
}

function shapeReasons(plan: KernelPlan): string[] {
  const r: string[] = [];
  const p = plan.pipeline;
  if (!LOAD_PATHS.includes(plan.loads)) r.push(`loads: '${String(plan.loads)}' is not one of ${LOAD_PATHS.join(', ')}`);
  if (!P_OPERANDS.includes(plan.pOperand)) r.push(`pOperand: '${String(plan.pOperand)}' is not one of ${P_OPERANDS.join(', ')}`);
  if (!TURNS.includes(plan.turn)) r.push(`turn: '${String(plan.turn)}' is not one of ${TURNS.join(', ')}`);
  if (!Q_DESCRIPTORS.includes(plan.qDescriptors)) r.push(`qDescriptors: '${String(plan.qDescriptors)}' is not one of ${Q_DESCRIPTORS.join(', ')}`);
  if (!TILE_SCHEDULERS.includes(plan.scheduler)) r.push(`scheduler: '${String(plan.scheduler)}' is not one of ${TILE_SCHEDULERS.join(', ')}`);
  if (plan.scheduler !== 'grid' && plan.loads !== 'tma-producer') r.push(`scheduler ${plan.scheduler}: a persistent kernel needs loads tma-producer (the producer walks the tiles ahead of the consumers)`);
  if (plan.consumerWarpgroups * 64 !== plan.blockM) r.push(`blockM ${plan.blockM} needs ${plan.blockM / 64} consumer warpgroups, the plan has ${plan.consumerWarpgroups}`);
  if (plan.loads === 'tma-producer' && plan.consumerWarpgroups < 2) r.push('loads tma-producer: the register split needs two or three consumer warpgroups');
  if (plan.loads !== 'tma-producer' && plan.consumerWarpgroups > 2) r.push(`blockM ${plan.blockM}: ${plan.consumerWarpgroups} consumer warpgroups need the producer warpgroup's registers (loads tma-producer)`);
  r.push(...registerSplitReasons(plan));
  if (plan.turn !== 'none' && plan.consumerWarpgroups < 2) r.push(`turn ${plan.turn}: ping-pong needs two or three consumer warpgroups`);
  if (plan.turn !== 'none' && plan.loads === 'cp.async') r.push(`turn ${plan.turn}: cp.async completes through a CTA-wide barrier, which would wait on the warpgroup waiting for its turn`);
  if (plan.turn !== 'none' && plan.turn !== turnKind(p.body)) r.push(`turn ${plan.turn}: this body's turn is '${turnKind(p.body)}'`);
  const expectThreads = 128 * plan.consumerWarpgroups + (plan.loads === 'tma-producer' ? 128 : 0);
  if (plan.threads !== expectThreads) r.push(`threads ${plan.threads}: loads ${plan.loads} with ${plan.consumerWarpgroups} consumer warpgroups need ${expectThreads}`);
  if (!Number.isInteger(plan.blockN) || plan.blockN < 16 || plan.blockN > 256 || plan.blockN % 16 !== 0) r.push(`blockN ${plan.blockN}: must be a multiple of 16 in 16..256`);
  for (const [what, n] of [['kBuffers', p.kBuffers], ['vBuffers', p.vBuffers]] as const) {
    if (!Number.isInteger(n) || n < 1) r.push(`${what} ${n}: a ring needs at least one slot`);
  }
  for (const [what, n] of [['sTiles', p.sTiles], ['pTiles', p.pTiles], ['aTiles', p.aTiles]] as const) {
    if (n < 1 || n > 2) r.push(`${what} ${n}: the code generator supports 1 or 2 register tiles`);
  }
  if (p.unroll !== Math.max(p.sTiles, p.pTiles, p.aTiles)) r.push(`unroll ${p.unroll}: the register tiles need ${Math.max(p.sTiles, p.pTiles, p.aTiles)}`);
  const inside = loadInsideTurn(p.body, plan.turn, plan.loads);
  if (inside) r.push(`turn ${plan.turn}: ${inside} sits between the matmuls of a turn; a load inside a warpgroup's turn can deadlock`);
  return r;
}

// ---- shared memory ---------------------------------------------------------------------------------------
function smemReasons(plan: KernelPlan): string[] {
  const p = plan.pipeline;
  const want = smemLayout({
    headDim: plan.headDim, blockM: plan.blockM, blockN: plan.blockN, kBuffers: p.kBuffers, vBuffers: p.vBuffers,
    pSharedTiles: plan.pOperand === 'shared' ? p.pTiles : 0, qBuffers: plan.qBuffers, oTile: plan.oStore === 'tma', oInQ: oStoreInQ(plan.oStore, plan.scheduler, plan.qBuffers),
  });
  const r: string[] = [];
  for (const key of Object.keys(want) as Array<keyof typeof want>) {
    if (plan.smem[key] !== want[key]) r.push(`smem.${key} ${plan.smem[key]}: the layout (src/codegen/smem.ts) puts it at ${want[key]}`);
  }
  if (want.launchBytes > HOPPER_MAX_SHARED_BYTES) r.push(`smem.launchBytes ${want.launchBytes}: Hopper allows ${HOPPER_MAX_SHARED_BYTES} B per block`);
  return r;
}

// ---- the emitted program, run for one trip count -------------------------------------------------------------
interface Visitor {
  /** A statement at step k, op iteration j (null outside an op). */
  stmt(s: Stmt, k: number, j: number | null, op: OpName | null): void;
  /** An op block at step k for iteration j (before its statements; j may be outside 0..T-1). */
  op?(op: OpName, j: number): void;
}

function runStmts(stmts: Stmt[], v: Visitor, k: number, j: number | null, op: OpName | null, T: number): void {
  for (const s of stmts) {
    if (s.t === 'ifLive') runStmts(j !== null && j < T ? s.then : s.else, v, k, j, op, T);
    else v.stmt(s, k, j, op);
  }
}

function runStep(st: Step, k: number, v: Visitor, T: number): void {
  for (const it of st.items) {
    if ('op' in it) {
      v.op?.(it.op, k - it.stage);
      runStmts(it.stmts, v, k, k - it.stage, it.op, T);
    } else v.stmt(it, k, null, null);
  }
}

/** Runs the program's control flow for trip count T: prologue, the steady loop's trips, the tail. */
function runProgram(prog: Program, plan: KernelPlan, T: number, v: Visitor): void {
  const S = plan.pipeline.numStages;
  const u = plan.pipeline.unroll;
  runStmts(prog.setup, v, -1, null, null, T);
  runStmts(prog.start, v, -1, null, null, T);
  for (const st of prog.prologue) runStep(st, st.k!, v, T);
  runStmts(prog.beforeLoop, v, S, null, null, T);
  let k = S;
  for (; k + u - 1 < T; k += u) for (const st of prog.loop) runStep(st, k + st.offset, v, T);
  for (const st of prog.tail) runStep(st, k + st.offset, v, T);
  runStmts(prog.end, v, -1, null, null, T);
}

interface Committed {
  op: OpName;
  j: number;
  /** An iteration inside the loop (a dummy matmul past either end reads zeros or fills an unread tile). */
  real: boolean;
  pTile?: number;
}

function lastIndex<T>(xs: readonly T[], f: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (f(xs[i])) return i;
  return -1;
}

/** Pending-group model: commits append a group, wait<n> retires all but the newest n. */
function waitReasons(plan: KernelPlan, T: number): string[] {
  const prog = programOf(plan);
  const groups: Record<Group, Committed[]> = { wgmma: [], cpasync: [] };
  const retired: Record<Group, number> = { wgmma: 0, cpasync: 0 };
  const reasons: string[] = [];
  const where = (op: OpName | null, j: number | null, k: number) => `${op ?? 'the kernel'}${j !== null ? `(${j})` : ''} at step ${k} (T = ${T})`;
  runProgram(prog, plan, T, {
    stmt(s, k, j, op) {
      switch (s.t) {
        case 'commit':
          groups[s.group].push({ op: s.op, j: j ?? -1, real: j !== null && j >= 0 && j < T, ...(s.pTile !== undefined ? { pTile: s.pTile } : {}) });
          break;
        case 'wait':
          retired[s.group] = Math.max(retired[s.group], groups[s.group].length - s.n);
          break;
        case 'needs': {
          const it = j! - s.lag;
          if (it < 0 || it >= T) break;
          const idx = groups[s.group].findIndex((g) => g.op === s.op && g.j === it);
          const pending = groups[s.group].length - retired[s.group];
          if (idx < 0) reasons.push(`${where(op, j, k)} needs ${s.op}(${it}) (${s.why}), which has not been issued yet`);
          else if (idx >= retired[s.group]) {
            reasons.push(`${where(op, j, k)} needs ${s.op}(${it}) retired (${s.why}) but leaves ${pending} ${s.group} groups pending, ${s.op}(${it}) among them: the wait count is too large`);
          }
          break;
        }
        case 'needsP': {
          const last = lastIndex(groups.wgmma, (g) => g.op === 'MMA1' && g.pTile === s.pTile && (g.real || !s.zeroing));
          if (last >= retired.wgmma) {
            reasons.push(`${where(op, j, k)} writes P tile ${s.pTile} (${s.why}) while MMA1(${groups.wgmma[last].j}) may still read it: the wait count is too large`);
          }
          break;
        }
        case 'needsO': {
          const last = lastIndex(groups.wgmma, (g) => g.op === 'MMA1');
          if (last >= retired.wgmma) {
            reasons.push(`${where(op, j, k)} rescales O (${s.why}) while MMA1(${groups.wgmma[last].j}) may still accumulate into it: the wait count is too large`);
          }
          break;
        }
        default:
          break;
      }
    },
  });
  return reasons.slice(0, 3);
}

/**
 * The wait model of the rotated tile loop (a crossTile plan; emit.ts crossTileConsumers), which the
 * generic program does not describe: waitReasons' pending-group model replayed over a CTA's tiles in
 * the order that loop issues them, with the wait counts the emitter prints (program.ts
 * crossTileWaits; a test passes others as the negative control). Per tile n: the previous tile's
 * epilogue (wait, then O and its row sums read), MMA0(n, 0) issued (past the last tile a dummy,
 * then wait<0>), then for each KV tile j: MMA0(n, j) issued for j > 0, wait, Softmax reads S(j),
 * (a pack wait where it binds) P written, wait, MUL rescales O, MMA1(n, j) issued. Messages read as
 * waitReasons' do.
 */
export function crossTileWaitModel(trips: readonly number[], waits: Readonly<CrossTileWaits>): string[] {
  type Mma = 'MMA0' | 'MMA1';
  const groups: Array<{ op: Mma; n: number; j: number }> = [];
  let retired = 0;
  const reasons: string[] = [];
  const wait = (k: number) => { retired = Math.max(retired, groups.length - k); };
  const at = `(crossTile, waits ${JSON.stringify(waits)}, tiles T = ${trips.join(', ')})`;
  const needs = (where: string, op: Mma, why: string) => {
    const last = lastIndex(groups, (g) => g.op === op);
    if (last >= retired) {
      const g = groups[last];
      reasons.push(`${where} needs ${op}(${g.j}) retired (${why}; the ${op} of tile ${g.n}) but leaves ${groups.length - retired} wgmma groups pending: the wait count is too large ${at}`);
    }
  };
  for (let n = 0; n <= trips.length; n++) {
    if (n > 0) {
      wait(waits.epilogue);
      needs(`tile ${n - 1}'s epilogue`, 'MMA1', 'O complete: it reads O and its row sums');
    }
    groups.push({ op: 'MMA0', n, j: 0 });
    if (n === trips.length) {
      wait(0);
      break;
    }
    for (let j = 0; j < trips[n]; j++) {
      if (j > 0) groups.push({ op: 'MMA0', n, j });
      wait(waits.softmax);
      needs(`Softmax(${j}) of tile ${n}`, 'MMA0', 'S(j) complete: it reads S');
      if (waits.pack < waits.softmax) wait(waits.pack);
      needs(`Softmax(${j}) of tile ${n}`, 'MMA1', 'P free: it writes P');
      wait(waits.mul);
      needs(`MUL(${j}) of tile ${n}`, 'MMA1', 'O complete: it rescales O');
      groups.push({ op: 'MMA1', n, j });
    }
  }
  if (retired < groups.length) reasons.push(`${groups.length - retired} wgmma groups still pending at the CTA's exit ${at}`);
  return reasons.slice(0, 3);
}

// ---- deadlock: producer, warpgroups and turns as processes --------------------------------------------------
type Tile = 'K' | 'V';

/** One warpgroup's program: the ops it runs and the turn markers it passes, in order. */
type Event =
  | { kind: 'op'; op: OpName; j: number; n: number; ring: number; last: boolean; T: number }
  | { kind: 'turnWait' }
  | { kind: 'turnSignal' }
  /** A persistent tile's end: after its last wgmma wait, the tile's last V slot is released. */
  | { kind: 'tileEnd'; lastV: number }
  /** A dynamic scheduler's tile start: the consumers wait for tile n's id, read it and free its slot. */
  | { kind: 'tileStart'; n: number };

/**
 * Replays the program over a CTA's query tiles (one for a grid kernel, several for a persistent
 * one, the rings running on across them), yielding each live op (0 <= j < T) with its tile n and
 * ring position, and each turn marker, in program order. The set-up runs once.
 */
function runProgramOps(plan: KernelPlan, trips: readonly number[], yieldEvent: (e: Event) => void, releaseLastV = true): void {
  if (plan.crossTile) return crossTileOps(plan, trips, yieldEvent, releaseLastV);
  let ring = 0;
  trips.forEach((T, n) => {
    const prog = programOf(plan);
    if (plan.scheduler === 'dynamic') yieldEvent({ kind: 'tileStart', n });
    runProgram(n === 0 ? prog : { ...prog, setup: [] }, plan, T, {
      op(op, j) {
        if (j >= 0 && j < T) yieldEvent({ kind: 'op', op, j, n, ring: ring + j, last: j === T - 1, T });
      },
      stmt(s) {
        if (s.t === 'turn') yieldEvent(s.what === 'wait' ? { kind: 'turnWait' } : { kind: 'turnSignal' });
      },
    });
    if (plan.scheduler !== 'grid' && releaseLastV) yieldEvent({ kind: 'tileEnd', lastV: ring + T - 1 });
    ring += T;
  });
}

/**
 * The rotated loop of a crossTile plan (emit.ts crossTileConsumers) as events: tile n's MMA0(0)
 * comes after tile n - 1's end (its last V released) and its id read, then the tile's KV tiles in
 * order, each MMA0 (but the first), Softmax, MUL, MMA1.
 */
function crossTileOps(plan: KernelPlan, trips: readonly number[], yieldEvent: (e: Event) => void, releaseLastV: boolean): void {
  let ring = 0;
  const op = (o: OpName, j: number, n: number, T: number, at: number) => yieldEvent({ kind: 'op', op: o, j, n, ring: at + j, last: j === T - 1, T });
  trips.forEach((T, n) => {
    if (plan.scheduler === 'dynamic') yieldEvent({ kind: 'tileStart', n });
    if (n > 0 && releaseLastV) yieldEvent({ kind: 'tileEnd', lastV: ring - 1 });
    for (let j = 0; j < T; j++) for (const o of ['MMA0', 'Softmax', 'MUL', 'MMA1'] as const) op(o, j, n, T, ring);
    ring += T;
  });
  if (trips.length && releaseLastV) yieldEvent({ kind: 'tileEnd', lastV: ring - 1 });
}

/**
 * Consumers block at MMA0(j) until K(j) (and the tile's Q) landed and at MMA1(j) until V(j) did;
 * slots are released (per warpgroup; a slot is free once every warpgroup released it) at the ops
 * the program releases them (K(j) at Softmax(j), V(j-1) at the plan's releaseVAt, each warpgroup's
 * Q block at its tile's last Softmax; with O staged in Q's place in a persistent kernel (two Q
 * buffers), tile n's buffer at tile n + 1's first Softmax, once O(n)'s store read it). Loads come
 * from a producer that loads K(0), Q(block 0), ..., Q(block W-1), V(0), K(1), V(1), ... of each
 * tile in turn, each once its slot is free (Q block w of tile n once warpgroup w released tile
 * n - qBuffers's), or
 * from the consumers' program: one thread of warpgroup 0 for TMA, every thread (every consumer warpgroup,
 * each waiting for the slot) for cp.async, whose matmuls then also meet at a CTA-wide barrier.
 * With turns (a token passed round the W warpgroups: 0, 1, ..., W-1, 0, ...), warpgroup 0 passes
 * turn t once warpgroup W-1 signalled turn t-1, warpgroup w > 0 once warpgroup w-1 signalled turn t;
 * the turns run on across tiles.
 */
interface ModelOptions {
  releaseLastV: boolean;
  publishAt: 'start' | 'end';
  sharedEmpty: boolean;
  /** Where a Q buffer is released: the plan's point, or (negative control) the last Softmax even where O is staged in it. */
  qRelease: 'plan' | 'lastSoftmax';
}

/** The model of the program as emitted (the negative controls change one of these). */
const PLAN_MODEL: ModelOptions = { releaseLastV: true, publishAt: 'start', sharedEmpty: true, qRelease: 'plan' };

function deadlockReasons(plan: KernelPlan, trips: readonly number[], o: ModelOptions): string[] {
  const first = deadlockRun(plan, trips, o, 0);
  return first.length || plan.kvShare === 1 ? first : deadlockRun(plan, trips, o, 1);
}

function deadlockRun(plan: KernelPlan, trips: readonly number[], { releaseLastV, publishAt, sharedEmpty, qRelease }: ModelOptions, lead: number): string[] {
  const p = plan.pipeline;
  const W = plan.consumerWarpgroups;
  // kvShare 2: two CTAs on the same trips, each producer issuing its half of every K/V tile into
  // both; a CTA's tile has landed once both halves did. Each CTA's empty barrier counts both CTAs'
  // warps (sharedEmpty); without that (the negative control) a producer may write a half into the
  // peer's slot the peer has not released: reported as a hazard.
  const C = plan.kvShare;
  const events: Event[] = [];
  runProgramOps(plan, trips, (e) => events.push(e), releaseLastV);
  const rings: Record<Tile, number> = { K: p.kBuffers, V: p.vBuffers };
  const perWarpgroup = <T>(make: () => T): T[] => Array.from({ length: W }, make);
  const perCta = <T>(make: () => T): T[] => Array.from({ length: C }, make);
  // loadedBy[t][c][part]: tiles whose part `part` has landed in CTA c (part = the issuing CTA's
  // rank with kvShare 2; the warpgroup for cp.async; 0 otherwise).
  const loadedBy: Record<Tile, Array<Array<Set<number>>>> = { K: perCta(() => perWarpgroup(() => new Set())), V: perCta(() => perWarpgroup(() => new Set())) };
  const released: Record<Tile, Array<Array<Set<number>>>> = { K: perCta(() => perWarpgroup(() => new Set())), V: perCta(() => perWarpgroup(() => new Set())) };
  const qLoaded = perCta(() => perWarpgroup(() => new Set<number>())); // per warpgroup's Q block: tiles loaded
  const qReleased = perCta(() => perWarpgroup(() => new Set<number>()));
  // O staged in its tile's Q buffer (two buffers, persistent): tiles whose O was written there
  // (tileEnd) and read out by its store, which the issuer knows at the next tile's first Softmax.
  const oInQ = plan.smem.oInQ && plan.scheduler !== 'grid';
  const qBuffers = plan.smem.qBuffers;
  const oReadOut = perCta(() => perWarpgroup(() => new Set<number>()));
  const releasedIn = (t: Tile, c: number, g: number) => g < rings[t] || released[t][c].slice(0, W).every((set) => set.has(g - rings[t]));
  // The producer of CTA c waits on its own empty barrier: both CTAs' releases with sharedEmpty.
  const slotFree = (t: Tile, c: number, g: number) => (C === 2 && sharedEmpty ? [0, 1] : [c]).every((x) => releasedIn(t, x, g));
  const producer = plan.loads === 'tma-producer';
  const cp = plan.loads === 'cp.async';
  const loaded = (t: Tile, c: number, g: number) =>
    cp ? loadedBy[t][c].slice(0, W).every((s) => s.has(g)) : Array.from({ length: C }, (_, part) => loadedBy[t][c][part].has(g)).every(Boolean);
  // The producer's order; a grid kernel's Q is loaded before the loop.
  // 'P': the dynamic scheduler's producer publishes tile n's id in slot n % TILE_SLOTS, once every
  // consumer warpgroup has read the id that slot held (tile n - TILE_SLOTS).
  type Load = ['K' | 'V', number] | ['Q', number, number] | ['P', number];
  const order: Load[] = [];
  const dynamic = plan.scheduler === 'dynamic';
  const published = perCta(() => new Set<number>());
  const idRead = perCta(() => perWarpgroup(() => new Set<number>()));
  let g0 = 0;
  trips.forEach((T, n) => {
    if (dynamic && publishAt === 'start') order.push(['P', n]);
    // The persistent producer (producerTiles) loads K(0) before the Q blocks; the grid one Q first (producerLoop).
    const qs = Array.from({ length: W }, (_, w): Load => ['Q', n, w]);
    if (producer) order.push(...(plan.scheduler === 'grid' ? [...qs, ['K', g0]] as Load[] : [['K', g0], ...qs] as Load[]), ['V', g0]);
    else for (const c of qLoaded) for (const set of c) set.add(n);
    for (let j = producer ? 1 : 0; j < T; j++) order.push(['K', g0 + j], ['V', g0 + j]);
    if (dynamic && publishAt === 'end') order.push(['P', n]);
    g0 += T;
  });
  const canLoad = (c: number, [t, x, w]: Load): boolean =>
    t === 'Q' ? x < qBuffers || qReleased[c][w as number].has(x - qBuffers)
      : t === 'P' ? x < TILE_SLOTS || idRead[c].slice(0, W).every((set) => set.has(x - TILE_SLOTS))
      : slotFree(t, c, x);
  const next = perCta(() => 0);
  const pc = perCta(() => perWarpgroup(() => 0));
  const turnsSignalled = perCta(() => perWarpgroup(() => 0));
  const turnsPassed = perCta(() => perWarpgroup(() => 0));
  const barrierArrived = perCta(() => perWarpgroup(() => 0)); // cp.async: CTA-wide barriers reached (and waiting) per warpgroup
  const barrierPassed = perCta(() => perWarpgroup(() => 0));
  const step = (c: number, w: number): boolean => {
    if (pc[c][w] >= events.length) return false;
    const e = events[pc[c][w]];
    if (e.kind === 'turnWait') {
      const t = turnsPassed[c][w];
      const ok = w === 0 ? t === 0 || turnsSignalled[c][W - 1] >= t : turnsSignalled[c][w - 1] >= t + 1;
      if (!ok) return false;
      turnsPassed[c][w]++;
    } else if (e.kind === 'turnSignal') {
      turnsSignalled[c][w]++;
    } else if (e.kind === 'tileEnd') {
      released.V[c][w].add(e.lastV);
    } else if (e.kind === 'tileStart') {
      if (!published[c].has(e.n)) return false;
      idRead[c][w].add(e.n);
    } else {
      const { op, ring: g } = e;
      if (op === 'loadK' || op === 'loadV') {
        const t: Tile = op === 'loadK' ? 'K' : 'V';
        if (!producer && (cp || w === 0)) {
          if (!slotFree(t, c, g)) return false;
          loadedBy[t][c][cp ? w : 0].add(g);
        }
      } else if (op === 'MMA0' || op === 'MMA1') {
        const t: Tile = op === 'MMA0' ? 'K' : 'V';
        if (op === 'MMA0' && qReleased[c][w].has(e.n)) {
          // A wait on Q after its release may meet the barrier's next phase (the refill): parity
          // waits tell two phases apart, not three.
          throw new Error(`internal: MMA0(${e.j}) of tile ${e.n} waits for Q after warpgroup ${w} released it`);
        }
        if (op === 'MMA0' && !qLoaded[c][w].has(e.n)) return false;
        if (cp && W > 1) {
          // The cp.async wait ends in a barrier over every warpgroup; each warpgroup issued its part
          // of the tile before reaching it (a load precedes its matmul in program order).
          if (barrierArrived[c][w] === barrierPassed[c][w]) barrierArrived[c][w]++;
          if (barrierArrived[c].some((x) => x < barrierArrived[c][w])) return false;
          barrierPassed[c][w] = barrierArrived[c][w];
          if (!loaded(t, c, g)) throw new Error(`internal: ${op}(${e.j}) passed the cp.async barrier before its tile was loaded`);
        } else if (!loaded(t, c, g)) return false;
      }
      if (op === 'Softmax') {
        released.K[c][w].add(g);
        // releaseQ (attention.cuh): with O staged in Q, the previous tile's buffer once its store
        // read it (the issuer's bulk wait) at this tile's first Softmax, or its middle one (crossTile).
        const qAt = plan.crossTile ? Math.floor(e.T / 2) : 0;
        if (oInQ && e.j === qAt && e.n > 0) oReadOut[c][w].add(e.n - 1);
        if (oInQ && qRelease === 'plan') {
          if (e.j === qAt && e.n > 0) qReleased[c][w].add(e.n - 1);
        } else if (e.last) qReleased[c][w].add(e.n);
      }
      if (op === p.releaseVAt && e.j >= 1) released.V[c][w].add(g - 1);
    }
    pc[c][w]++;
    return true;
  };
  const tiles = trips.length > 1 ? `tiles T = ${trips.join(', ')}` : `T = ${trips[0]}`;
  const cta = (c: number) => (C > 1 ? `CTA ${c} ` : '');
  let hazard: string | undefined;
  // One producer load of CTA c if it may issue one (its part lands in every CTA that shares it).
  const produce = (c: number): boolean => {
    if (!producer || next[c] >= order.length || !canLoad(c, order[next[c]])) return false;
    const [t, x, w] = order[next[c]++];
    if (t === 'Q') {
      const old = x - qBuffers;
      if (oInQ && old >= 0 && !oReadOut[c][w as number].has(old) && hazard === undefined) {
        hazard = `hazard with O in Q's place: ${cta(c)}the producer loads Q(${x}, block ${w}) into the buffer where tile ${old}'s O waits for its store (qBuffers ${qBuffers}, ${tiles})`;
      }
      qLoaded[c][w as number].add(x);
    }
    else if (t === 'P') published[c].add(x);
    else {
      for (let d = 0; d < C; d++) {
        if (!releasedIn(t, d, x) && hazard === undefined) {
          hazard = `hazard with kvShare ${C}: ${cta(c)}writes its half of ${t}(${x}) into CTA ${d}'s slot ${x % rings[t]} before CTA ${d}'s warpgroups released ${t}(${x - rings[t]}) (rings K ${p.kBuffers} / V ${p.vBuffers}, ${tiles})`;
        }
        loadedBy[t][d][C > 1 ? c : 0].add(x);
      }
    }
    return true;
  };
  // Everything CTA c can do now, or (one = true) a single step of it.
  const advance = (c: number, one = false): boolean => {
    let moved = false;
    for (;;) {
      let any = false;
      while (produce(c)) { any = true; if (one) return true; }
      for (let w = 0; w < W; w++) while (step(c, w)) { any = true; if (one) return true; }
      if (!any) return moved;
      moved = true;
    }
  };
  // kvShare 2: CTA `lead` runs as far ahead as it can before its peer takes one step, so a
  // producer that may write a slot its peer still reads does (the model's other order is the
  // caller's second run, lead 1).
  for (;;) {
    let moved = false;
    if (C === 1) moved = advance(0);
    else moved = advance(lead) || advance(1 - lead, true);
    if (hazard !== undefined) return [hazard];
    if (pc.every((ws) => ws.every((x) => x >= events.length))) return [];
    if (!moved) {
      const at = pc.flatMap((ws, c) => ws.map((x, w) => {
        const e = events[x];
        return `${cta(c)}warpgroup ${w} at ${!e ? 'the end' : e.kind === 'op' ? `${e.op}(${e.j})${trips.length > 1 ? ` of tile ${e.n}` : ''}` : e.kind}`;
      }));
      const prod = producer
        ? next.map((x, c) => `, ${cta(c)}the producer at ${x < order.length ? `${order[x][0]}(${order[x][1]}${order[x][0] === 'Q' ? `, block ${order[x][2]}` : ''})` : 'the end'}`).join('')
        : '';
      return [`deadlock at ${tiles} with rings K ${p.kBuffers} / V ${p.vBuffers}: ${at.join(', ')}${prod}; no process can move`];
    }
  }
}

/**
 * The deadlock model over one CTA's sequence of tiles (two CTAs with kvShare 2), for the tests'
 * negative controls: without the release of each tile's last V slot (emit.ts, persistentBody), or
 * with the dynamic scheduler's tile id published after the tile's loads instead of before them, a
 * persistent CTA must deadlock; with kvShare 2 and empty barriers that count only their own CTA's
 * warps (sharedEmpty false), a producer must overwrite a slot its peer still reads; with O staged in
 * a Q buffer and the buffer released at its tile's last Softmax (qRelease 'lastSoftmax'), the
 * producer must refill it while that O waits for its store.
 */
export function deadlockModel(plan: KernelPlan, trips: readonly number[], opts: Partial<ModelOptions> = {}): string[] {
  return deadlockReasons(plan, trips, { releaseLastV: opts.releaseLastV ?? true, publishAt: opts.publishAt ?? 'start', sharedEmpty: opts.sharedEmpty ?? true, qRelease: opts.qRelease ?? 'plan' });
}

/**
 * The tile sequences a persistent CTA's model runs: every pair of trip counts up to MAX_TRIPS (a
 * short tile after a long one and back), and a run of three.
 */
export function persistentTrips(trips: readonly number[]): number[][] {
  const out: number[][] = [];
  for (const a of trips) for (const b of [1, 2, 3, MAX_TRIPS]) out.push([a, b]);
  out.push([2, 1, 3]);
  return out;
}

// ---- hazards: the poisoned-ring CPU machine at the plan's depths ------------------------------------------------
const HAZARD_D = 4;
const HAZARD_N = 2;

function hazardProblem(T: number): AttentionProblem {
  // One query block visiting exactly T KV tiles, the last one partial; deterministic values whose
  // running max rises at every tile, so a stale alpha or a foreign slot changes the answer.
  const seqK = T * HAZARD_N - (T > 1 ? 1 : 0);
  const seqQ = 3;
  const fill = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
  return {
    q: fill(seqQ * HAZARD_D, (i) => 0.5 + ((i * 37) % 11) / 11),
    k: fill(seqK * HAZARD_D, (i) => 0.6 * Math.floor(i / HAZARD_D / HAZARD_N) + ((i * 13) % 7) / 70),
    v: fill(seqK * HAZARD_D, (i) => ((i * 29) % 17) / 17 - 0.5),
    seqQ, seqK, headDim: HAZARD_D, causal: false, scale: 1,
  };
}

function hazardReasons(plan: KernelPlan, T: number): string[] {
  const p = plan.pipeline;
  const prob = hazardProblem(T);
  if (kvTileCount(prob, HAZARD_N, prob.seqQ - 1) !== T) throw new Error('internal: hazard problem has the wrong trip count');
  const ops: ExpandedOp[] = expand(plan.schedule, T);
  const got = interpret(ops, { ...prob, blockN: HAZARD_N, kBuffers: p.kBuffers, vBuffers: p.vBuffers, sTiles: p.sTiles, pTiles: p.pTiles });
  const want = referenceAttention(prob);
  for (let i = 0; i < want.o.length; i++) {
    if (!(Math.abs(got.o[i] - want.o[i]) <= 1e-5 + 1e-5 * Math.abs(want.o[i]))) {
      return [`hazard at T = ${T} with rings K ${p.kBuffers} / V ${p.vBuffers}, tiles S ${p.sTiles} / P ${p.pTiles}: the poisoned-ring model computes O[${i}] = ${got.o[i]} where the reference has ${want.o[i]}`];
    }
  }
  return [];
}
