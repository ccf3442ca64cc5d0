// How O leaves the CTA (plan.ts OStore): the default, the knob's rules, and the shared-memory model.
import { describe, expect, it } from 'vitest';
import { choose, emit, smemLayout, HOPPER_MAX_SHARED_BYTES } from '../../src/codegen/index.js';
import { NAMED } from '../../src/schedule/index.js';

describe('oStore', () => {
  it('a persistent kernel stores O by TMA where the O tiles cost no tile width or V slot', () => {
    const hd128 = choose(NAMED.secondDot, { headDim: 128, seqQ: 1024 });
    expect(hd128.scheduler).toBe('static');
    expect(hd128.oStore).toBe('tma');
    // The O tiles took the K ring's third slot (measured as fast as two), never a V slot or width.
    const without = choose(NAMED.secondDot, { headDim: 128, seqQ: 1024 }, { oStore: 'registers' });
    expect(hd128.blockN).toBe(without.blockN);
    expect(hd128.pipeline.vBuffers).toBe(without.pipeline.vBuffers);
    expect(hd128.smem.oBytes).toBe(128 * 128 * 2);
    expect(hd128.decisions.join('\n')).toMatch(/oStore tma: .*NOTES/);
    expect(choose(NAMED.secondDot, { headDim: 64, seqQ: 1024, causal: true }).oStore).toBe('tma');
  });
  it('registers where TMA would cost a V slot or width, for packed sequences and for one CTA per tile', () => {
    // P in shared memory already shrank the K ring: O tiles would take a V slot.
    expect(choose(NAMED.secondDot, { headDim: 128, seqQ: 1024 }, { pShared: true }).oStore).toBe('registers');
    expect(choose(NAMED.secondDot, { headDim: 256, seqQ: 1024 }).oStore).toBe('registers');
    const packed = choose(NAMED.secondDot, { headDim: 128, seqQ: 1024, varlen: true, causal: true });
    expect(packed.scheduler).toBe('dynamic');
    expect(packed.oStore).toBe('registers');
    expect(packed.decisions.join('\n')).toMatch(/oStore registers: packed sequences/);
    expect(choose(NAMED.secondDot, { headDim: 128, seqQ: 8192 }).oStore).toBe('registers');
    expect(choose(NAMED.secondDot, { headDim: 128 }).smem.oBytes).toBe(0);
    const windowed = choose(NAMED.secondDot, { headDim: 128, seqQ: 1024, causal: true, window: true });
    expect(windowed.oStore).toBe('registers');
    expect(windowed.decisions.join('\n')).toMatch(/oStore registers: a window/);
  });
  it('the knob is checked, naming the argument and the rule', () => {
    expect(() => choose(NAMED.secondDot, { headDim: 128 }, { oStore: 'smem' as never })).toThrow(/oStore must be one of 'registers', 'tma', got smem/);
    expect(() => choose(NAMED.secondDot, { headDim: 128, varlen: true }, { oStore: 'tma' })).toThrow(/oStore 'tma' cannot store packed sequences/);
    // hd256's tiles leave no room for 64 KiB of O at any width: the shared-memory rule, with the breakdown.
    expect(() => choose(NAMED.secondDot, { headDim: 256 }, { oStore: 'tma', blockN: 128 })).toThrow(/shared memory .*O 65536.*Hopper allows/);
    // Asked for, it also applies to one CTA per tile.
    expect(choose(NAMED.secondDot, { headDim: 128 }, { oStore: 'tma', scheduler: 'grid' }).oStore).toBe('tma');
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
    const plan = choose(NAMED.secondDot, { headDim: 128, seqQ: 1024 });
    expect(plan.smem.launchBytes).toBeLessThanOrEqual(HOPPER_MAX_SHARED_BYTES);
    const src = emit(plan).source;
    expect(src).toContain('using OStore = OStoreTma;');
    expect(src).toContain(`static constexpr u32 O_BYTES = ${plan.smem.oBytes};`);
    expect(emit(choose(NAMED.secondDot, { headDim: 128 })).source).toContain('using OStore = OStoreRegisters;');
  });
});
