// How O leaves the CTA (plan.ts OStore): the default, the knob's rules, and the shared-memory model.
import { describe, expect, it } from 'vitest';
import { choose, emit, smemLayout, HOPPER_MAX_SHARED_BYTES } from '../../src/codegen/index.js';
import { NAMED } from '../../src/schedule/index.js';

describe('oStore', () => {
  it('the default is the register store, citing the measurement', () => {
    for (const seqQ of [1024, 8192]) {
      const plan = choose(NAMED.secondDot, { headDim: 128, seqQ, causal: seqQ > 2000 });
      expect(plan.oStore).toBe('registers');
      expect(plan.smem.oBytes).toBe(0);
      expect(plan.decisions.join('\n')).toMatch(/oStore registers: .*NOTES/);
    }
  });
  it('asked for, TMA takes the K ring third slot at hd128 (never a V slot or tile width) and any scheduler', () => {
    const tma = choose(NAMED.secondDot, { headDim: 128, seqQ: 1024 }, { oStore: 'tma' });
    const regs = choose(NAMED.secondDot, { headDim: 128, seqQ: 1024 });
    expect(tma.oStore).toBe('tma');
    expect(tma.blockN).toBe(regs.blockN);
    expect(tma.pipeline.vBuffers).toBe(regs.pipeline.vBuffers);
    expect(tma.pipeline.kBuffers).toBe(2);
    expect(tma.smem.oBytes).toBe(128 * 128 * 2);
    expect(choose(NAMED.secondDot, { headDim: 128 }, { oStore: 'tma', scheduler: 'grid' }).oStore).toBe('tma');
    expect(choose(NAMED.baseline, { headDim: 64, causal: true, window: true, softcap: true }, { oStore: 'tma', scheduler: 'dynamic' }).oStore).toBe('tma');
  });
  it('the knob is checked, naming the argument and the rule', () => {
    expect(() => choose(NAMED.secondDot, { headDim: 128 }, { oStore: 'smem' as never })).toThrow(/oStore must be one of 'registers', 'tma', got smem/);
    expect(() => choose(NAMED.secondDot, { headDim: 128, varlen: true }, { oStore: 'tma' })).toThrow(/oStore 'tma' cannot store packed sequences/);
    // hd256's tiles leave no room for 64 KiB of O at this width: the shared-memory rule, with the breakdown.
    expect(() => choose(NAMED.secondDot, { headDim: 256 }, { oStore: 'tma', blockN: 128 })).toThrow(/shared memory .*O 65536.*Hopper allows/);
  });
  it('the layout places one Q-sized O tile per warpgroup after the V ring, 1024-aligned, and the kernel gets it', () => {
    for (const headDim of [64, 128, 256]) {
      for (const oTile of [false, true]) {
        const l = smemLayout({ headDim, blockM: 128, blockN: 64, kBuffers: 2, vBuffers: 2, pSharedTiles: 1, oTile });
        expect(l.o).toBe(l.v + 2 * l.tileBytes);
        expect(l.o % 1024).toBe(0);
        expect(l.oBytes).toBe(oTile ? 2 * l.qWarpgroupBytes : 0);
        expect(l.p).toBe(l.o + l.oBytes);
      }
    }
    const plan = choose(NAMED.secondDot, { headDim: 128, seqQ: 1024 }, { oStore: 'tma' });
    expect(plan.smem.launchBytes).toBeLessThanOrEqual(HOPPER_MAX_SHARED_BYTES);
    const src = emit(plan).source;
    expect(src).toContain('using OStore = OStoreTma;');
    expect(src).toContain(`static constexpr u32 O_BYTES = ${plan.smem.oBytes};`);
    expect(emit(choose(NAMED.secondDot, { headDim: 128 })).source).toContain('using OStore = OStoreRegisters;');
  });
});
