// Every knob given to the config API (prepareAttention, compileAttention, the bench and the GPU
// matrix) reaches the plan. Session 6's O-by-TMA and peeled variants of the GPU matrix ran the
// default kernel because the config path dropped those two knobs: this test compares the config
// path's plan with choose()'s for every variant of variantKnobs(), on CPU.
import { describe, expect, it } from 'vitest';
import { attentionPlan, compileAttention, type AttentionConfig } from '../../src/api/index.js';
import { chooseFrom, KNOB_NAMES, planSummary, schedulerLength, variantKnobs } from '../../src/codegen/index.js';
import { NAMED } from '../../src/schedule/index.js';

const SCHEDULES = ['baseline', 'firstDot', 'secondDot'] as const;

describe('config API knobs', () => {
  it('every variant of the matrix gives the plan choose() gives for its knobs', () => {
    let compared = 0;
    for (const schedule of SCHEDULES) {
      for (const { label, knobs } of variantKnobs()) {
        for (const headDim of [64, 128, 256] as const) {
          for (const causal of [false, true]) {
            const direct = (() => {
              try {
                return chooseFrom(NAMED[schedule], { headDim, dtype: 'f16', causal, seqQ: schedulerLength(1000), ...knobs });
              } catch {
                return null;
              }
            })();
            if (direct === null) continue;
            const cfg: AttentionConfig = { batch: 1, heads: 2, seqLen: 1000, headDim, dtype: 'f16', causal, schedule, load: knobs.load ?? 'tma', ...knobs };
            const viaConfig = attentionPlan(cfg);
            expect(viaConfig, `${schedule} ${label} hd${headDim}${causal ? ' causal' : ''}: ${planSummary(viaConfig)} vs ${planSummary(direct)}`).toEqual(direct);
            compared++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('both values of oStore and peelMasks (and each variant kvShare) reach the plan through the config (a dropped knob gives the default for one of them)', () => {
    const base: AttentionConfig = { batch: 1, heads: 2, seqLen: 1000, headDim: 128, dtype: 'f16', causal: true, schedule: 'baseline', load: 'tma', warpSpecialized: true };
    for (const scheduler of ['grid', 'static', 'dynamic'] as const) {
      for (const oStore of ['registers', 'tma'] as const) expect(attentionPlan({ ...base, scheduler, oStore }).oStore, `${scheduler} ${oStore}`).toBe(oStore);
      for (const peelMasks of [false, true]) expect(attentionPlan({ ...base, scheduler, peelMasks }).peelMasks, `${scheduler} peel ${peelMasks}`).toBe(peelMasks);
    }
    for (const { label, knobs } of variantKnobs()) {
      const { warpSpecialized: _ws, ...plain } = base;
      // kvShare 2 and the rotated tile loop serve unmasked work only; the loop, baseline's body.
      const unmasked = knobs.kvShare === 2 || knobs.crossTile === true;
      const plan = attentionPlan({ ...plain, schedule: knobs.crossTile ? 'baseline' : 'secondDot', ...knobs, ...(unmasked ? { causal: false } : {}) });
      if (knobs.kvShare !== undefined) expect(plan.kvShare, label).toBe(knobs.kvShare);
      if (knobs.qBuffers !== undefined) expect(plan.qBuffers, label).toBe(knobs.qBuffers);
      if (knobs.crossTile !== undefined) expect(plan.crossTile, label).toBe(knobs.crossTile);
      if (knobs.oStore !== undefined) expect(plan.oStore, label).toBe(knobs.oStore);
      if (knobs.peelMasks !== undefined) expect(plan.peelMasks, label).toBe(knobs.peelMasks);
      if (knobs.scheduler !== undefined) expect(plan.scheduler, label).toBe(knobs.scheduler);
    }
  });

  it('a refused knob rejects compileAttention\'s promise, never a synchronous throw (Promise.allSettled sees it)', async () => {
    const refused: AttentionConfig = { batch: 1, heads: 1, seqLen: 8192, headDim: 128, dtype: 'f16', causal: false, schedule: 'baseline', load: 'tma', scheduler: 'grid', kvShare: 2 };
    let p: Promise<unknown> | undefined;
    expect(() => { p = compileAttention(refused); }).not.toThrow();
    await expect(p).rejects.toThrow(/kvShare 2 needs scheduler 'static'/);
    const [r] = await Promise.allSettled([refused].map((c) => compileAttention(c)));
    expect(r.status).toBe('rejected');
  });

  it('KNOB_NAMES lists each knob of a variant', () => {
    for (const { knobs } of variantKnobs()) for (const k of Object.keys(knobs)) expect(KNOB_NAMES).toContain(k);
  });
});
