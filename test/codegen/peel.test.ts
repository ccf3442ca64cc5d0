// The peeled steady loop (plan.peelMasks, emit.ts): the split runs exactly the trips of the one
// checked loop, in order, and a trip runs without mask code only when every softmax in it falls in
// the mask-free iterations [lo, hi) (masks_mirror.test.ts checks those bounds against the mask).
import { describe, expect, it } from 'vitest';
import { choose, emit, programOf, softmaxLag, type KernelPlan } from '../../src/codegen/index.js';
import type { OpBlock } from '../../src/codegen/program.js';
import { enumerate, NAMED } from '../../src/schedule/index.js';

function trips(plan: KernelPlan, T: number, lo: number, hi: number, peeled: boolean, lag = softmaxLag(plan)): Array<{ k: number; free: boolean }> {
  const S = plan.pipeline.numStages, u = plan.pipeline.unroll;
  const out: Array<{ k: number; free: boolean }> = [];
  let k = S;
  if (!peeled) {
    for (; k + u - 1 < T; k += u) out.push({ k, free: false });
    return out;
  }
  const { dMin, dMax } = lag;
  if (plan.window) for (; k + u - 1 < T && k + dMin < lo; k += u) out.push({ k, free: false });
  for (; k + u - 1 < T && k + dMax < hi; k += u) out.push({ k, free: true });
  for (; k + u - 1 < T; k += u) out.push({ k, free: false });
  return out;
}

function softmaxIterations(plan: KernelPlan, k: number): number[] {
  return programOf(plan).loop.flatMap((st) => st.items.filter((it): it is OpBlock => 'op' in it && it.op === 'Softmax').map((b) => k + st.offset - b.stage));
}

describe('peeled masks', () => {
  const schedules = [...Object.values(NAMED), ...[...enumerate({ maxStages: 3 })].filter((_, i) => i % 97 === 0)];
  it('same trips as the checked loop; a mask-free trip only where all its softmaxes are mask-free', () => {
    let free = 0, plans = 0;
    for (const s of schedules) {
      for (const [window, knobs] of [[false, { warpSpecialized: true, scheduler: 'dynamic' }], [true, { warpSpecialized: false }], [true, { load: 'cp.async' }]] as const) {
        let plan: KernelPlan;
        try {
          plan = choose(s, { headDim: 64, causal: true, window }, { ...knobs, peelMasks: true });
        } catch {
          continue; // a combination this schedule cannot take
        }
        plans++;
        for (let T = 1; T <= 12; T++) {
          for (let lo = 0; lo <= (window ? T : 0); lo++) {
            for (let hi = lo - 1; hi <= T + 1; hi++) {
              const got = trips(plan, T, lo, hi, true);
              expect(got.map((t) => t.k)).toEqual(trips(plan, T, lo, hi, false).map((t) => t.k));
              for (const t of got.filter((x) => x.free)) {
                free++;
                for (const j of softmaxIterations(plan, t.k)) expect(j >= lo && j < hi, `${JSON.stringify(s.ops)} T ${T} [${lo}, ${hi}) k ${t.k} j ${j}`).toBe(true);
              }
            }
          }
        }
      }
    }
    expect(plans).toBeGreaterThan(20);
    expect(free).toBeGreaterThan(1000);
  });
  it('negative control: testing a two-softmax trip by its first softmax admits a masked one', () => {
    const plan = choose(NAMED.firstDot, { headDim: 64, causal: true }, { warpSpecialized: true, scheduler: 'grid', peelMasks: true });
    const lag = softmaxLag(plan);
    expect(lag.dMax).toBeGreaterThan(lag.dMin); // two register tiles: two softmaxes per trip
    let bad = 0;
    for (let T = 1; T <= 12; T++) {
      for (let hi = 0; hi <= T; hi++) {
        for (const t of trips(plan, T, 0, hi, true, { dMin: lag.dMin, dMax: lag.dMin }).filter((x) => x.free)) {
          if (softmaxIterations(plan, t.k).some((j) => j >= hi)) bad++;
        }
      }
    }
    expect(bad).toBeGreaterThan(0);
  });
  it('the source: one checked loop by default; peeled, a mask-free copy (and the window edge loop only with a window)', () => {
    const plain = emit(choose(NAMED.secondDot, { headDim: 128, causal: true })).source;
    expect(plain).not.toContain('unmaskedIterations');
    expect(plain.match(/constexpr bool MASK_STEP = true;/g)).toHaveLength(1);
    const peeled = emit(choose(NAMED.secondDot, { headDim: 128, causal: true }, { peelMasks: true })).source;
    expect(peeled).toContain('const TileSpan unmasked = unmaskedIterations(c);');
    expect(peeled.match(/constexpr bool MASK_STEP = false;/g)).toHaveLength(1);
    expect(peeled).not.toContain("window's left edge");
    expect(emit(choose(NAMED.secondDot, { headDim: 128, causal: true, window: true }, { peelMasks: true })).source).toContain("window's left edge");
    expect(choose(NAMED.secondDot, { headDim: 128 }).decisions.join('\n')).toMatch(/peelMasks off: .*NOTES/);
    expect(() => choose(NAMED.secondDot, { headDim: 128 }, { peelMasks: 'yes' as never })).toThrow(/peelMasks must be a boolean/);
  });
});
