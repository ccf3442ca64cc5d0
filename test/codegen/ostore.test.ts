// How O leaves the CTA (plan.ts OStore): the default, the knob's rules, and the shared-memory model.
import { describe, expect, it } from 'vitest';
import { choose, emit, smemLayout, verify, HOPPER_MAX_SHARED_BYTES } from '../../src/codegen/index.js';
import { NAMED } from '../../src/schedule/index.js';

describe('oStore', () => {
  it('the default: TMA at hd128 with a producer warpgroup (K ring 3 -> 2, same tile and V ring), registers elsewhere, each citing why', () => {
    for (const seqQ of [1024, 8192]) {
      for (const causal of [false, true]) {
        const plan = choose(NAMED.secondDot, { headDim: 128, seqQ, causal });
        const regs = choose(NAMED.secondDot, { headDim: 128, seqQ, causal }, { oStore: 'registers' });
        expect(plan.oStore).toBe('tma');
        expect(plan.blockN).toBe(regs.blockN);
        expect(plan.pipeline.vBuffers).toBe(regs.pipeline.vBuffers);
        expect(plan.decisions.join('\n')).toMatch(/oStore tma: .*NOTES 2026-11-27 session 7/);
      }
    }
    // One CTA per tile and a persistent kernel take it with every feature (persistent with a window
    // or softcap since session 16: measured +3.5..+11.9% on an H200).
    for (const seqQ of [1024, 2048, 8192]) {
      for (const schedule of [NAMED.baseline, NAMED.secondDot]) {
        for (const f of [{ window: true }, { softcap: true }, { causal: true, window: true, softcap: true }, { causal: true, softcap: true }]) {
          const plan = choose(schedule, { headDim: 128, seqQ, ...f });
          expect(plan.oStore, JSON.stringify([seqQ, f])).toBe('tma');
          if (seqQ <= 2048) expect(plan.scheduler, JSON.stringify([seqQ, f])).not.toBe('grid');
        }
      }
    }
    const cases: Array<[Parameters<typeof choose>[1], Parameters<typeof choose>[2], RegExp]> = [
      [{ headDim: 64, seqQ: 1024 }, {}, /head dim 64/],
      [{ headDim: 256, seqQ: 8192 }, {}, /head dim 256/],
      [{ headDim: 128 }, { load: 'cp.async' }, /without a producer warpgroup/],
      [{ headDim: 128 }, { load: 'tma', warpSpecialized: false }, /without a producer warpgroup/],
    ];
    for (const [problem, knobs, why] of cases) {
      const plan = choose(NAMED.baseline, problem, knobs);
      expect(plan.oStore, JSON.stringify([problem, knobs])).toBe('registers');
      expect(plan.smem.oBytes).toBe(0);
      expect(plan.decisions.join('\n')).toMatch(why);
    }
  });
  it('asked for, TMA takes the K ring third slot at hd128 (never a V slot or tile width) and any scheduler', () => {
    const tma = choose(NAMED.secondDot, { headDim: 128, seqQ: 1024 }, { oStore: 'tma' });
    const regs = choose(NAMED.secondDot, { headDim: 128, seqQ: 1024 }, { oStore: 'registers' });
    expect(tma.oStore).toBe('tma');
    expect(tma.blockN).toBe(regs.blockN);
    expect(tma.pipeline.vBuffers).toBe(regs.pipeline.vBuffers);
    expect(tma.pipeline.kBuffers).toBe(2);
    expect(tma.smem.oBytes).toBe(128 * 128 * 2);
    expect(choose(NAMED.secondDot, { headDim: 128 }, { oStore: 'tma', scheduler: 'grid' }).oStore).toBe('tma');
    expect(choose(NAMED.baseline, { headDim: 64, causal: true, window: true, softcap: true }, { oStore: 'tma', scheduler: 'dynamic' }).oStore).toBe('tma');
  });
  it("packed sequences take oStore 'tma' when asked: OStoreTmaPacked (a block crossing a sequence's end from registers), any scheduler", () => {
    for (const scheduler of ['grid', 'static', 'dynamic'] as const) {
      for (const causal of [false, true]) {
        const plan = choose(NAMED.secondDot, { headDim: 128, varlen: true, causal }, { oStore: 'tma', scheduler });
        expect(plan.oStore).toBe('tma');
        const k = emit(plan);
        expect(k.source).toContain('using OStore = OStoreTmaPacked;');
        expect(emit(choose(NAMED.secondDot, { headDim: 128, causal }, { oStore: 'tma', scheduler })).source).toContain('using OStore = OStoreTma;');
      }
    }
    // The default for packed sequences (session 16: +7..+17% on an H200), citing it; registers at hd64/hd256.
    for (const seqQ of [1024, 8192]) {
      const plan = choose(NAMED.secondDot, { headDim: 128, varlen: true, causal: true, seqQ });
      expect(plan.oStore).toBe('tma');
      expect(plan.decisions.join('\n')).toMatch(/oStore tma: whole blocks of packed sequences .*session 16/);
      expect(emit(plan).source).toContain('using OStore = OStoreTmaPacked;');
    }
    expect(choose(NAMED.secondDot, { headDim: 64, varlen: true, seqQ: 1024 }).oStore).toBe('registers');
  });

  it('the knob is checked, naming the argument and the rule', () => {
    expect(() => choose(NAMED.secondDot, { headDim: 128 }, { oStore: 'smem' as never })).toThrow(/oStore must be one of 'registers', 'tma', got smem/);
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
    expect(emit(choose(NAMED.secondDot, { headDim: 128 }, { oStore: 'registers' })).source).toContain('using OStore = OStoreRegisters;');
  });
  it('one CTA per tile puts O in Q\'s place (Q is dead by the epilogue); a persistent kernel only with two Q buffers', () => {
    for (const headDim of [64, 128, 256]) {
      const own = smemLayout({ headDim, blockM: 128, blockN: 64, kBuffers: 2, vBuffers: 2, pSharedTiles: 1, oTile: true });
      const inQ = smemLayout({ headDim, blockM: 128, blockN: 64, kBuffers: 2, vBuffers: 2, pSharedTiles: 1, oTile: true, oInQ: true });
      expect(inQ.oInQ).toBe(true);
      expect(inQ.o).toBe(inQ.q);
      expect(inQ.oBytes).toBe(own.oBytes);
      expect(inQ.p).toBe(inQ.v + 2 * inQ.tileBytes);
      expect(own.launchBytes - inQ.launchBytes).toBe(own.oBytes);
      // Two Q buffers with O in the current one cost what one buffer and O's own tiles do, but for
      // the second buffer's two barriers per warpgroup.
      const two = smemLayout({ headDim, blockM: 128, blockN: 64, kBuffers: 2, vBuffers: 2, pSharedTiles: 1, oTile: true, oInQ: true, qBuffers: 2 });
      expect(two.k - two.q).toBe(2 * two.qBufferBytes);
      expect(two.o).toBe(two.q);
      expect(two.launchBytes - own.launchBytes).toBe(2 * 2 * 8);
      // Without O tiles there is nothing to place.
      expect(smemLayout({ headDim, blockM: 128, blockN: 64, kBuffers: 2, vBuffers: 2, pSharedTiles: 0, oTile: false, oInQ: true }).oInQ).toBe(false);
    }
    const grid = choose(NAMED.secondDot, { headDim: 128 }, { oStore: 'tma', scheduler: 'grid' });
    expect(grid.smem.oInQ).toBe(true);
    expect(grid.qBuffers).toBe(1);
    // So at hd128 the K ring keeps its third slot, and hd256 its 80-wide KV tile.
    expect(grid.pipeline.kBuffers).toBe(3);
    expect(choose(NAMED.secondDot, { headDim: 256 }, { oStore: 'tma', scheduler: 'grid' }).blockN).toBe(80);
    expect(emit(grid).source).toContain('static constexpr bool O_IN_Q = true;');
    expect(() => choose(NAMED.secondDot, { headDim: 128 }, { oStore: 'tma', scheduler: 'grid', qBuffers: 2 })).toThrow(/qBuffers 2 needs a persistent kernel/);
    // ... also where the length's default scheduler is one CTA per tile: refused, not dropped.
    expect(() => choose(NAMED.secondDot, { headDim: 128, seqQ: 8192 }, { qBuffers: 2 })).toThrow(/qBuffers 2 needs a persistent kernel.*this plan has scheduler 'grid'/);
    for (const scheduler of ['static', 'dynamic'] as const) {
      const p = choose(NAMED.secondDot, { headDim: 128, causal: true }, { oStore: 'tma', scheduler });
      expect(p.qBuffers, scheduler).toBe(1);
      expect(p.smem.oInQ, scheduler).toBe(false);
      expect(p.decisions.join('\n')).toMatch(/qBuffers 1: two Q buffers measured/);
      // Negative control: the smem model refuses a one-buffer persistent plan whose O was put in Q's place.
      const forged = { ...p, smem: smemLayout({ headDim: 128, blockM: 128, blockN: p.blockN, kBuffers: p.pipeline.kBuffers, vBuffers: p.pipeline.vBuffers, pSharedTiles: 0, oTile: true, oInQ: true }) };
      expect(verify(forged, { models: ['smem'] }).join('\n')).toMatch(/smem\.o 0: the layout .* puts it at/);
      // Two Q buffers (a knob): O in the current one, the same rings and KV tile as with one.
      const d = choose(NAMED.secondDot, { headDim: 128, causal: true }, { oStore: 'tma', scheduler, qBuffers: 2 });
      expect(d.qBuffers, scheduler).toBe(2);
      expect(d.smem.oInQ, scheduler).toBe(true);
      expect([d.blockN, d.pipeline.kBuffers, d.pipeline.vBuffers]).toEqual([p.blockN, p.pipeline.kBuffers, p.pipeline.vBuffers]);
      const src = emit(d).source;
      expect(src).toContain('static constexpr u32 Q_BUFS = 2;');
      expect(src).toContain('static constexpr bool O_IN_Q = true;');
      // Negative control: a two-buffer plan laid out with one buffer is refused.
      const oneBuf = { ...d, smem: smemLayout({ headDim: 128, blockM: 128, blockN: d.blockN, kBuffers: d.pipeline.kBuffers, vBuffers: d.pipeline.vBuffers, pSharedTiles: 0, oTile: true, oInQ: true }) };
      expect(verify(oneBuf, { models: ['smem'] }).join('\n')).toMatch(/smem\.qBuffers 1: the layout .* puts it at 2/);
    }
    // With O from registers a second buffer is a knob (32 KB more at hd128), not the default.
    const regs = choose(NAMED.secondDot, { headDim: 128, causal: true }, { oStore: 'registers', scheduler: 'dynamic' });
    expect(regs.qBuffers).toBe(1);
    const regs2 = choose(NAMED.secondDot, { headDim: 128, causal: true }, { oStore: 'registers', scheduler: 'dynamic', qBuffers: 2 });
    expect([regs2.qBuffers, regs2.smem.oInQ, regs2.smem.k - regs2.smem.q]).toEqual([2, false, 2 * regs2.smem.qBufferBytes]);
  });

});
