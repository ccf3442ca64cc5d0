// schedule 'auto' (codegen chooseAuto): the named schedule measured fastest for the kernel a problem
// gets, as plan data: exactly the named schedule's plan, with the choice as its first decision.
import { describe, expect, it } from 'vitest';
import { autoTakesBaseline, chooseFrom, type KernelConfigInput } from '../../src/codegen/index.js';
import { NAMED } from '../../src/schedule/index.js';
import { attentionPlan, resolveSchedule } from '../../src/api/attention.js';

const strip = (p: ReturnType<typeof chooseFrom>) => ({ ...p, decisions: p.decisions.filter((d) => !d.startsWith('schedule auto')) });

describe("schedule 'auto'", () => {
  it('is the named plan it picks, baseline exactly where autoTakesBaseline says, over head dims, masks, features and lengths', () => {
    let baseline = 0, secondDot = 0;
    for (const headDim of [64, 128, 256] as const) {
      for (const causal of [false, true]) {
        for (const [window, softcap, varlen] of [[false, false, false], [true, false, false], [false, true, false], [false, false, true]]) {
          for (const seqQ of [undefined, 1, 1000, 1024, 1536, 1792, 2048, 4096, 5120, 5121, 8192, 65536]) {
            const input: KernelConfigInput = { headDim, dtype: 'f16', load: 'tma', causal, window, softcap, varlen, ...(seqQ !== undefined ? { seqQ } : {}) };
            const where = JSON.stringify(input);
            const auto = chooseFrom('auto', input);
            const base = chooseFrom(NAMED.baseline, input);
            const takes = autoTakesBaseline(base);
            expect(auto.schedule.name, where).toBe(takes ? 'baseline' : 'secondDot');
            expect(strip(auto), where).toEqual(chooseFrom(takes ? NAMED.baseline : NAMED.secondDot, input));
            expect(auto.decisions[0], where).toMatch(new RegExp(`^schedule auto -> ${takes ? 'baseline' : 'secondDot'}: .*session 18`));
            if (takes) baseline++;
            else secondDot++;
          }
        }
      }
    }
    // Both outcomes occur (a rule that always picked one schedule would fail here).
    expect(baseline).toBeGreaterThan(10);
    expect(secondDot).toBeGreaterThan(10);
  });

  it('takes baseline for the measured persistent 128-row hd128 kernels and secondDot elsewhere', () => {
    const pick = (x: Partial<KernelConfigInput>) => chooseFrom('auto', { headDim: 128, load: 'tma', ...x }).schedule.name;
    expect([1024, 1280, 1792].map((seqQ) => pick({ seqQ }))).toEqual(['baseline', 'baseline', 'baseline']);
    expect([1024, 2048, 4096, 5120].map((seqQ) => pick({ seqQ, causal: true }))).toEqual(['baseline', 'baseline', 'baseline', 'baseline']);
    // 192 rows (1536 and 2048 without a mask, past the persistent span), other head dims, features, unknown length.
    expect([1536, 2048, 4096, 8192].map((seqQ) => pick({ seqQ }))).toEqual(['secondDot', 'secondDot', 'secondDot', 'secondDot']);
    expect(pick({ seqQ: 8192, causal: true })).toBe('secondDot');
    expect(pick({ seqQ: 1024, headDim: 64 })).toBe('secondDot');
    expect(pick({ seqQ: 1024, headDim: 256 })).toBe('secondDot');
    expect(pick({ seqQ: 1024, causal: true, window: true })).toBe('secondDot');
    expect(pick({ seqQ: 1024, causal: true, softcap: true })).toBe('secondDot');
    expect(pick({ seqQ: 1024, causal: true, varlen: true })).toBe('secondDot');
    expect(pick({})).toBe('secondDot');
    // Knobs steer the kernel and so the pick: one CTA per tile at 1k is not the persistent kernel.
    expect(pick({ seqQ: 1024, scheduler: 'grid' })).toBe('secondDot');
    expect(pick({ seqQ: 1024, scheduler: 'dynamic' })).toBe('baseline');
  });

  it('refuses what both named schedules refuse, with the rule, before any launch', () => {
    expect(() => chooseFrom('auto', { headDim: 128, load: 'cp.async', blockM: 192 })).toThrow(/blockM 192 needs load 'tma'/);
  });

  it("is the API's spelling too: resolveSchedule, attentionPlan and the error for an unknown name", () => {
    expect(resolveSchedule('auto')).toBe('auto');
    expect(resolveSchedule('baseline')).toBe(NAMED.baseline);
    expect(() => resolveSchedule('fastest')).toThrow(/schedule must be 'auto', one of baseline, firstDot, secondDot or a schedule object, got 'fastest'/);
    const cfg = { batch: 2, heads: 4, seqLen: 1024, headDim: 128, dtype: 'f16', causal: true, load: 'tma' } as const;
    expect(attentionPlan({ ...cfg, schedule: 'auto' }).schedule.name).toBe('baseline');
    expect(attentionPlan({ ...cfg, seqLen: 8192, schedule: 'auto' }).schedule.name).toBe('secondDot');
  });
});
