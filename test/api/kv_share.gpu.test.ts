// kvShare 2: two CTAs of a cluster share each K/V tile by TMA multicast (plan.ts kvShare). The
// bench's check (fresh random inputs, poisoned outputs, every element scanned, sampled rows against
// the GPU fp32 reference) on every head dim, at lengths whose query blocks pair up and at odd block
// counts (a block past the end runs on zero rows and must store nothing) and partial last blocks,
// on all SMs and on a few CTAs, with the hang trap on. The variant matrix (attention.gpu.test.ts)
// runs the knob at every length 1..160 too, and attention_tensor.gpu.test.ts with GQA, both layouts
// and more keys than queries.
import { describe, expect, it } from 'vitest';
import { prepareAttention, type AttentionConfig } from '../../src/api/attention.js';
import { describeGpu } from '../gpu.js';

const cases: Array<{ name: string; cfg: AttentionConfig }> = [];
for (const schedule of ['baseline', 'secondDot'] as const) {
  for (const [batch, heads, seqLen, headDim] of [[2, 3, 256, 128], [1, 4, 1024, 128], [2, 2, 2048, 128], [1, 2, 4096 + 256, 128], [2, 3, 384, 128], [1, 3, 1100, 128], [3, 2, 77, 128], [2, 2, 1000, 64], [1, 3, 640, 256]] as const) {
    for (const ctas of [undefined, 2, 3]) {
      cases.push({
        name: `${schedule} ${batch}x${heads}x${seqLen}x${headDim}${ctas ? ` on ${ctas} CTAs` : ''}`,
        cfg: { batch, heads, seqLen, headDim, dtype: 'f16', causal: false, schedule, load: 'tma', scheduler: 'static', kvShare: 2, hangTrap: true, ...(ctas ? { persistentCtas: ctas } : {}) },
      });
    }
  }
}

// Three consumer warpgroups (192-row blocks) in pairs: a knob only, not a default.
for (const [seqLen, headDim] of [[1000, 128], [577, 64], [2304, 64]] as const) {
  cases.push({
    name: `baseline blockM 192 1x3x${seqLen}x${headDim} on 3 CTAs`,
    cfg: { batch: 1, heads: 3, seqLen, headDim, dtype: 'bf16', causal: false, schedule: 'baseline', load: 'tma', scheduler: 'static', blockM: 192, kvShare: 2, hangTrap: true, persistentCtas: 3 },
  });
}

describeGpu('kvShare 2: two CTAs of a cluster share each K/V tile (multicast)', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const p = await prepareAttention(c.cfg);
      try {
        expect(p.compiled.kernel.plan.kvShare).toBe(2);
        const r = await p.check();
        expect(r.ok, r.message).toBe(true);
        expect(r.unwritten).toBe(0);
      } finally {
        p.dispose();
      }
    });
  }

  it('its grid is at most the clusters of two that fit at once (no second wave), and even', async () => {
    const { compileAttention } = await import('../../src/api/attention.js');
    const { devices } = await import('../../src/runtime/index.js');
    const c = await compileAttention({ batch: 8, heads: 16, seqLen: 1024, headDim: 128, dtype: 'f16', causal: false, schedule: 'baseline', load: 'tma', scheduler: 'static', kvShare: 2 });
    const sms = devices().devices[0].smCount;
    const clusters = c.fn.maxActiveClusters(2, c.kernel.threads, c.kernel.sharedMemBytes);
    console.log(`[stagewise] ${sms} SMs fit ${clusters} clusters of two ${c.kernel.sharedMemBytes}-byte CTAs`);
    expect(clusters).toBeGreaterThan(0);
    expect(clusters).toBeLessThanOrEqual(Math.floor(sms / 2));
    expect(c.maxCtas).toBe(2 * clusters);
    // A kvShare 1 kernel has no cap; one CTA of it per SM.
    const one = await compileAttention({ batch: 8, heads: 16, seqLen: 1024, headDim: 128, dtype: 'f16', causal: false, schedule: 'baseline', load: 'tma', scheduler: 'static', kvShare: 1 });
    expect(one.maxCtas).toBeUndefined();
    expect(() => c.fn.maxActiveClusters(0, 384, 1000)).toThrow(/clusterSize must be/);
  });

  it('the default plan shares K/V where it measured faster (hd128 baseline at 1k) and is correct there', async () => {
    const p = await prepareAttention({ batch: 2, heads: 4, seqLen: 1024, headDim: 128, dtype: 'bf16', causal: false, schedule: 'baseline', load: 'tma', hangTrap: true });
    try {
      expect(p.compiled.kernel.plan.kvShare).toBe(2);
      const r = await p.check();
      expect(r.ok, r.message).toBe(true);
    } finally {
      p.dispose();
    }
  });
});

