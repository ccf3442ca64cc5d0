// Three consumer warpgroups (blockM 192): the plan's shape, its register split, the rules that refuse
// it, the deadlock model's round-robin turns, and the tile space it implies. CPU only; the numerics
// are the GPU matrix's (variantKnobs has blockM 192 variants) and ptxas's are nvcc.test.ts's.
import { describe, expect, it } from 'vitest';
import {
  choose, deadlockModel, decodeTile, emit, generate, persistentTrips, registerSplitFor, schedulerLength, staticTiles, tileRegisterBudget, tileRegisters, tileSpace, verify,
  MAX_TRIPS, PERSISTENT_MAX_SEQ_Q, type KernelPlan,
} from '../../src/codegen/index.js';
import { NAMED } from '../../src/schedule/index.js';

const TRIPS = Array.from({ length: MAX_TRIPS }, (_, i) => i + 1);

describe('three consumer warpgroups (blockM 192)', () => {
  it('plans 512 threads, the 32 / 160 register split and tiles within the 160-register budget', () => {
    for (const name of ['baseline', 'firstDot', 'secondDot'] as const) {
      for (const pShared of [false, true]) {
        const p = choose(NAMED[name], { headDim: 64 }, { blockM: 192, pShared });
        expect(p.consumerWarpgroups).toBe(3);
        expect(p.threads).toBe(512);
        expect(p.loads).toBe('tma-producer');
        expect(p.registerSplit).toEqual({ producer: 32, consumer: 160 });
        expect(p.registers.budget).toBe(tileRegisterBudget('tma-producer', p.pOperand, 3, false));
        expect(p.registers.tiles).toBeLessThanOrEqual(p.registers.budget);
        expect(p.smem.q).toBeLessThan(p.smem.k);
        expect(p.smem.k - p.smem.q).toBeGreaterThanOrEqual(3 * p.smem.qWarpgroupBytes);
      }
    }
    // 160 registers leave less for tiles than 240: hd64 with P in registers gets 96 keys per tile
    // (104 tile registers; 112 spilled in ptxas), with P in shared memory 128.
    expect(choose(NAMED.secondDot, { headDim: 64 }, { blockM: 192, pShared: false }).blockN).toBe(96);
    expect(choose(NAMED.secondDot, { headDim: 64 }, { blockM: 192, pShared: true }).blockN).toBe(128);
    expect(tileRegisters(64, 112, 'registers', 1, 1)).toBeGreaterThan(tileRegisterBudget('tma-producer', 'registers', 3));
    // Two consumers keep their split.
    expect(choose(NAMED.secondDot, { headDim: 64 }, {}).registerSplit).toEqual(registerSplitFor(2));
    expect(choose(NAMED.secondDot, { headDim: 64 }, { load: 'cp.async' }).registerSplit).toBeNull();
  });

  it('is the default where one CTA per tile runs a long loop at hd64 and hd128, and only there', () => {
    const at = (headDim: 64 | 128 | 256, seqQ: number | undefined, extra: object = {}, knobs: object = {}, name: 'baseline' | 'firstDot' | 'secondDot' = 'secondDot') =>
      choose(NAMED[name], { headDim, ...(seqQ !== undefined ? { seqQ } : {}), ...extra }, knobs);
    for (const seqQ of [2049, 4096, 8192, 16384]) {
      const hd64 = at(64, seqQ);
      expect([hd64.blockM, hd64.blockN, hd64.pOperand, hd64.scheduler]).toEqual([192, 96, 'registers', 'grid']);
      const hd128 = at(128, seqQ);
      expect([hd128.blockM, hd128.blockN, hd128.pOperand, hd128.oStore, hd128.smem.oInQ]).toEqual([192, 128, 'shared', 'tma', true]);
      expect(at(64, seqQ, { causal: true, window: true, varlen: true, softcap: true }).blockM).toBe(192);
      if (seqQ > PERSISTENT_MAX_SEQ_Q[128].causal) {
        // A mask costs registers: 112 keys per tile (128 spilled 4 B for causal secondDot).
        expect(at(128, seqQ, { causal: true }).blockN).toBe(112);
        expect(at(128, seqQ, { causal: true, window: true, varlen: true }).blockM).toBe(192);
      } else {
        // Causal work at hd128 up to 5120 tokens: the persistent kernel, 128 rows; a window does not stretch it.
        expect(at(128, seqQ, { causal: true })).toMatchObject({ blockM: 128, scheduler: 'dynamic' });
        expect(at(128, seqQ, { window: true })).toMatchObject({ blockM: 192, blockN: 112, scheduler: 'grid' });
      }
      expect(at(128, seqQ, {}, {}, 'baseline').blockM).toBe(192);
      expect(at(128, seqQ, { dtype: 'bf16' }).blockM).toBe(192);
      // ... and not: hd256, softcap at hd128, two S tiles, no producer warpgroup, a persistent kernel.
      expect(at(256, seqQ).blockM).toBe(128);
      expect(at(128, seqQ, { softcap: true }).blockM).toBe(128);
      expect(at(128, seqQ, {}, {}, 'firstDot').blockM).toBe(128);
      expect(at(64, seqQ, {}, { load: 'cp.async' }).blockM).toBe(128);
      expect(at(64, seqQ, {}, { warpSpecialized: false }).blockM).toBe(128);
      expect(at(64, seqQ, {}, { scheduler: 'static' }).blockM).toBe(128);
    }
    for (const seqQ of [undefined, 1, 1024, 2048]) expect(at(64, seqQ).blockM).toBe(128);
    expect(at(128, 8192).decisions.join('\n')).toMatch(/blockM 192: .*NOTES 2026-11-28 session 8/);
    expect(at(128, 1024).decisions.join('\n')).toMatch(/blockM 128: a query length at most 2048/);
    expect(at(128, 8192, {}, { scheduler: 'static' }).decisions.join('\n')).toMatch(/blockM 128: a persistent kernel asked for/);
    // A caller's KV tile or P operand that 192 rows cannot hold keeps 128 rows, and says why.
    expect(at(128, 4096, {}, { blockN: 128, pShared: false }).blockM).toBe(128);
    expect(at(64, 4096, {}, { blockN: 128 }).blockM).toBe(128);
    expect(at(128, 4096, { causal: true }, { blockN: 128 }).blockM).toBe(128);
    expect(at(128, 4096, {}, { pShared: false }).decisions.join('\n')).toMatch(/blockM 128: P in registers at hd128/);
    expect(at(64, 4096, {}, { blockN: 128 }).decisions.join('\n')).toMatch(/blockM 128: blockN 128 does not fit/);
    expect(at(64, 4096, {}, { blockN: 96 }).blockM).toBe(192);
    expect(at(128, 8192, { causal: true }, { blockN: 112 }).blockM).toBe(192);
    expect(at(128, 1024, {}, { scheduler: 'grid' }).decisions.join('\n')).toMatch(/blockM 128: a query length at most 2048: a persistent kernel/);
    // The caller's blockM always wins.
    expect(at(128, 8192, {}, { blockM: 128 }).blockM).toBe(128);
    expect(at(64, 1024, {}, { blockM: 192 }).blockM).toBe(192);
  });

  it('every length plans as schedulerLength() says (the cache key): the defaults split only at its breakpoints', () => {
    for (const seqQ of [1, 1000, 2048, 2049, 3000, 4095, 4096, 4097, 5119, 5120, 5121, 6000, 8191, 8192, 16384, 131072]) {
      for (const headDim of [64, 128, 256] as const) {
        for (const extra of [{}, { causal: true }, { window: true }, { window: true, varlen: true }, { softcap: true, dtype: 'bf16' as const }]) {
          for (const name of ['baseline', 'firstDot', 'secondDot'] as const) {
            expect(choose(NAMED[name], { headDim, seqQ: schedulerLength(seqQ), ...extra }), `${name} hd${headDim} ${seqQ} ${JSON.stringify(extra)}`)
              .toEqual(choose(NAMED[name], { headDim, seqQ, ...extra }));
          }
        }
      }
    }
    // Negative control: one breakpoint only (every length past 2048 as 2049, the cache key before
    // session 9) plans causal hd128 at 5121 and hd256 at 4097 as they must not be planned.
    expect(choose(NAMED.baseline, { headDim: 128, seqQ: 2049, causal: true })).not.toEqual(choose(NAMED.baseline, { headDim: 128, seqQ: 5121, causal: true }));
    expect(choose(NAMED.baseline, { headDim: 256, seqQ: 2049 })).not.toEqual(choose(NAMED.baseline, { headDim: 256, seqQ: 4097 }));
  });

  it('refuses blockM 192 without the producer warpgroup, naming the argument and the rule', () => {
    expect(() => choose(NAMED.baseline, { headDim: 64 }, { blockM: 192, load: 'cp.async' })).toThrow(/blockM 192 needs load 'tma' with the producer warpgroup/);
    expect(() => choose(NAMED.baseline, { headDim: 64 }, { blockM: 192, warpSpecialized: false })).toThrow(/blockM 192 needs load 'tma' with the producer warpgroup/);
    expect(() => choose(NAMED.baseline, { headDim: 64 }, { blockM: 256 as never })).toThrow(/blockM must be one of 64, 128, 192/);
    expect(() => choose(NAMED.baseline, { headDim: 64 }, { blockM: 64, pingpong: true })).toThrow(/pingpong needs blockM 128 or 192/);
    // hd256: Q alone is 96 KiB at 192 rows; the error names the shared memory it would need.
    expect(() => choose(NAMED.baseline, { headDim: 256 }, { blockM: 192 })).toThrow(/blockM=192, headDim=256 the kernel needs \d+ B of shared memory/);
  });

  it('verify rejects a register split that does not balance (negative control)', () => {
    const p = choose(NAMED.secondDot, { headDim: 64 }, { blockM: 192 });
    expect(verify(p)).toEqual([]);
    const forged: KernelPlan = { ...p, registerSplit: registerSplitFor(2) };
    expect(verify(forged).join('\n')).toMatch(/registerSplit 24 \/ 240: at 128 registers per thread \(512 threads\) the producer frees 13312 and 3 consumer warpgroups take 43008/);
    const inline = choose(NAMED.secondDot, { headDim: 64 }, { load: 'cp.async' });
    expect(verify({ ...inline, registerSplit: registerSplitFor(2) }).join('\n')).toMatch(/only a producer warpgroup gives registers away/);
  });

  it('emits the three-warpgroup constants the kernel checks (NUM_WG, the split)', () => {
    const g = generate(NAMED.secondDot, { headDim: 64, blockM: 192 });
    expect(g.threads).toBe(512);
    expect(g.source).toMatch(/constexpr int NUM_WG = 3;/);
    expect(g.source).toMatch(/constexpr int PRODUCER_REGS = 32;/);
    expect(g.source).toMatch(/constexpr int CONSUMER_REGS = 160;/);
    expect(g.source).toMatch(/__launch_bounds__\(512, 1\)/);
  });

  it('the deadlock model passes the turn round three warpgroups, and still finds a deadlock (negative control)', () => {
    for (const scheduler of ['grid', 'static', 'dynamic'] as const) {
      for (const name of ['baseline', 'firstDot', 'secondDot'] as const) {
        const p = choose(NAMED[name], { headDim: 64 }, { blockM: 192, pingpong: true, scheduler });
        expect(p.turn).not.toBe('none');
        const seqs = scheduler === 'grid' ? TRIPS.map((t) => [t]) : persistentTrips(TRIPS);
        for (const trips of seqs) expect(deadlockModel(p, trips), `${name} ${scheduler} ${trips}`).toEqual([]);
      }
    }
    // Without the release of each tile's last V slot a persistent CTA must deadlock, with three
    // consumer warpgroups as with two.
    const p = choose(NAMED.secondDot, { headDim: 64 }, { blockM: 192, pingpong: true, scheduler: 'static' });
    expect(deadlockModel(p, [2, 3, 1], { releaseLastV: false }).join('\n')).toMatch(/deadlock/);
  });

  it('the tile space has ceil(seqQ / 192) query blocks and the static scheduler takes each once', () => {
    for (const seq of [1, 191, 192, 193, 1000, 8192]) {
      const space = tileSpace({ batch: 2, headsQ: 4, headsKV: 2, headDim: 64, seqQ: seq, seqK: seq, blockM: 192, masked: true, l2Bytes: 50 << 20, ctas: 7 });
      expect(space.qBlocks).toBe(Math.ceil(seq / 192));
      const seen = Array.from({ length: 7 }, (_, cta) => staticTiles(space, 7, cta)).flat().sort((a, b) => a - b);
      expect(seen).toEqual(Array.from({ length: space.numTiles }, (_, i) => i));
      const coords = new Set(seen.map((t) => decodeTile(space, t)).map(({ bh, qBlock }) => {
        expect(qBlock * 192).toBeLessThan(seq);
        return `${bh}/${qBlock}`;
      }));
      expect(coords.size).toBe(space.numTiles);
    }
  });

  it('two consumer warpgroups emit the same ping-pong as before (warpgroup 1 starts, each signals the other)', () => {
    const src = emit(choose(NAMED.secondDot, { headDim: 128 }, {})).headers['attention.cuh'];
    expect(src).toMatch(/c\.wg == NUM_WG - 1\) namedBarArrive\(BAR_PINGPONG_WG0/);
    expect(src).toMatch(/c\.wg \+ 1 == NUM_WG \? 0 : c\.wg \+ 1/);
  });
});
