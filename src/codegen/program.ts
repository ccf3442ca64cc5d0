// The pipelined main loop as a small program: prologue, steady loop and tail, each step a list of
// op blocks in the schedule's body order. The C++ printer (emit.ts) and the models (verify.ts) read
// this same structure, so what the models check is what the kernel runs: every wgmma and cp.async
// commit, every wait with its count, and what each point of the program needs to have retired.
import type { OpName } from '../schedule/ops.js';
import { turnBounds, type BodyOp, type KernelPlan } from './plan.js';

export type Group = 'wgmma' | 'cpasync';

export type Stmt =
  /** Code the models need not see. */
  | { t: 'code'; text: string }
  /** `if (j < T) { then } else { else }`, j being the enclosing op's iteration. */
  | { t: 'ifLive'; then: Stmt[]; else: Stmt[] }
  /** Closes a group of the asynchronous operations issued since the last commit (by `op`). */
  | { t: 'commit'; group: Group; op: OpName; pTile?: number }
  /** Waits until at most `n` groups are pending, then fences the named registers. */
  | { t: 'wait'; group: Group; n: number; fences: string[] }
  /** Model-only: the group `op` committed for iteration j - lag must have completed here. */
  | { t: 'needs'; group: Group; op: OpName; lag: number; why: string }
  /**
   * Model-only: every MMA1 committed so far that read P tile `pTile` must have completed. With
   * `zeroing`, only those that read real data: rewriting the zeros a dummy product is reading with
   * zeros changes no byte it reads.
   */
  | { t: 'needsP'; pTile: number; why: string; zeroing?: boolean }
  /** Model-only: every MMA1 committed so far must have completed (O is about to change). */
  | { t: 'needsO'; why: string }
  | { t: 'turn'; what: 'wait' | 'signal' };

/** One op at one step: its iteration is j = k - stage. A dead op emits its statements without a block. */
export interface OpBlock {
  op: OpName;
  stage: number;
  dead: boolean;
  stmts: Stmt[];
}

export type StepItem = OpBlock | { t: 'turn'; what: 'wait' | 'signal' };

/** A step at compile-time k (prologue), at loop offset `offset` (k + offset), or tail step `offset`. */
export interface Step {
  k: number | null;
  offset: number;
  items: StepItem[];
}

export interface Program {
  /** Once per CTA, before its first tile: ping-pong set-up. */
  setup: Stmt[];
  /** Before each tile's prologue. */
  start: Stmt[];
  prologue: Step[];
  /** Between the prologue and the steady loop. */
  beforeLoop: Stmt[];
  /** Steps per steady-loop trip. */
  loop: Step[];
  tail: Step[];
  /** After the tail. */
  end: Stmt[];
}

type Liveness = 'dead' | 'guarded' | 'live';

interface Site {
  /** Step index when known at compile time (prologue). */
  staticK: number | null;
  /** k mod 2 (always known: the loop is unrolled by the register tiles' count). */
  parity: number;
  /** Tail steps (after the steady loop): index t. */
  tailIndex: number | null;
  steady: boolean;
}

function liveness(site: Site, stage: number, unroll: number): Liveness {
  if (site.staticK !== null) {
    const iter = site.staticK - stage;
    if (iter < 0) return 'dead';
    return iter === 0 ? 'live' : 'guarded'; // T >= 1: iteration 0 always exists
  }
  // After the steady loop k >= T - (unroll - 1), so iteration k + t - stage >= T once t - stage >= unroll - 1.
  if (site.tailIndex !== null) return site.tailIndex - stage >= unroll - 1 ? 'dead' : 'guarded';
  return site.steady ? 'live' : 'guarded';
}

/** Register tile index of an op of `stage` at a step of the given parity. */
function tile(count: number, parity: number, stage: number): number {
  return count === 1 ? 0 : (((parity - stage) % 2) + 2) % 2;
}

