// How a softcapped kernel computes tanh (plan softcapTanh): the default, the knob's rules, what the
// emitter writes for each form, and the 'exp2' form's formula in float32 on the host (its edge
// cases: +-inf, flushed tiny values, NaN, and the cancellation near 0), with the form it replaced
// as a negative control.
import { describe, expect, it } from 'vitest';
import { choose, chooseFrom, configOf, emit, planSummary, SOFTCAP_TANHS } from '../../src/codegen/index.js';
import { NAMED } from '../../src/schedule/index.js';

describe('softcapTanh', () => {
  it("keeps 'tanhf' where two S tiles are in flight (firstDot: exp2 spilled there)", () => {
    for (const headDim of [64, 128, 256] as const) {
      const plan = choose(NAMED.firstDot, { headDim, causal: true, window: true, softcap: true });
      expect(plan.pipeline.sTiles).toBe(2);
      expect(plan.softcapTanh).toBe('tanhf');
      expect(plan.decisions.join('\n')).toMatch(/softcapTanh tanhf: two S tiles in flight/);
      expect(choose(NAMED.firstDot, { headDim, softcap: true }, { softcapTanh: 'exp2' }).softcapTanh).toBe('exp2');
    }
  });

  it("defaults to 'exp2' with a softcap, citing the measurement, and is null without one", () => {
    for (const headDim of [64, 128, 256] as const) {
      for (const seqQ of [1024, 8192]) {
        for (const causal of [false, true]) {
          const plan = choose(NAMED.secondDot, { headDim, seqQ, causal, softcap: true });
          expect(plan.softcapTanh).toBe('exp2');
          expect(plan.decisions.join('\n')).toMatch(/softcapTanh exp2: .*NOTES 2026-11-28 session 16/);
          expect(planSummary(plan)).toMatch(/ tanh exp2( lazy-mul)?$/);
          const plain = choose(NAMED.secondDot, { headDim, seqQ, causal });
          expect(plain.softcapTanh).toBeNull();
          expect(plain.decisions.join('\n')).not.toMatch(/softcapTanh/);
          expect(planSummary(plain)).not.toMatch(/tanh/);
        }
      }
    }
  });

  it('each form reaches the plan and the emitted Logits policy; nothing else in the kernel changes', () => {
    const policy = { tanhf: 'TanhLibm', exp2: 'TanhExp2', approx: 'TanhApprox' } as const;
    const sources = new Map<string, string>();
    for (const softcapTanh of SOFTCAP_TANHS) {
      const plan = choose(NAMED.baseline, { headDim: 128, seqQ: 1024, causal: true, softcap: true }, { softcapTanh });
      expect(plan.softcapTanh).toBe(softcapTanh);
      expect(plan.decisions.join('\n')).not.toMatch(/softcapTanh/);
      const k = emit(plan);
      expect(k.source).toContain(`using Logits = SoftcapLogits<${policy[softcapTanh]}>;`);
      sources.set(softcapTanh, k.source.replace(/SoftcapLogits<\w+>/, 'SoftcapLogits<X>'));
    }
    expect(new Set(sources.values()).size).toBe(1);
    expect(emit(choose(NAMED.baseline, { headDim: 128, seqQ: 1024 })).source).toContain('using Logits = PlainLogits;');
  });

  it('configOf round-trips: a plan\'s knobs (null without a softcap) give the same plan back', () => {
    for (const softcap of [false, true]) {
      const plan = choose(NAMED.secondDot, { headDim: 128, seqQ: 2048, causal: true, softcap });
      const { headDim, ...rest } = configOf(plan);
      // Every knob given: the same plan, with no decisions left to choose() but the ones no knob sets.
      const { decisions: _a, ...again } = chooseFrom(NAMED.secondDot, { headDim, ...rest, seqQ: 2048 });
      const { decisions: _b, ...want } = plan;
      expect(again).toEqual(want);
    }
  });

  it('the knob is checked, naming the argument and the rule', () => {
    expect(() => choose(NAMED.secondDot, { headDim: 128, softcap: true }, { softcapTanh: 'fast' as never })).toThrow(/softcapTanh must be one of 'tanhf', 'exp2', 'approx', got fast/);
    expect(() => choose(NAMED.secondDot, { headDim: 128 }, { softcapTanh: 'approx' })).toThrow(/softcapTanh 'approx' needs softcap/);
    expect(choose(NAMED.secondDot, { headDim: 128 }, { softcapTanh: null }).softcapTanh).toBeNull();
  });
});

// kernels/variants.cuh TanhExp2 in float32: 1 - 2 * rcp(2^(2 x log2 e) + 1). The device's ex2 and
// rcp are approximations (relative 2^-22 and one unit); here they are exact and rounded to float32,
// so this checks the formula's shape (no cancellation that grows the error, the limits), not MUFU.
const f = Math.fround;
function tanhExp2(x: number): number {
  const e = f(2 ** f(x * f(2.8853900817779268)));
  const flushed = e !== 0 && Math.abs(e) < 2 ** -126 ? 0 : e; // .ftz
  const r = f(1 / f(flushed + 1));
  return f(1 - f(2 * r));
}
// The textbook (e - 1) / (e + 1): inf / inf is NaN for large x.
function tanhQuotient(x: number): number {
  const e = f(2 ** f(x * f(2.8853900817779268)));
  return f(f(e - 1) / f(e + 1));
}

describe('the exp2 form of tanh (host float32)', () => {
  const xs: number[] = [];
  for (let x = -20; x <= 20; x += 1 / 64) xs.push(x);
  xs.push(1e-6, -1e-6, 1e-30, -1e-30, 60, -60, 1e30, -1e30, Infinity, -Infinity, 0);

  it('is within 4e-7 of tanh everywhere (absolute), exactly +-1 far out, and keeps NaN', () => {
    let worst = 0, at = 0;
    for (const x of xs) {
      const err = Math.abs(tanhExp2(x) - Math.tanh(x));
      if (err > worst) { worst = err; at = x; }
    }
    expect(worst, `worst at x = ${at}`).toBeLessThan(4e-7);
    for (const x of [60, 1e30, Infinity]) expect(tanhExp2(x)).toBe(1);
    for (const x of [-60, -1e30, -Infinity]) expect(tanhExp2(x)).toBe(-1);
    expect(tanhExp2(NaN)).toBeNaN();
  });

  it('negative control: the quotient form is NaN where 2^(2x log2 e) overflows', () => {
    expect(tanhQuotient(60)).toBeNaN();
    expect(tanhQuotient(1)).toBeCloseTo(Math.tanh(1), 6);
  });
});