describe('kvShare on the CPU', () => {
  it('is 2 by default only where it measured faster and both CTAs visit the same K/V tiles', async () => {
    const { choose } = await import('../../src/codegen/index.js');
    const { NAMED } = await import('../../src/schedule/index.js');
    const at = (s: keyof typeof NAMED, problem: Parameters<typeof choose>[1], knobs = {}) => choose(NAMED[s], problem, knobs);
    expect(at('baseline', { headDim: 128, seqQ: 1024 }).kvShare).toBe(2);
    expect(at('baseline', { headDim: 128, seqQ: 1792 }).kvShare).toBe(2); // 2048 takes 192 rows on one CTA per tile (session 14); 1792 pads 7% at 192
    expect(at('baseline', { headDim: 128, seqQ: 1280 }).kvShare).toBe(2);
    expect(at('baseline', { headDim: 128, seqQ: 1024 }).decisions.join('\n')).toMatch(/kvShare 2: .*NOTES 2026-11-28 session 11/);
    for (const [name, s, problem, why] of [
      ['a ping-pong turn', 'secondDot', { headDim: 128, seqQ: 1024 }, /ping-pong turn/],
      ['an odd block count', 'baseline', { headDim: 128, seqQ: 1152 }, /9 query blocks per head, an odd count/],
      ['no length', 'baseline', { headDim: 128 }, /kvShare 1: scheduler grid/],
      ['a length class', 'baseline', { headDim: 128, seqQ: 4096 }, /kvShare 1: scheduler grid|a length class/],
      ['causal', 'baseline', { headDim: 128, seqQ: 1024, causal: true }, /kvShare 1: scheduler dynamic/],
      ['hd64', 'baseline', { headDim: 64, seqQ: 1024 }, /head dim 64 \(not measured\)/],
    ] as const) {
      const plan = at(s, problem);
      expect(plan.kvShare, name).toBe(1);
      expect(plan.decisions.join('\n'), name).toMatch(why);
    }
    expect(at('baseline', { headDim: 128, seqQ: 4096 }, { scheduler: 'static' }).decisions.join('\n')).toMatch(/a length class \(4096\)/);
    expect(at('baseline', { headDim: 128, seqQ: 1024 }, { kvShare: 1 }).kvShare).toBe(1);
  });

  it('the knob 2 is refused, naming the rule, where the two CTAs of a pair would visit different K/V tiles', async () => {
    const { choose } = await import('../../src/codegen/index.js');
    const { NAMED } = await import('../../src/schedule/index.js');
    expect(choose(NAMED.secondDot, { headDim: 64, seqQ: 1000 }, { kvShare: 2 }).kvShare).toBe(2); // the default scheduler there is static
    for (const [problem, knobs] of [
      [{ headDim: 128, causal: true }, { scheduler: 'static' }],
      [{ headDim: 128, window: true }, { scheduler: 'static' }],
      [{ headDim: 128, varlen: true }, { scheduler: 'static' }],
      [{ headDim: 128 }, { scheduler: 'grid' }],
      [{ headDim: 128 }, {}],
      [{ headDim: 128 }, { scheduler: 'dynamic' }],
      [{ headDim: 128 }, { load: 'cp.async' }],
      [{ headDim: 128 }, { load: 'tma', warpSpecialized: false }],
    ] as const) {
      expect(() => choose(NAMED.baseline, problem, { ...knobs, kvShare: 2 }), JSON.stringify([problem, knobs])).toThrow(/kvShare 2 needs scheduler 'static'.*; this plan has scheduler '/);
    }
    expect(() => choose(NAMED.baseline, { headDim: 128 }, { scheduler: 'static', kvShare: 3 as never })).toThrow(/kvShare must be 1 or 2, got 3/);
  });

  it('the two-CTA deadlock model: every schedule runs through with shared empty barriers; with local ones a producer overwrites its peer\'s slot (negative control)', async () => {
    const { choose, deadlockModel, persistentTrips } = await import('../../src/codegen/index.js');
    const { NAMED } = await import('../../src/schedule/index.js');
    for (const name of ['baseline', 'firstDot', 'secondDot'] as const) {
      const plan = choose(NAMED[name], { headDim: 128, seqQ: 1024 }, { scheduler: 'static', kvShare: 2 });
      for (const seq of persistentTrips([1, 2, 3, 4, 5, 8])) expect(deadlockModel(plan, seq), `${name} ${seq}`).toEqual([]);
      expect(deadlockModel(plan, [4, 4], { sharedEmpty: false }).join('\n'), name).toMatch(/hazard with kvShare 2: CTA \d writes its half of [KV]\(\d+\) into CTA \d's slot/);
      expect(deadlockModel(plan, [3, 3], { releaseLastV: false }).join('\n'), name).toMatch(/deadlock at tiles T = 3, 3 .*CTA 0 warpgroup 0/);
    }
  });
});