const code = (text: string): Stmt => ({ t: 'code', text });
const codes = (...lines: string[]): Stmt[] => lines.map(code);

function guard(l: Liveness, body: Stmt[]): Stmt[] {
  if (body.length === 0 || l === 'live') return body;
  return [{ t: 'ifLive', then: body, else: [] }];
}

/**
 * Prologue steps after the first real MMA0, in schedules with two S tiles (an MMA0 in flight
 * across the loop's back edge), issue their dead MMA1 as a dummy so the prologue hands the loop
 * the same kind of groups in flight as the loop's own back edge does.
 */
function issuesDummyPv(plan: KernelPlan, mma1: BodyOp, site: Site): boolean {
  const p = plan.pipeline;
  if (site.staticK === null || p.sTiles < 2) return false;
  const mma0 = p.body.find((x) => x.op === 'MMA0')!;
  return site.staticK > mma0.stage || (site.staticK === mma0.stage && mma1.pos > mma0.pos);
}

function opBlock(plan: KernelPlan, b: BodyOp, site: Site): OpBlock | null {
  const p = plan.pipeline;
  const l = liveness(site, b.stage, p.unroll);
  const cp = plan.loads === 'cp.async';
  const sb = tile(p.sTiles, site.parity, b.stage);
  const pb = tile(p.pTiles, site.parity, b.stage);
  const ab = tile(p.aTiles, site.parity, b.stage);
  const dead = l === 'dead';
  const block = (stmts: Stmt[]): OpBlock => ({ op: b.op, stage: b.stage, dead, stmts });
  const commitMma = (op: OpName, pTile?: number): Stmt => ({ t: 'commit', group: 'wgmma', op, ...(pTile !== undefined ? { pTile } : {}) });
  switch (b.op) {
    case 'loadK':
    case 'loadV': {
      if (plan.loads === 'tma-producer') return null; // the producer warpgroup loads
      const commit: Stmt[] = cp ? [{ t: 'commit', group: 'cpasync', op: b.op }] : [];
      if (dead) return commit.length ? block(commit) : null;
      return block([...guard(l, [code(b.op === 'loadK' ? 'Loads::loadK(c, j);' : 'Loads::loadV(c, j);')]), ...commit]);
    }
    // The matmuls are issued even for an iteration past the end (only their waits are guarded):
    // a wgmma inside a branch makes ptxas serialise every wgmma of the kernel (C7520). Such a
    // dummy MMA0 fills an S tile nobody reads; a dummy MMA1 multiplies a zeroed P tile.
    case 'MMA0': {
      if (dead) return block([commitMma('MMA0')]);
      const full: Stmt[] = cp
        ? [{ t: 'wait', group: 'cpasync', n: p.cpWaitK, fences: [] }, { t: 'needs', group: 'cpasync', op: 'loadK', lag: 0, why: 'K(j) landed' }, ...codes('Loads::cpAsyncPublish(c);')]
        : [code('Loads::waitK(c, j);')];
      // Q is waited for by live iterations only: a persistent CTA's producer refills Q once the
      // tile's last softmax released it, and a dummy MMA0 waiting then would wait on the barrier's
      // next phase (parity waits see two phases), which needs a release that never comes.
      return block([...guard(l, [code('Loads::waitQ(c);'), ...full]), code(`opMMA0<${sb}>(c, r, j);`), commitMma('MMA0')]);
    }
    case 'MMA1': {
      const zero: Stmt[] = [{ t: 'needsP', pTile: pb, why: 'a dummy P V product zeroes the P tile', zeroing: true }, code(`PPath::zero<${pb}>(c, r);`)];
      // Before the first real PV product the step still issues one, on a zeroed P (O += 0): a
      // prologue that commits an empty group where the loop has a PV product in flight made
      // ptxas serialise every wgmma (C7515).
      if (dead && issuesDummyPv(plan, b, site)) return block([...zero, code(`opMMA1<${pb}>(c, r, 0);`), commitMma('MMA1', pb)]);
      if (dead) return block([commitMma('MMA1')]);
      const full: Stmt[] = cp
        ? [{ t: 'wait', group: 'cpasync', n: p.cpWaitV, fences: [] }, { t: 'needs', group: 'cpasync', op: 'loadV', lag: 0, why: 'V(j) landed' }, ...codes('Loads::cpAsyncPublish(c);')]
        : [code('Loads::waitV(c, j);')];
      const waits: Stmt[] = l === 'live' ? full : [{ t: 'ifLive', then: full, else: zero }];
      return block([...waits, code(`opMMA1<${pb}>(c, r, j);`), commitMma('MMA1', pb)]);
    }
    case 'Softmax': {
      if (dead) return null;
      const releaseV: Stmt[] =
        p.releaseVAt === 'Softmax' ? [{ t: 'needs', group: 'wgmma', op: 'MMA1', lag: 1, why: 'V(j-1) released' }, code('if (j >= 1) releaseV(c, j - 1);')] : [];
      // Packing waits for the PV product that last read this P tile; when the wait before the
      // softmax already covered it, no second wait is needed.
      const packWait: Stmt[] = p.waitPack < p.waitSoftmax ? [{ t: 'wait', group: 'wgmma', n: p.waitPack, fences: [`PPath::fence<${pb}>(r);`] }] : [];
      return block([
        { t: 'wait', group: 'wgmma', n: p.waitSoftmax, fences: [`fenceS<${sb}>(r);`, `PPath::fence<${pb}>(r);`] },
        ...guard(l, [
          { t: 'needs', group: 'wgmma', op: 'MMA0', lag: 0, why: 'S(j) complete and K(j) released' },
          code('releaseK(c, j);'),
          code('releaseQ(c, j);'),
          code(`opSoftmax<${sb}, ${ab}, MASK_STEP>(c, r, j);`),
        ]),
        ...packWait,
        ...guard(l, [{ t: 'needsP', pTile: pb, why: 'P(j) overwrites a P tile' }, code(`PPath::pack<${sb}, ${pb}>(c, r);`), ...releaseV]),
      ]);
    }
    case 'MUL': {
      if (dead) return null;
      const releaseV: Stmt[] =
        p.releaseVAt === 'MUL' ? [{ t: 'needs', group: 'wgmma', op: 'MMA1', lag: 1, why: 'V(j-1) released' }, code('if (j >= 1) releaseV(c, j - 1);')] : [];
      return block([
        { t: 'wait', group: 'wgmma', n: p.waitMul, fences: ['fenceO(r);'] },
        ...guard(l, [{ t: 'needsO', why: 'O rescaled' }, ...releaseV, code(`opMul<${ab}>(r);`)]),
      ]);
    }
  }
}

