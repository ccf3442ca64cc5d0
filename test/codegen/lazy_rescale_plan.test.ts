// lazyRescale as plan data: the default per head dim and row count (choose.ts chooseLazyRescale,
// measured in bench/NOTES.md session 17), the knob's check, the emitted constant, and nothing else
// in the kernel changing with it.
import { describe, expect, it } from 'vitest';
import { choose, configOf, emit, NAMED, planSummary } from '../../src/index.js';

describe('lazyRescale', () => {
  it('defaults on at hd256 and with 192 rows, off at hd128/hd64 with 128 rows, citing the measurement', () => {
    const cases: Array<[number, number | undefined, number, boolean]> = [
      [128, 8192, 192, true], [128, 1024, 128, false], [128, 2048, 128, false], [256, 8192, 128, true], [256, 1024, 128, true], [64, 8192, 192, true],
    ];
    for (const [headDim, seqQ, blockM, on] of cases) {
      const plan = choose(NAMED.secondDot, { headDim: headDim as 64 | 128 | 256, seqQ }, { load: 'tma', blockM: blockM as 128 | 192 });
      expect(plan.lazyRescale, `hd${headDim} seqQ ${seqQ} blockM ${blockM}`).toBe(on);
      expect(plan.decisions.some((d) => d.startsWith(`lazyRescale ${on ? 'on' : 'off'}`) && d.includes('session 17'))).toBe(true);
      expect(planSummary(plan).endsWith(' lazy-mul')).toBe(on);
    }
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
