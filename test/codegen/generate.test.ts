import { describe, expect, it } from 'vitest';
import { generate, pipelineOf, KERNEL_NAME } from '../../src/codegen/index.js';
import { loopNest, NAMED, resources, schedule } from '../../src/schedule/index.js';

const NAMES = ['baseline', 'firstDot', 'secondDot'] as const;

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe('plan: wait counts follow the schedule', () => {
  it('baseline waits for everything before the softmax', () => {
    const p = pipelineOf(loopNest(NAMED.baseline), resources(NAMED.baseline), { loads: 'tma-inline', turn: 'none' });
    // MUL(i) may leave MMA0(i) pending by count, but Softmax(i) already waited for it.
    expect(p).toMatchObject({ waitSoftmax: 0, waitMul: 1, unroll: 1, kBuffers: 3, vBuffers: 3 });
  });
  it('firstDot leaves MMA0(i+1) and MMA1(i-1) in flight during Softmax(i), two S tiles, unrolled by 2', () => {
    const p = pipelineOf(loopNest(NAMED.firstDot), resources(NAMED.firstDot), { loads: 'tma-inline', turn: 'none' });
    // Softmax(i) needs MMA0(i) (issued one step earlier); MMA1(i-1) and MMA0(i+1) came after it.
    // After that deep wait the pack and MUL wait for everything (ptxas C7514 otherwise).
    expect(p).toMatchObject({ waitSoftmax: 2, waitPack: 0, waitMul: 0, sTiles: 2, unroll: 2 });
  });
  it('secondDot overlaps Softmax(i+1) with MMA1(i) and waits before packing P', () => {
    const p = pipelineOf(loopNest(NAMED.secondDot), resources(NAMED.secondDot), { loads: 'tma-inline', turn: 'none' });
    expect(p).toMatchObject({ waitSoftmax: 1, waitPack: 0, waitMul: 0, releaseVAt: 'Softmax', unroll: 1 });
  });
  it('counts cp.async groups between a load and its consumer', () => {
    const p = pipelineOf(loopNest(NAMED.baseline), resources(NAMED.baseline), { loads: 'cp.async', turn: 'none' });
    // Body ... loadV(i+2) loadK(i+2): after loadK(j) come loadV(j+1), loadK(j+1), then MMA0(j) two
    // steps later; after loadV(j) come loadK(j), loadV(j+1), loadK(j+1).
    expect(p.cpWaitK).toBe(2);
    expect(p.cpWaitV).toBe(3);
  });
});