/**
 * One step: the body's ops in order. With ping-pong, one turn spans the step's two matmuls
 * ('step') or the step's last matmul and the next step's first ('wrap'); the turn markers are
 * emitted in every step, live or not, so every warpgroup passes the same number of turns.
 */
function step(plan: KernelPlan, site: Site): StepItem[] {
  const body = plan.pipeline.body;
  const bounds = plan.turn === 'none' ? null : turnBounds(body, plan.turn);
  const items: StepItem[] = [];
  body.forEach((b, i) => {
    if (bounds && i === bounds.start) items.push({ t: 'turn', what: 'wait' });
    const blk = opBlock(plan, b, site);
    if (blk) items.push(blk);
    if (bounds && i === bounds.end) items.push({ t: 'turn', what: 'signal' });
  });
  return items;
}

/** True when a statement list issues a matmul. */
function issuesMma(stmts: Stmt[]): boolean {
  return stmts.some((s) => (s.t === 'code' && /\bopMMA[01]</.test(s.text)) || (s.t === 'ifLive' && (issuesMma(s.then) || issuesMma(s.else))));
}

/**
 * The wgmma wait counts of the rotated tile loop (a crossTile plan; emit.ts crossTileConsumers),
 * which is written out by hand rather than expanded from the schedule: the emitter prints these and
 * the wait model (verify.ts crossTileWaitModel) replays the loop with them, so the two cannot
 * disagree. softmax, pack and mul are the plan's (the pack wait printed only where it binds, as in
 * the generic program); epilogue, before the previous tile's O and row sums are read, retires all.
 */
