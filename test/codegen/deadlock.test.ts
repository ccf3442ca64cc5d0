// An independent model of the generated pipeline's synchronisation, run for every legal schedule
// of up to 3 stages: consumers execute the expanded loop in program order, blocking at MMA0(j)
// until K(j) is loaded and at MMA1(j) until V(j) is; slots are released at the ops the code
// generator releases them (K(j) at Softmax(j), V(j) at Softmax(j+1) or MUL(j+1)); loads either
// sit in the consumers' program (inline) or come from a producer that loads K(0), V(0), K(1), ...
// each once its slot is free. A state where nobody can move before the end is a deadlock: the
// GPU would hang. (A deadlock found here hung a GPU test run once, before the rings were sized.)
import { describe, expect, it } from 'vitest';
import { makePlan, matmulsAdjacent, pingpongTurn, PlanError, type Plan } from '../../src/codegen/index.js';
import { enumerate, expand, loopNest, resources, type Schedule } from '../../src/schedule/index.js';

type Tile = 'K' | 'V';

function runs(s: Schedule, plan: Plan, T: number, producerWarp: boolean, pingpong = false): boolean {
  const program = expand(s, T);
  const body = loopNest(s).body;
  const wrap = pingpong && pingpongTurn(body) === 'wrap';
  // 'wrap' turns start at the body's last matmul and hold the next step's first one.
  const mmas = body.filter((b) => b.op === 'MMA0' || b.op === 'MMA1').map((b) => b.op);
  const [firstMma, lastMma] = [mmas[0], mmas[mmas.length - 1]];
  const rings: Record<Tile, number> = { K: plan.kBuffers, V: plan.vBuffers };
  const loaded: Record<Tile, Set<number>> = { K: new Set(), V: new Set() };
  const released: Record<Tile, Set<number>> = { K: new Set(), V: new Set() };
  const slotFree = (t: Tile, j: number) => j < rings[t] || released[t].has(j - rings[t]);
  const producerOrder: Array<[Tile, number]> = [];
  for (let j = 0; j < T; j++) producerOrder.push(['K', j], ['V', j]);
  let pc = 0;
  let next = 0;
  for (;;) {
    let moved = false;
    while (producerWarp && next < producerOrder.length && slotFree(...producerOrder[next])) {
      const [t, j] = producerOrder[next++];
      loaded[t].add(j);
      moved = true;
    }
    while (pc < program.length) {
      const { op, iter: j } = program[pc];
      if (op === 'loadK' || op === 'loadV') {
        const t: Tile = op === 'loadK' ? 'K' : 'V';
        if (!producerWarp) {
          if (!slotFree(t, j)) break;
          loaded[t].add(j);
        }
      } else if (op === 'MMA0' || op === 'MMA1') {
        // Ping-pong: the turn needs every matmul's tile at its start: the step's two ('step'), or
        // this last matmul's and the next step's first one's ('wrap').
        const step = program[pc].step;
        const turn = !pingpong
          ? [program[pc]]
          : !wrap
            ? program.filter((x) => x.step === step && (x.op === 'MMA0' || x.op === 'MMA1'))
            : op === lastMma
              ? [program[pc], ...program.filter((x) => x.step === step + 1 && x.op === firstMma)]
              : [program[pc]];
        if (turn.some((x) => !(x.op === 'MMA0' ? loaded.K : loaded.V).has(x.iter))) break;
      }
      if (op === 'Softmax') released.K.add(j);
      if (op === plan.releaseVAt && j >= 1) released.V.add(j - 1);
      pc++;
      moved = true;
    }
    if (pc === program.length) return true;
    if (!moved) return false;
  }
}

/** Plans for the schedules the generator accepts (it refuses more than 2 live register tiles). */
function planOf(s: Schedule, producerWarp: boolean, pingpong = false, ringLimit?: { k: number; v: number }): Plan | undefined {
  try {
    return makePlan(loopNest(s), resources(s), 'tma', { producerWarp, pingpong, ringLimit });
  } catch (e) {
    if (e instanceof PlanError) return undefined;
    throw e;
  }
}

const schedules = [...enumerate({ maxStages: 3 })].filter((s) => planOf(s, false) !== undefined);

describe('no legal schedule deadlocks the generated pipeline', () => {
  for (const producerWarp of [false, true]) {
    it(`${schedules.length} schedules, T = 1..9, ${producerWarp ? 'producer warpgroup' : 'inline loads'}`, () => {
      const stuck: string[] = [];
      for (const s of schedules) {
        const plan = planOf(s, producerWarp)!;
        for (let T = 1; T <= 9; T++) {
          if (!runs(s, plan, T, producerWarp)) {
            stuck.push(`${JSON.stringify(s.ops)} T=${T}`);
            break;
          }
        }
      }
      expect(stuck.slice(0, 5)).toEqual([]);
    });
  }

  it(`producer warpgroup with ping-pong where the matmuls are adjacent (in the step or across its boundary), T = 1..9`, () => {
    const stuck: string[] = [];
    for (const s of schedules.filter((x) => matmulsAdjacent(loopNest(x).body))) {
      const plan = planOf(s, true, true)!;
      for (let T = 1; T <= 9; T++) {
        if (!runs(s, plan, T, true, true)) {
          stuck.push(`${JSON.stringify(s.ops)} T=${T}`);
          break;
        }
      }
    }
    expect(stuck.slice(0, 5)).toEqual([]);
  });

  // generate() shrinks the producer's rings (K first, then V, down to 2) when a wider KV tile needs
  // the shared memory; the rings then only grow back as far as the release order demands.
  for (const ringLimit of [{ k: 2, v: 3 }, { k: 2, v: 2 }, { k: 1, v: 1 }]) {
    it(`producer warpgroup with rings capped at K ${ringLimit.k} / V ${ringLimit.v}, with and without ping-pong, T = 1..9`, () => {
      const stuck: string[] = [];
      for (const s of schedules) {
        for (const pingpong of matmulsAdjacent(loopNest(s).body) ? [false, true] : [false]) {
          const plan = planOf(s, true, pingpong, ringLimit)!;
          for (let T = 1; T <= 9; T++) {
            if (!runs(s, plan, T, true, pingpong)) {
              stuck.push(`${JSON.stringify(s.ops)} pingpong=${pingpong} T=${T}`);
              break;
            }
          }
        }
      }
      expect(stuck.slice(0, 5)).toEqual([]);
    });
  }

  it("the model does find a deadlock when the producer's rings are sized for inline loads", () => {
    let found = 0;
    for (const s of schedules) {
      const inlinePlan = planOf(s, false)!;
      if (!runs(s, inlinePlan, 9, true)) found++;
    }
    expect(found).toBeGreaterThan(0);
  });
});
