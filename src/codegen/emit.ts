// Lowers a plan (schedule + config) to the CUDA C++ of one kernel: prologue, steady loop and
// epilogue, each a sequence of op calls from kernels/attention.cuh in the schedule's body order.
import type { OpName } from '../schedule/ops.js';
import type { KernelConfig } from './config.js';
import { turnBounds, type BodyOp, type Plan } from './plan.js';

export const KERNEL_NAME = 'stagewise_attn_fwd';

/** Where one emitted step sits: its step expression and, when unrolled by 2, its parity. */
interface StepSite {
  /** C expression of the step index k. */
  k: string;
  /** k mod 2 when known at compile time (always, when the plan unrolls by 2). */
  parity: number;
  /** Iterations known statically, or null when only known at run time. */
  staticK: number | null;
  /** Tail steps (after the steady loop): index t; the op's iteration is past the end for t - stage >= unroll - 1. */
  tailIndex: number | null;
}

type Liveness = 'dead' | 'guarded' | 'live';

function liveness(site: StepSite, stage: number, steady: boolean, unroll: number): Liveness {
  if (site.staticK !== null) {
    const iter = site.staticK - stage;
    if (iter < 0) return 'dead';
    return iter === 0 ? 'live' : 'guarded'; // T >= 1: iteration 0 always exists
  }
  // After the steady loop k >= T - (unroll - 1), so iteration k + t - stage >= T once t - stage >= unroll - 1.
  if (site.tailIndex !== null) return site.tailIndex - stage >= unroll - 1 ? 'dead' : 'guarded';
  return steady ? 'live' : 'guarded';
}

function tile(count: number, parity: number, stage: number): number {
  return count === 1 ? 0 : (((parity - stage) % 2) + 2) % 2;
}

function guard(l: Liveness, body: string[]): string[] {
  if (body.length === 0) return [];
  if (l === 'live') return body;
  return ['if (j < T) {', ...body.map((x) => `  ${x}`), '}'];
}

function waitWgmma(n: number, fences: string[]): string[] {
  return [`wgmmaWait<${n}>();`, ...fences];
}

function cpAsyncFull(n: number): string[] {
  return [`cpAsyncWait<${n}>();`, 'fenceProxyAsync();', 'namedBarSync(BAR_CPASYNC_FULL, NUM_THREADS);'];
}

/**
 * Prologue steps after the first real MMA0, in schedules with two S tiles (an MMA0 in flight
 * across the loop's back edge), issue their dead MMA1 as a dummy so the prologue hands the loop
 * the same kind of groups in flight as the loop's own back edge does.
 */
function issuesDummyPv(plan: Plan, mma1: BodyOp, site: StepSite): boolean {
  if (site.staticK === null || plan.sTiles < 2) return false;
  const mma0 = plan.body.find((x) => x.op === 'MMA0')!;
  return site.staticK > mma0.stage || (site.staticK === mma0.stage && mma1.pos > mma0.pos);
}

/** The lines of one op at one step. */
function emitOp(plan: Plan, cfg: KernelConfig, b: BodyOp, site: StepSite, steady: boolean): string[] {
  const l = liveness(site, b.stage, steady, plan.unroll);
  const tma = cfg.load === 'tma';
  const commitWgmma = ['wgmmaCommit();'];
  const commitCp = tma ? [] : ['cpAsyncCommit();'];
  const sb = tile(plan.sTiles, site.parity, b.stage);
  const pb = tile(plan.pTiles, site.parity, b.stage);
  const ab = tile(plan.aTiles, site.parity, b.stage);
  const head = [`// ${b.op}(k - ${b.stage})`];
  const iter = `[[maybe_unused]] const int j = ${site.k} - ${b.stage};`;
  const wrap = (lines: string[]) => [...head, '{', ...[iter, ...lines].map((x) => `  ${x}`), '}'];
  const dead = l === 'dead';
  const op: OpName = b.op;
  switch (op) {
    case 'loadK':
    case 'loadV': {
      if (cfg.warpSpecialized) return []; // the producer warpgroup loads
      const call = op === 'loadK' ? 'opLoadK(c, j);' : 'opLoadV(c, j);';
      if (dead) return commitCp.length ? [...head, ...commitCp] : [];
      return wrap([...guard(l, [call]), ...commitCp]);
    }
    // The matmuls are issued even for an iteration past the end (only their waits are guarded):
    // a wgmma inside a branch makes ptxas serialise every wgmma of the kernel (C7520). Such a
    // dummy MMA0 fills an S tile nobody reads; a dummy MMA1 multiplies a zeroed P tile.
    case 'MMA0': {
      if (dead) return [...head, ...commitWgmma];
      const full = tma ? ['waitFullK(c, j);'] : cpAsyncFull(plan.cpWaitK);
      return wrap([...guard(l, full), `opMMA0<${sb}>(c, r, j);`, ...commitWgmma]);
    }
    case 'MMA1': {
      // Before the first real PV product the step still issues one, on a zeroed P (O += 0): a
      // prologue that commits an empty group where the loop has a PV product in flight made
      // ptxas serialise every wgmma (C7515).
      if (dead && issuesDummyPv(plan, b, site)) return [...head, `zeroP<${pb}>(c, r);`, `opMMA1<${pb}>(c, r, 0);`, ...commitWgmma];
      if (dead) return [...head, ...commitWgmma];
      const full = tma ? ['waitFullV(c, j);'] : cpAsyncFull(plan.cpWaitV);
      const waits = l === 'live' ? full : ['if (j < T) {', ...full.map((x) => `  ${x}`), '} else {', `  zeroP<${pb}>(c, r);`, '}'];
      return wrap([...waits, `opMMA1<${pb}>(c, r, j);`, ...commitWgmma]);
    }
    case 'Softmax': {
      if (dead) return [];
      const releaseV = plan.releaseVAt === 'Softmax' ? ['if (j >= 1) releaseV(c, j - 1);'] : [];
      // Packing waits for the PV product that last read this P tile; when the wait before the
      // softmax already covered it, no second wait is needed.
      const packWait = plan.waitPack < plan.waitSoftmax ? waitWgmma(plan.waitPack, [`fenceP<${pb}>(r);`]) : [];
      return wrap([
        ...waitWgmma(plan.waitSoftmax, [`fenceS<${sb}>(r);`, `fenceP<${pb}>(r);`]),
        ...guard(l, ['releaseK(c, j);', `opSoftmax<${sb}, ${ab}>(c, r, j);`]),
        ...packWait,
        ...guard(l, [`opPackP<${sb}, ${pb}>(c, r);`, ...releaseV]),
      ]);
    }
    case 'MUL': {
      if (dead) return [];
      const releaseV = plan.releaseVAt === 'MUL' ? ['if (j >= 1) releaseV(c, j - 1);'] : [];
      return wrap([...waitWgmma(plan.waitMul, ['fenceO(r);']), ...guard(l, [...releaseV, `opMul<${ab}>(r);`])]);
    }
  }
}