describe('generate', () => {
  for (const name of NAMES) {
    for (const load of ['tma', 'cp.async'] as const) {
      for (const headDim of [64, 128, 256] as const) {
        it(`${name} ${load} hd${headDim}: one kernel, every step commits both wgmma groups`, () => {
          const g = generate(NAMED[name], { headDim, load, causal: headDim === 128 });
          expect(g.source).toContain(`${KERNEL_NAME}(`);
          expect(g.source).not.toMatch(/#include\s*<|cuda_runtime|cuda_fp16/);
          const { numStages: S, unroll: u } = g.plan.pipeline;
          const loop = g.source.slice(g.source.indexOf('// ---- steady'), g.source.indexOf('// ---- tail'));
          const tail = g.source.slice(g.source.indexOf('// ---- tail'));
          expect(count(loop, 'wgmmaCommit();')).toBe(2 * u);
          expect(count(tail, 'wgmmaCommit();')).toBe(2 * (S + u - 1));
          // No matmul sits inside a branch (ptxas would serialise every wgmma: C7520).
          expect(g.source).not.toMatch(/if \(j < T\) \{\n\s*(Loads::wait[KV]\(c, j\);\n\s*)?opMMA/);
          expect(g.headers['wgmma.cuh']).toContain(`m64n${g.config.blockN}k16.f32.f16.f16`);
          expect(g.headers['wgmma.cuh']).toContain(`m64n${headDim}k16.f32.f16.f16`);
          expect(g.sharedMemBytes).toBeLessThanOrEqual(232448);
          if (load === 'tma') expect(g.source).toContain('Loads::waitK(c, j);');
          else expect(g.source).toContain('Loads::cpAsyncPublish(c);');
        });
      }
    }
  }

  it('bf16 uses bf16 wgmma and packing', () => {
    const g = generate(NAMED.secondDot, { headDim: 128, dtype: 'bf16' });
    expect(g.headers['wgmma.cuh']).toContain('.f32.bf16.bf16');
    expect(g.source).toContain('packBF16');
  });

  it('keeps a wide KV tile for two live S tiles by moving P to shared memory and shrinking the K ring', () => {
    expect(generate(NAMED.secondDot, { headDim: 128 }).config).toMatchObject({ blockN: 128, pShared: false });
    const fd = generate(NAMED.firstDot, { headDim: 128 });
    expect(fd.config).toMatchObject({ blockN: 128, pShared: true, warpSpecialized: true });
    // 3 + 3 slots of 32 KiB, Q and P do not fit in 227 KiB: the K ring shrinks first.
    expect([fd.plan.pipeline.kBuffers, fd.plan.pipeline.vBuffers]).toEqual([2, 3]);
    expect(fd.sharedMemBytes).toBeLessThanOrEqual(232448);
    expect(fd.source).toContain('using PPath = PInShared<PPublish::TurnBarrier>;');
    expect(fd.headers['wgmma.cuh']).toContain('wgmmaSSt_m64n128k16_f16');
    // P in registers: the register budget picks a narrower tile, and the schedule's rings stay.
    const rs = generate(NAMED.firstDot, { headDim: 128, pShared: false });
    expect(rs.config.blockN).toBeLessThan(128);
    expect([rs.plan.pipeline.kBuffers, rs.plan.pipeline.vBuffers]).toEqual([3, 3]);
    expect(rs.headers['wgmma.cuh']).toContain('wgmmaRS_m64n128k16_f16');
  });

  it('rejects a non-boolean pShared naming the argument', () => {
    expect(() => generate(NAMED.firstDot, { headDim: 128, pShared: 1 as never })).toThrow(/pShared must be a boolean/);
  });

  it('rejects bad configs naming the argument and the rule', () => {
    expect(() => generate(NAMED.baseline, { headDim: 96 as never })).toThrow(/headDim must be one of 64, 128, 256/);
    expect(() => generate(NAMED.baseline, { headDim: 128, blockN: 100 })).toThrow(/blockN must be a multiple of 16/);
    expect(() => generate(NAMED.baseline, { headDim: 128, dtype: 'f32' as never })).toThrow(/dtype must be/);
    expect(() => generate(NAMED.baseline, { headDim: 128, load: 'cp.async', pingpong: true })).toThrow(/pingpong needs load 'tma'/);
    expect(() => generate(NAMED.baseline, { headDim: 128, blockM: 64, pingpong: true })).toThrow(/pingpong needs blockM 128/);
    expect(() => generate(NAMED.baseline, { headDim: 128, load: 'cp.async', warpSpecialized: true })).toThrow(/warpSpecialized needs load 'tma'/);
    expect(() => generate(NAMED.baseline, { headDim: 256, blockN: 128 })).toThrow(/232448/);
  });

  it('rejects an illegal schedule before generating', () => {
    const bad = schedule({ loadK: [0, 0], loadV: [0, 1], MMA0: [0, 2], Softmax: [0, 3], MUL: [0, 4], MMA1: [0, 0] });
    expect(() => generate(bad, { headDim: 64 })).toThrow(/MMA1/);
  });

  it('the prologue drops ops of negative iterations, committing empty groups only after the first real one', () => {
    const base = generate(NAMED.baseline, { headDim: 64, warpSpecialized: false });
    const prologue = base.source.slice(base.source.indexOf('// ---- prologue'), base.source.indexOf('// ---- steady'));
    expect(prologue).not.toContain('opMMA0');
    expect(count(prologue, 'wgmmaCommit();')).toBe(0);
    expect(count(prologue, 'Loads::loadK(c, j);')).toBe(2);
    // firstDot: MMA0(0) at step 2, then MMA1(-1) is dead but commits, so Softmax(0)'s wait<2> counts right.
    const first = generate(NAMED.firstDot, { headDim: 64 });
    const p2 = first.source.slice(first.source.indexOf('// step 2'), first.source.indexOf('// ---- steady'));
    expect(count(p2, 'wgmmaCommit();')).toBe(2);
    expect(p2.indexOf('opMMA0')).toBeLessThan(p2.lastIndexOf('wgmmaCommit();'));
  });

  it('two-S-tile schedules issue a dummy PV product in the prologue after the first real MMA0', () => {
    const g = generate(NAMED.firstDot, { headDim: 128 });
    const prologue = g.source.slice(g.source.indexOf('// ---- prologue'), g.source.indexOf('// ---- steady'));
    expect(count(prologue, 'opMMA1<0>(c, r, 0);')).toBe(1);
    expect(prologue.indexOf('opMMA0')).toBeLessThan(prologue.indexOf('opMMA1'));
    const second = generate(NAMED.secondDot, { headDim: 128 });
    expect(second.source.slice(0, second.source.indexOf('// ---- steady'))).not.toContain('opMMA1');
  });

  it('defaults: a producer warpgroup for TMA, ping-pong where the matmuls are adjacent and head dim <= 128', () => {
    expect(generate(NAMED.secondDot, { headDim: 128 }).config).toMatchObject({ warpSpecialized: true, pingpong: true });
    expect(generate(NAMED.baseline, { headDim: 128 }).config).toMatchObject({ warpSpecialized: true, pingpong: false });
    // firstDot's MMA1(i) and MMA0(i+2) meet across the step boundary, and its softmax reads an S
    // issued a step earlier: a 'wrap' turn.
    expect(generate(NAMED.firstDot, { headDim: 128 }).config).toMatchObject({ warpSpecialized: true, pingpong: true });
    expect(generate(NAMED.firstDot, { headDim: 128 }).plan.turn).toBe('wrap');
    expect(generate(NAMED.secondDot, { headDim: 128 }).plan.turn).toBe('step');
    // hd256: a producer warpgroup and an 80-wide tile (O takes 128 registers), no ping-pong.
    expect(generate(NAMED.secondDot, { headDim: 256 }).config).toMatchObject({ warpSpecialized: true, pingpong: false, blockN: 80 });
    expect(generate(NAMED.baseline, { headDim: 256, causal: true }).config).toMatchObject({ warpSpecialized: true, pingpong: false, blockN: 80 });
    expect(generate(NAMED.firstDot, { headDim: 256 }).config).toMatchObject({ warpSpecialized: true, pingpong: false, pShared: false, blockN: 48 });
    expect(generate(NAMED.secondDot, { headDim: 256, pingpong: true }).config).toMatchObject({ pingpong: true });
    expect(generate(NAMED.secondDot, { headDim: 128, load: 'cp.async' }).config).toMatchObject({ warpSpecialized: false });
    const ws = generate(NAMED.secondDot, { headDim: 128 });
    expect(ws.threads).toBe(384);
    expect(ws.source).not.toContain('Loads::loadK(c, j);');
    expect(ws.source).toContain('producerLoop(c)');
  });

  it('ping-pong brackets each step\'s matmuls', () => {
    const g = generate(NAMED.secondDot, { headDim: 128, pingpong: true });
    const steps = g.plan.pipeline.numStages + 1 + g.plan.pipeline.numStages; // prologue, loop body, tail
    expect(count(g.source, 'pingpongWait(c);')).toBe(steps);
    expect(count(g.source, 'pingpongSignal(c);')).toBe(steps);
    expect(g.source).toContain('pingpongStart(c);');
  });

  it("a 'wrap' turn opens before the step's last matmul and closes after the next step's first", () => {
    const g = generate(NAMED.firstDot, { headDim: 128, pingpong: true });
    const steps = g.plan.pipeline.numStages + g.plan.pipeline.unroll + (g.plan.pipeline.numStages + g.plan.pipeline.unroll - 1); // prologue, loop body, tail
    // One turn per step, plus the first one opened before the prologue and the last closed after the tail.
    expect(count(g.source, 'pingpongWait(c);')).toBe(steps + 1);
    expect(count(g.source, 'pingpongSignal(c);')).toBe(steps + 1);
    const body = g.source.slice(g.source.indexOf('for (; k'));
    const mma1 = body.indexOf('opMMA1<');
    expect(body.lastIndexOf('pingpongWait(c);', mma1)).toBeGreaterThan(body.lastIndexOf('opSoftmax<', mma1));
    expect(body.indexOf('pingpongSignal(c);', mma1)).toBeGreaterThan(body.indexOf('opMMA0<', mma1));
  });

  it('rejects ping-pong around loads the consumers issue themselves', () => {
    expect(() => generate(NAMED.firstDot, { headDim: 128, pingpong: true, warpSpecialized: false })).toThrow(/pingpong: load[KV] sits between the matmuls of a turn/);
  });
});