export interface CrossTileWaits {
  epilogue: number;
  softmax: number;
  pack: number;
  mul: number;
}
export function crossTileWaits(plan: KernelPlan): CrossTileWaits {
  const p = plan.pipeline;
  return { epilogue: 0, softmax: p.waitSoftmax, pack: p.waitPack, mul: p.waitMul };
}

export function programOf(plan: KernelPlan): Program {
  const S = plan.pipeline.numStages;
  const u = plan.pipeline.unroll;
  const wrapTurns = plan.turn === 'wrap';
  // A persistent CTA starts the ping-pong once: each tile ends in the state the set-up leaves (one
  // signal of the last warpgroup not yet consumed by warpgroup 0), so the next tile's turns follow on.
  const setup: Stmt[] = plan.turn === 'none' ? [] : [code('pingpongStart(c);')];
  const start: Stmt[] = [];
  // A 'wrap' turn ends after the next step's first matmul: the first turn opens here and the last
  // one closes after the tail.
  if (wrapTurns) start.push({ t: 'turn', what: 'wait' });
  // Empty wgmma groups only matter after the first real one (they keep later wait counts right);
  // the leading ones are dropped, since a commit just after the divergent TMA issue costs a
  // compiler-inserted warpgroup arrive.
  let seenMma = false;
  const prologue: Step[] = [];
  for (let k = 0; k < S; k++) {
    const items = step(plan, { staticK: k, parity: k % 2, tailIndex: null, steady: false }).map((it) => {
      if (!('op' in it)) return it;
      const stmts = seenMma ? it.stmts : it.stmts.filter((s) => !(s.t === 'commit' && s.group === 'wgmma' && !issuesMma(it.stmts)));
      if (issuesMma(it.stmts)) seenMma = true;
      return { ...it, stmts };
    });
    prologue.push({ k, offset: 0, items });
  }
  // A persistent kernel whose S tile is in flight into the steady loop (two S tiles) retires it
  // first: with the tile loop around it, ptxas otherwise serialised every wgmma of the kernel
  // (C7514; a wait<0> here is the one placement that cleared it, found by bisecting the source).
  // It costs one MMA0's latency per tile; no default plan takes it (choose.ts).
  const beforeLoop: Stmt[] =
    plan.scheduler !== 'grid' && plan.pipeline.sTiles > 1
      ? [{ t: 'wait', group: 'wgmma', n: 0, fences: [] }] // no reads follow before the next wait's own fences
      : [];
  // Steady state in trips of `unroll` steps, then a tail that finishes every step up to T+S-1:
  // after the loop k >= T - (unroll - 1), so S + unroll - 1 tail steps suffice, each op guarded by
  // its own iteration (steps past T+S-1 do nothing but issue dummy matmuls).
  const loop: Step[] = [];
  for (let i = 0; i < u; i++) loop.push({ k: null, offset: i, items: step(plan, { staticK: null, parity: (S + i) % 2, tailIndex: null, steady: true }) });
  const tail: Step[] = [];
  for (let t = 0; t < S + u - 1; t++) tail.push({ k: null, offset: t, items: step(plan, { staticK: null, parity: (S + t) % 2, tailIndex: t, steady: false }) });
  const end: Stmt[] = wrapTurns ? [{ t: 'turn', what: 'signal' }] : [];
  return { setup, start, prologue, beforeLoop, loop, tail, end };
}
