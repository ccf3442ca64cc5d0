import { describe, it, expect } from 'vitest';
import { NAMED, OPS, expand, loopNest, lastStage, schedule, ScheduleError } from '../../src/schedule/index.js';

describe('expand', () => {
  it('writes out baseline for T = 3 step by step', () => {
    const lines = expand(NAMED.baseline, 3).map((e) => `${e.step}:${e.op}(${e.iter}):${e.phase}`);
    expect(lines).toEqual([
      '0:loadV(0):prologue', '0:loadK(0):prologue',
      '1:loadV(1):prologue', '1:loadK(1):prologue',
      '2:MMA0(0):steady', '2:Softmax(0):steady', '2:MUL(0):steady', '2:MMA1(0):steady', '2:loadV(2):steady', '2:loadK(2):steady',
      '3:MMA0(1):epilogue', '3:Softmax(1):epilogue', '3:MUL(1):epilogue', '3:MMA1(1):epilogue',
      '4:MMA0(2):epilogue', '4:Softmax(2):epilogue', '4:MUL(2):epilogue', '4:MMA1(2):epilogue',
    ]);
  });

  it('runs every op exactly once per iteration at step iter + stage, for every T including T < S', () => {
    for (const s of Object.values(NAMED)) {
      const S = lastStage(s);
      for (let T = 1; T <= 12; T++) {
        const out = expand(s, T);
        expect(out).toHaveLength(OPS.length * T);
        for (const op of OPS) {
          const mine = out.filter((e) => e.op === op);
          expect(mine.map((e) => e.iter)).toEqual([...Array(T).keys()]);
          for (const e of mine) expect(e.step).toBe(e.iter + s.ops[op].stage);
        }
        for (const e of out) {
          expect(e.phase).toBe(e.step < S ? 'prologue' : e.step < T ? 'steady' : 'epilogue');
        }
        const steps = out.map((e) => e.step);
        expect(steps).toEqual([...steps].sort((a, b) => a - b));
        expect(Math.max(...steps)).toBe(T - 1 + S);
      }
    }
  });

  it('the steady-state step is the described body', () => {
    const out = expand(NAMED.secondDot, 8).filter((e) => e.step === 5);
    expect(out.map((e) => `${e.op}(${e.iter})`).join(' ')).toBe('MMA0(3) MMA1(2) Softmax(3) MUL(3) loadK(5) loadV(4)');
    // i = step - S = 2: MMA0(i+1) MMA1(i) Softmax(i+1) MUL(i+1) loadK(i+3) loadV(i+2)
  });

  it('has no steady state when T <= S', () => {
    expect(expand(NAMED.firstDot, 2).some((e) => e.phase === 'steady')).toBe(false);
    expect(expand(NAMED.firstDot, 4).filter((e) => e.phase === 'steady').map((e) => e.step)).toEqual([3, 3, 3, 3, 3, 3]);
  });

  it('rejects bad trip counts with RangeError and illegal schedules with ScheduleError', () => {
    for (const T of [0, -1, 1.5, NaN, Infinity]) expect(() => expand(NAMED.baseline, T)).toThrow(RangeError);
    expect(() => expand(schedule({ loadK: [0, 0] }), 3)).toThrow(ScheduleError);
  });
});

describe('loopNest', () => {
  it('gives S and the body in body order', () => {
    expect(loopNest(NAMED.secondDot)).toEqual({
      numStages: 3,
      body: [
        { op: 'MMA0', stage: 2, cluster: 0 }, { op: 'MMA1', stage: 3, cluster: 1 }, { op: 'Softmax', stage: 2, cluster: 2 },
        { op: 'MUL', stage: 2, cluster: 3 }, { op: 'loadK', stage: 0, cluster: 4 }, { op: 'loadV', stage: 1, cluster: 5 },
      ],
    });
  });
});
