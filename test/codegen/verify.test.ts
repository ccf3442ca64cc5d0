// verify(plan) over every legal schedule with up to 4 stages and every variant choose() can build,
// trip counts 1..9, with negative controls: each model must flag a plan broken in its own way (a wait
// count one too large, a ring one slot short, a moved offset, an impossible variant).
import { describe, expect, it } from 'vitest';
import { choose, crossTileWaits, crossTileWaitModel, deadlockModel, emit, PlanError, persistentTrips, variantKnobs, verify, type Knobs, type KernelPlan } from '../../src/codegen/index.js';
import { enumerate, NAMED, type Schedule } from '../../src/schedule/index.js';

/** Every variant combination the knobs can ask for (choose() rejects the ones a schedule cannot take). */
const VARIANT_KNOBS = variantKnobs();

function tryChoose(s: Schedule, knobs: Knobs, headDim: 64 | 128 | 256 = 64): KernelPlan | string {
  try {
    return choose(s, { headDim }, knobs);
  } catch (e) {
    if (e instanceof PlanError || e instanceof RangeError) return e.message;
    throw e;
  }
}

describe('every plan choose() returns passes every model', () => {
  const schedules = [...enumerate({ maxStages: 4 })];
  it('the variant list covers every load path, P operand and turn', () => {
    // The rotated tile loop takes baseline's one-stage body only.
    const named = (knobs: Knobs) => (knobs.crossTile ? NAMED.baseline : NAMED.secondDot);
    const plans = VARIANT_KNOBS.map(({ knobs }) => choose(named(knobs), { headDim: 64 }, knobs));
    expect(new Set(plans.map((p) => p.loads)).size).toBe(3);
    expect(new Set(plans.map((p) => p.pOperand)).size).toBe(2);
    expect(new Set(plans.map((p) => p.turn))).toEqual(new Set(['none', 'step']));
    expect(choose(NAMED.firstDot, { headDim: 64 }, { pingpong: true }).turn).toBe('wrap');
    expect(new Set(plans.map((p) => p.scheduler))).toEqual(new Set(['grid', 'static', 'dynamic']));
    // Both O stores under both kinds of grid.
    expect(new Set(plans.map((p) => `${p.scheduler === 'grid' ? 'grid' : 'persistent'} ${p.oStore}`))).toEqual(
      new Set(['grid registers', 'grid tma', 'persistent registers', 'persistent tma']),
    );
    expect(new Set(plans.map((p) => `${p.scheduler === 'grid' ? 'grid' : 'persistent'} ${p.peelMasks}`))).toEqual(
      new Set(['grid false', 'grid true', 'persistent false', 'persistent true']),
    );
    // ... and at hd128, where TMA is the default store, the register store is still a variant.
    const hd128 = VARIANT_KNOBS.map(({ knobs }) => choose(named(knobs), { headDim: 128 }, knobs));
    expect(new Set(hd128.map((p) => `${p.scheduler === 'grid' ? 'grid' : 'persistent'} ${p.oStore}`))).toEqual(
      new Set(['grid registers', 'grid tma', 'persistent registers', 'persistent tma']),
    );
    expect(new Set(plans.map((p) => p.consumerWarpgroups))).toEqual(new Set([1, 2, 3]));
    // Both Q-buffer protocols of a persistent kernel (one buffer; two, with O staged in them or not).
    expect(new Set(hd128.filter((p) => p.scheduler !== 'grid').map((p) => `${p.qBuffers} ${p.smem.oInQ}`))).toEqual(new Set(['1 false', '2 true', '2 false']));
    expect(VARIANT_KNOBS).toHaveLength(37);
  });
  // Conditional rescaling changes no pipeline, ring, barrier or shared-memory layout, so verify's
  // models see the same plan as without it (the next test checks that on every variant): its six
  // variants are swept through their eager twins, which keeps this file's time (the K/V-shared
  // sweep alone is ~2 minutes on a 2-core machine).
  it('lazyRescale changes nothing in a plan but its own field and its decision', () => {
    for (const { label, knobs } of VARIANT_KNOBS) {
      const s = knobs.crossTile ? NAMED.baseline : NAMED.secondDot;
      const strip = (p: KernelPlan) => ({ ...p, lazyRescale: null, decisions: p.decisions.filter((d) => !d.startsWith('lazyRescale')) });
      for (const headDim of [64, 128, 256] as const) {
        const a = tryChoose(s, { ...knobs, lazyRescale: true }, headDim), b = tryChoose(s, { ...knobs, lazyRescale: false }, headDim);
        if (typeof a === 'string' || typeof b === 'string') { expect(typeof a, `${label} hd${headDim}`).toBe(typeof b); continue; }
        expect(strip(a), `${label} hd${headDim}`).toEqual(strip(b));
      }
    }
  });
  for (const { label, knobs } of VARIANT_KNOBS.filter((v) => !v.knobs.lazyRescale)) {
    it(`${label}: ${schedules.length} schedules, T = 1..9`, () => {
      let built = 0;
      const rejected = new Map<string, number>();
      const failed: string[] = [];
      for (const s of schedules) {
        const plan = tryChoose(s, knobs);
        if (typeof plan === 'string') {
          // Rejections are for a named rule: too many register tiles, a load inside a turn, a body
          // the rotated tile loop is not written for.
          const rule = /register tiles|sits between the matmuls of a turn|crossTile needs a one-stage body/.exec(plan)?.[0] ?? plan;
          rejected.set(rule, (rejected.get(rule) ?? 0) + 1);
          continue;
        }
        built++;
        const reasons = verify(plan, { models: ['shape', 'smem'] });
        if (reasons.length) failed.push(`${JSON.stringify(s.ops)}: ${reasons[0]}`);
      }
      expect(failed.slice(0, 3)).toEqual([]);
      expect(built, `${label}: rejections ${JSON.stringify([...rejected])}`).toBeGreaterThan(0);
      for (const rule of rejected.keys()) expect(rule).toMatch(/register tiles|sits between the matmuls of a turn|crossTile needs a one-stage body/);
      // The K/V-shared variants run choose()'s two-CTA deadlock model on every schedule: 97-128 s each
      // on a 2-core machine under load (session 16), past vitest's 120 s default.
    }, 600_000);
  }
});