/**
 * With ping-pong, one turn spans the step's two matmuls ('step') or the step's last matmul and
 * the next step's first ('wrap', see pingpongTurn). Emitted in every step, live or not, so both
 * warpgroups pass the same number of turns.
 */
function emitStep(plan: Plan, cfg: KernelConfig, site: StepSite, steady: boolean): string[] {
  const { start, end } = turnBounds(plan.body);
  return plan.body.flatMap((b, i) => {
    const lines = emitOp(plan, cfg, b, site, steady);
    if (!cfg.pingpong) return lines;
    return [...(i === start ? ['pingpongWait(c);'] : []), ...lines, ...(i === end ? ['pingpongSignal(c);'] : [])];
  });
}

/**
 * Ping-pong turns must not hold a load the consumers issue: its producer could wait on the
 * warpgroup waiting for the turn. (A producer warpgroup's loads are outside every turn.)
 */
export function checkPingpong(plan: Plan, cfg: Pick<KernelConfig, 'warpSpecialized'>): void {
  if (cfg.warpSpecialized) return;
  const { kind, start, end } = turnBounds(plan.body);
  const span = kind === 'wrap' ? [...plan.body.slice(start), ...plan.body.slice(0, end + 1)] : plan.body.slice(start, end + 1);
  const inside = span.find((b) => b.op === 'loadK' || b.op === 'loadV');
  if (inside) {
    throw new RangeError(`pingpong: ${inside.op} sits between the matmuls of a turn; a load inside a warpgroup's turn can deadlock`);
  }
}

function indent(lines: string[], n: number): string[] {
  const pad = ' '.repeat(n);
  return lines.map((x) => (x.length ? pad + x : x));
}

/** The pipelined main loop: prologue, steady state, epilogue. */
export function emitPipeline(plan: Plan, cfg: KernelConfig): string[] {
  const S = plan.numStages;
  const out: string[] = [];
  const wrapTurns = cfg.pingpong && turnBounds(plan.body).kind === 'wrap';
  if (cfg.pingpong) {
    checkPingpong(plan, cfg);
    out.push('pingpongStart(c);');
    // A 'wrap' turn ends after the next step's first matmul: the first turn opens here and the
    // last one closes after the tail.
    if (wrapTurns) out.push('pingpongWait(c);');
  }
  out.push(`// ---- prologue: steps 0..${S - 1} ----`);
  // Empty groups only matter after the first real one (they keep later wait counts right); the
  // leading ones are dropped, since a commit just after the divergent TMA issue costs a
  // compiler-inserted warpgroup arrive.
  let seenMma = false;
  for (let k = 0; k < S; k++) {
    out.push(`// step ${k}`);
    const lines = emitStep(plan, cfg, { k: String(k), parity: k % 2, staticK: k, tailIndex: null }, false);
    for (const line of lines) {
      if (line.startsWith('opMMA') || line.includes(' opMMA')) seenMma = true;
      if (!seenMma && line === 'wgmmaCommit();') continue;
      out.push(line);
    }
  }
  // Steady state in trips of `unroll` steps, then a tail that finishes every step up to T+S-1:
  // after the loop k >= T - (unroll - 1), so S + unroll - 1 tail steps suffice, each op guarded by
  // its own iteration (steps past T+S-1 do nothing but issue dummy matmuls).
  const u = plan.unroll;
  out.push(`// ---- steady state: steps ${S}..T-1, ${u} per trip ----`);
  out.push(`int k = ${S};`);
  out.push(`for (; k + ${u - 1} < T; k += ${u}) {`);
  for (let i = 0; i < u; i++) {
    const site = { k: i ? `(k + ${i})` : 'k', parity: (S + i) % 2, staticK: null, tailIndex: null };
    out.push(...indent(emitStep(plan, cfg, site, true), 2));
  }
  out.push('}');
  out.push(`// ---- tail: steps k .. k+${S + u - 2} (epilogue, and the steady step an odd count leaves) ----`);
  for (let t = 0; t < S + u - 1; t++) {
    out.push(`// tail step ${t}`);
    out.push(...emitStep(plan, cfg, { k: `(k + ${t})`, parity: (S + t) % 2, staticK: null, tailIndex: t }, false));
  }
  if (wrapTurns) out.push('pingpongSignal(c);');
  return out;
}
