// lazyRescale as plan data: the default per head dim and row count (choose.ts chooseLazyRescale,
// measured in bench/NOTES.md sessions 17 and 18), the knob's check, the emitted constant, and nothing else
// in the kernel changing with it.
import { describe, expect, it } from 'vitest';
import { choose, configOf, emit, NAMED, planSummary } from '../../src/index.js';

describe('lazyRescale', () => {
  it('defaults on at hd256 and with 192 rows, off at hd128/hd64 with 128 rows but for the persistent unmasked kernel without turns, citing the measurement', () => {
    const cases: Array<[number, number | undefined, number, boolean]> = [
      [128, 8192, 192, true], [128, 1024, 128, false], [128, 2048, 128, false], [256, 8192, 128, true], [256, 1024, 128, true], [64, 8192, 192, true],
    ];
    for (const [headDim, seqQ, blockM, on] of cases) {
      const plan = choose(NAMED.secondDot, { headDim: headDim as 64 | 128 | 256, seqQ }, { load: 'tma', blockM: blockM as 128 | 192 });
      expect(plan.lazyRescale, `hd${headDim} seqQ ${seqQ} blockM ${blockM}`).toBe(on);
      expect(plan.decisions.some((d) => d.startsWith(`lazyRescale ${on ? 'on' : 'off'}`) && /sessions? 1[78]/.test(d))).toBe(true);
      expect(planSummary(plan).endsWith(' lazy-mul')).toBe(on);
    }
    // 128 rows at hd128: on for baseline's persistent kernel without turns and without a mask (session 18), at every
    // length of the span where 128 rows run; off with turns (secondDot), a causal mask, a window, a softcap, packed
    // sequences, one CTA per tile, or another head dim.
    const base = (problem: object, knobs: object = {}, s = NAMED.baseline) => choose(s, { headDim: 128, ...problem }, { load: 'tma', ...knobs });
    for (const seqQ of [1, 127, 1024, 1280, 1664, 1792]) {
      const plan = base({ seqQ });
      expect([plan.blockM, plan.turn, plan.scheduler, plan.lazyRescale], `baseline seqQ ${seqQ}`).toEqual([128, 'none', 'static', true]);
      expect(plan.decisions.some((d) => d.startsWith('lazyRescale on') && d.includes('session 18'))).toBe(true);
    }
    const off: Array<[string, ReturnType<typeof base>]> = [
      ['secondDot (turns)', base({ seqQ: 1024 }, {}, NAMED.secondDot)],
      ['causal', base({ seqQ: 1024, causal: true })],
      ['window', base({ seqQ: 1024, window: true })],
      ['softcap', base({ seqQ: 1024, softcap: true })],
      ['packed', base({ seqQ: 1024, varlen: true })],
      ['one CTA per tile', base({ seqQ: 1024 }, { scheduler: 'grid' })],
      ['no length (one CTA per tile)', base({})],
      ['hd64', choose(NAMED.baseline, { headDim: 64, seqQ: 1024 }, { load: 'tma' })],
    ];
    for (const [what, plan] of off) {
      expect(plan.blockM, what).toBe(128);
      expect(plan.lazyRescale, what).toBe(false);
    }
    // Negative control: the same plans are on when asked for, so the cases above test the default, not a refusal.
    expect(base({ seqQ: 1024, causal: true }, { lazyRescale: true }).lazyRescale).toBe(true);
  });

  it('the knob overrides the default and round-trips through configOf', () => {
    for (const lazyRescale of [true, false]) {
      const plan = choose(NAMED.baseline, { headDim: 128, seqQ: 1024 }, { load: 'tma', lazyRescale });
      expect(plan.lazyRescale).toBe(lazyRescale);
      expect(configOf(plan).lazyRescale).toBe(lazyRescale);
    }
  });

  it('a knob that is not a boolean is refused, naming it', () => {
    expect(() => choose(NAMED.baseline, { headDim: 128 }, { lazyRescale: 'yes' as unknown as boolean })).toThrow(/lazyRescale/);
  });

  it('emits LAZY_RESCALE and changes nothing else in the source', () => {
    const src = (lazyRescale: boolean) => emit(choose(NAMED.secondDot, { headDim: 128, seqQ: 1024 }, { load: 'tma', lazyRescale })).source;
    const on = src(true), off = src(false);
    expect(on).toContain('constexpr bool LAZY_RESCALE = true;');
    expect(off).toContain('constexpr bool LAZY_RESCALE = false;');
    const strip = (s: string) => s.replace(/constexpr bool LAZY_RESCALE = (true|false);.*\n/, '').replace(/^\/\/ .*lazy.*$/gim, '');
    expect(strip(on).replace(/ lazy-mul/g, '')).toBe(strip(off));
  });
});