/** A copy of the plan with one thing changed. */
function broken(plan: KernelPlan, edit: (p: KernelPlan) => void): KernelPlan {
  const copy = JSON.parse(JSON.stringify(plan)) as KernelPlan;
  edit(copy);
  return copy;
}

describe('negative controls: each model flags a plan broken its way', () => {
  const named = Object.values(NAMED);
  it('a wgmma wait one too large before the softmax (always), the packing or MUL (where binding)', () => {
    let checked = 0;
    const bindingFlagged = { waitMul: 0, waitPack: 0 };
    for (const s of named) {
      for (const { label, knobs } of VARIANT_KNOBS) {
        const plan = tryChoose(s, knobs);
        if (typeof plan === 'string') continue;
        const wrong = broken(plan, (p) => void (p.pipeline.waitSoftmax += 1));
        // A persistent two-S-tile plan retires everything before its steady loop (program.ts,
        // beforeLoop), and its MUL's full wait retires the next S: a deeper softmax wait is then
        // harmless there, and the model rightly says nothing.
        if (plan.scheduler !== 'grid' && plan.pipeline.sTiles > 1 && plan.pipeline.waitMul === 0) {
          expect(verify(wrong, { models: ['waits'] })).toEqual([]);
          continue;
        }
        expect(verify(wrong, { models: ['waits'] }).join('\n'), `${s.name} ${label}`).toMatch(/needs MMA0\(\d+\) retired \(S\(j\) complete.*wait count is too large/);
        // A later wait can be covered by an earlier, deeper one in the same step (baseline's MUL
        // after the softmax waited for everything); where it binds, one more must be flagged.
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
    for (const s of enumerate({ maxStages: 3 })) {
      const plan = tryChoose(s, { warpSpecialized: false, pingpong: false });
      if (typeof plan === 'string') continue;
      for (const key of ['waitMul', 'waitPack'] as const) {
        if (verify(broken(plan, (p) => void (p.pipeline[key] += 1)), { models: ['waits'] }).length) bindingFlagged[key]++;
      }
      if (bindingFlagged.waitMul > 10 && bindingFlagged.waitPack > 10) break;
    }
    expect(bindingFlagged.waitMul).toBeGreaterThan(10);
    expect(bindingFlagged.waitPack).toBeGreaterThan(10);
  });

  it('a cp.async wait one too large', () => {
    let vFlagged = 0;
    for (const s of [...enumerate({ maxStages: 3 })]) {
      const plan = tryChoose(s, { load: 'cp.async' });
      if (typeof plan === 'string') continue;
      expect(verify(broken(plan, (p) => void (p.pipeline.cpWaitK += 1)), { models: ['waits'] }).join('\n')).toMatch(/needs loadK\(\d+\) retired \(K\(j\) landed\)/);
      // V's wait may be covered by K's in the same step; it must bind somewhere.
      if (verify(broken(plan, (p) => void (p.pipeline.cpWaitV += 1)), { models: ['waits'] }).join('\n').match(/needs loadV\(\d+\) retired \(V\(j\) landed\)/)) vFlagged++;
    }
    expect(vFlagged).toBeGreaterThan(0);
  });

  it('a ring one slot short deadlocks (producer warpgroup) or clobbers a slot (inline loads)', () => {
    let flagged = 0;
    for (const s of [...enumerate({ maxStages: 3 })]) {
      for (const knobs of [{ load: 'cp.async' as const }, { warpSpecialized: false, pingpong: false }, { warpSpecialized: true, pingpong: false }]) {
        const plan = tryChoose(s, knobs);
        if (typeof plan === 'string') continue;
        for (const ring of ['kBuffers', 'vBuffers'] as const) {
          if (plan.pipeline[ring] < 2) continue;
          const short = broken(plan, (p) => {
            p.pipeline[ring] -= 1;
          });
          // The layout must follow the rings too, or the smem model speaks first.
          const reasons = verify(short, { models: ['deadlock', 'hazards'] });
          if (reasons.length) flagged++;
          for (const r of reasons) expect(r).toMatch(/^(deadlock|hazard) at T = \d+ with rings K \d+ \/ V \d+/);
        }
      }
    }
    expect(flagged).toBeGreaterThan(100);
  });

  it('one-slot rings under a producer warpgroup deadlock for some schedules (the deadlock model can fail)', () => {
    let found = 0;
    let example = '';
    for (const s of [...enumerate({ maxStages: 3 })]) {
      const plan = tryChoose(s, { warpSpecialized: true, pingpong: false });
      if (typeof plan === 'string') continue;
      const one = broken(plan, (p) => {
        p.pipeline.kBuffers = 1;
        p.pipeline.vBuffers = 1;
      });
      const r = verify(one, { models: ['deadlock'] });
      if (r.length) {
        found++;
        example = r[0];
      }
    }
    expect(found).toBeGreaterThan(0);
    expect(example).toMatch(/deadlock at T = \d+ with rings K 1 \/ V 1: warpgroup 0 at .*, the producer at [KV]\(\d+\); no process can move/);
  });

  it('a moved offset, an overflowing layout, an impossible variant', () => {
    const plan = choose(NAMED.firstDot, { headDim: 128 });
    expect(verify(broken(plan, (p) => void (p.smem.v -= 1024)))).toEqual([expect.stringMatching(/^smem\.v \d+: the layout \(src\/codegen\/smem\.ts\) puts it at \d+/)]);
    expect(verify(broken(plan, (p) => void (p.pipeline.kBuffers = 4))).join('\n')).toMatch(/smem\.launchBytes \d+: Hopper allows 232448 B per block/);
    expect(verify(broken(plan, (p) => void (p.loads = 'cp.async')))).toContain("turn wrap: cp.async completes through a CTA-wide barrier, which would wait on the warpgroup waiting for its turn");
    expect(verify(broken(plan, (p) => void (p.turn = 'step'))).join('\n')).toMatch(/turn step: this body's turn is 'wrap'/);
    expect(verify(broken(plan, (p) => void (p.threads = 256))).join('\n')).toMatch(/threads 256: loads tma-producer with 2 consumer warpgroups need 384/);
  });
});

describe('the plan is plain data', () => {
  it('survives JSON and emits the same kernel from the parsed copy', () => {
    for (const s of Object.values(NAMED)) {
      for (const { knobs } of VARIANT_KNOBS) {
        const plan = tryChoose(s, knobs, 128);
        if (typeof plan === 'string') continue;
        const copy = JSON.parse(JSON.stringify(plan)) as KernelPlan;
        expect(copy).toEqual(plan);
        expect(emit(copy).source).toBe(emit(plan).source);
      }
    }
  });

  it('records each default it chose, with the measurement behind it', () => {
    const plan = choose(NAMED.secondDot, { headDim: 128 });
    expect(plan.decisions.join('\n')).toMatch(/loads tma-producer: .*NOTES/);
    expect(plan.decisions.join('\n')).toMatch(/turn step: .*NOTES/);
    expect(choose(NAMED.secondDot, { headDim: 128 }, { blockM: 128, warpSpecialized: true, pingpong: true, pShared: false, blockN: 128, scheduler: 'grid', oStore: 'registers', peelMasks: false, kvShare: 1, lazyRescale: false }).decisions).toEqual([]);
  });
});

describe('the persistent CTA: tiles back to back', () => {
  it('the rotated tile loop (crossTile) runs any sequence of tiles without deadlock, for baseline\'s body only', () => {
    for (const k of [{ kvShare: 2 }, { kvShare: 1 }, { scheduler: 'dynamic' }] as const) {
      const plan = choose(NAMED.baseline, { headDim: 128, seqQ: 1024 }, { qBuffers: 2, crossTile: true, ...k });
      expect(plan.crossTile).toBe(true);
      expect(emit(plan).source).toContain('constexpr bool CROSS_TILE = true;');
      for (const seq of persistentTrips([1, 2, 3, 4, 5, 8, 9])) expect(deadlockModel(plan, seq), `${JSON.stringify(k)} ${seq}`).toEqual([]);
      // Negative controls: no release of a tile's last V slot; a Q buffer released at its tile's
      // last Softmax while its O waits for the store.
      expect(deadlockModel(plan, [3, 3], { releaseLastV: false }).join('\n')).toMatch(/deadlock at tiles T = 3, 3/);
      expect(deadlockModel(plan, [1, 1, 1, 1], { qRelease: 'lastSoftmax' }).join('\n')).toMatch(/hazard with O in Q's place/);
    }
    expect(choose(NAMED.baseline, { headDim: 128, seqQ: 1024 }).crossTile).toBe(false);
    expect(() => choose(NAMED.secondDot, { headDim: 128, seqQ: 1024 }, { qBuffers: 2, crossTile: true })).toThrow(/crossTile needs no ping-pong turn, a one-stage body MMA0, Softmax, MUL, MMA1/);
    expect(() => choose(NAMED.baseline, { headDim: 128, seqQ: 1024 }, { crossTile: true })).toThrow(/crossTile needs qBuffers 2/);
    expect(() => choose(NAMED.baseline, { headDim: 128, seqQ: 1024, causal: true }, { qBuffers: 2, crossTile: true })).toThrow(/no causal mask, window or packed sequences/);
    expect(() => choose(NAMED.baseline, { headDim: 128 }, { scheduler: 'grid', crossTile: true })).toThrow(/crossTile needs scheduler 'static' or 'dynamic'/);
  });

  it('the rotated tile loop\'s wgmma waits: the counts the emitter prints retire what each read needs, across tiles', () => {
    const plan = choose(NAMED.baseline, { headDim: 128, seqQ: 1024 }, { qBuffers: 2, crossTile: true });
    const w = crossTileWaits(plan);
    const src = emit(plan).source;
    for (const n of [w.epilogue, w.softmax, w.mul]) expect(src).toContain(`wgmmaWait<${n}>();`);
    for (const seq of [...persistentTrips([1, 2, 3, 4, 5, 8, 9]), [1], [9], [1, 1, 1, 1]]) expect(crossTileWaitModel(seq, w), `${seq}`).toEqual([]);
    expect(verify(plan, { models: ['waits'] })).toEqual([]);
    // Negative controls: the previous tile's epilogue reading O with its last P V product pending;
    // the softmax reading S(j) with MMA0(j) pending (also through the plan: verify() models the
    // rotated loop with the plan's waits); P written while the last P V product may read it.
    expect(crossTileWaitModel([2, 3], { ...w, epilogue: 1 }).join('\n')).toMatch(/tile 0's epilogue needs MMA1\(1\) retired \(O complete: it reads O and its row sums; the MMA1 of tile 0\)/);
    expect(crossTileWaitModel([1], { ...w, softmax: 1 }).join('\n')).toMatch(/Softmax\(0\) of tile 0 needs MMA0\(0\) retired \(S\(j\) complete/);
    expect(verify({ ...plan, pipeline: { ...plan.pipeline, waitSoftmax: 1 } }, { models: ['waits'] }).join('\n')).toMatch(/Softmax\(0\) of tile 0 needs MMA0\(0\) retired/);
    expect(crossTileWaitModel([3], { ...w, softmax: 2, pack: 2 }).join('\n')).toMatch(/Softmax\(1\) of tile 0 needs MMA1\(0\) retired \(P free/);
  });

  it('one and two Q buffers, O from registers or staged in Q, run any sequence of tiles without deadlock', () => {
    let twoInQ = 0;
    for (const s of Object.values(NAMED)) {
      for (const scheduler of ['static', 'dynamic'] as const) {
        for (const qBuffers of [1, 2] as const) {
          for (const oStore of ['tma', 'registers'] as const) {
            const plan = tryChoose(s, { warpSpecialized: true, scheduler, qBuffers, oStore });
            if (typeof plan === 'string') continue;
            expect(plan.qBuffers).toBe(qBuffers);
            expect(plan.smem.oInQ).toBe(qBuffers === 2 && oStore === 'tma');
            for (const seq of persistentTrips([1, 2, 3, 5, 9])) expect(deadlockModel(plan, seq), `${s.name} ${scheduler} qBuffers ${qBuffers} O ${oStore} ${seq}`).toEqual([]);
            if (!plan.smem.oInQ) continue;
            twoInQ++;
            // Negative control: releasing a buffer at its tile's last Softmax (as with one buffer)
            // lets the producer refill it while that tile's O still waits for its store.
            expect(deadlockModel(plan, [1, 1, 1, 1], { qRelease: 'lastSoftmax' }).join('\n'), `${s.name} ${scheduler}`).toMatch(/hazard with O in Q's place: the producer loads Q\(\d+, block \d\) into the buffer where tile \d+'s O waits/);
          }
        }
      }
    }
    expect(twoInQ).toBeGreaterThan(0);
  });

  it('every named schedule runs any sequence of tiles without deadlock, and would deadlock without the last V release', () => {
    for (const s of Object.values(NAMED)) {
      for (const scheduler of ['static', 'dynamic'] as const) {
        for (const pingpong of [false, true]) {
          const plan = tryChoose(s, { warpSpecialized: true, pingpong, scheduler });
          if (typeof plan === 'string') continue;
          for (const seq of persistentTrips([1, 2, 3, 4, 5, 6, 7, 8, 9])) expect(deadlockModel(plan, seq), `${s.name} ${scheduler} ${seq}`).toEqual([]);
          // Negative control: the producer's next V load waits for a slot nobody frees.
          expect(deadlockModel(plan, [2, 3], { releaseLastV: false }).join('\n'), `${s.name} ${scheduler}`).toMatch(/deadlock at tiles T = 2, 3 .* the producer at V\(/);
          // Negative control (dynamic): an id published only after the tile's loads leaves the
          // consumers waiting for it while the producer waits for slots they would free.
          if (scheduler === 'dynamic') {
            expect(deadlockModel(plan, [9, 9], { publishAt: 'end' }).join('\n'), `${s.name}`).toMatch(/deadlock at tiles T = 9, 9 .*warpgroup 0 at tileStart/);
          }
          // A grid kernel runs one tile: the same model, no sequence.
          expect(tryChoose(s, { warpSpecialized: true, pingpong, scheduler: 'grid' })).not.toBeTypeOf('string');
        }
      }
    }
  });

  it('a persistent scheduler without the producer warpgroup is refused with its rule', () => {
    expect(() => choose(NAMED.secondDot, { headDim: 128 }, { load: 'cp.async', scheduler: 'static' })).toThrow(/scheduler 'static' needs the producer warpgroup/);
    expect(() => choose(NAMED.secondDot, { headDim: 128 }, { scheduler: 'round-robin' as never })).toThrow(/scheduler must be one of 'grid', 'static', 'dynamic'/);
    const plan = choose(NAMED.secondDot, { headDim: 128 }, { warpSpecialized: true, scheduler: 'dynamic' });
    expect(verify(broken(plan, (p) => void (p.loads = 'tma-inline'))).join('\n')).toMatch(/scheduler dynamic: a persistent kernel needs loads tma-producer/);
  });
});
