import { describe, it, expect } from 'vitest';
import { NAMED, schedule, validate, isValid, findViolation, ScheduleError, type ScheduleTable } from '../../src/schedule/index.js';

const FIRST_DOT = { loadK: [0, 4], loadV: [1, 5], MMA0: [2, 0], Softmax: [3, 1], MUL: [3, 2], MMA1: [3, 3] } as const;

function rejection(table: ScheduleTable): ScheduleError {
  const err = findViolation(schedule(table));
  if (!err) throw new Error(`expected ${JSON.stringify(table)} to be rejected`);
  expect(err).toBeInstanceOf(ScheduleError);
  expect(err).toBeInstanceOf(Error);
  expect(() => validate(schedule(table))).toThrow(err.message);
  return err;
}

describe('validate', () => {
  it('accepts the named schedules', () => {
    for (const s of Object.values(NAMED)) expect(validate(s)).toBe(s);
  });

  it('names the op, the rule and the stages when a consumer runs before its producer', () => {
    const err = rejection({ ...FIRST_DOT, loadV: [2, 5], MMA1: [1, 3], MUL: [1, 2], Softmax: [1, 1], MMA0: [1, 0] });
    expect(err.op).toBe('MMA1');
    expect(err.rule).toBe('dependence');
    expect(err.message).toBe('MMA1 in stage 1 reads V(j) loaded by loadV in stage 2: a consumer cannot run before its producer');
  });

  it('within a stage, the producer must come first in body order', () => {
    const err = rejection({ ...FIRST_DOT, MMA0: [3, 2], MUL: [3, 0] });
    expect(err.op).toBe('Softmax');
    expect(err.message).toMatch(/^Softmax \(stage 3, cluster 1\) reads S\(j\) computed by MMA0 in the same stage but later in body order \(cluster 2\)/);
  });

  it('checks the loop-carried acc edge MMA1(j-1) -> MUL(j) with steps and body order', () => {
    // MUL in stage 2, MMA1 in stage 3: equal steps (j+2), but MMA1 is later in the body.
    const err = rejection({ loadK: [0, 4], loadV: [1, 5], MMA0: [2, 0], Softmax: [2, 1], MUL: [2, 2], MMA1: [3, 3] });
    expect(err.op).toBe('MUL');
    expect(err.rule).toBe('loop-carried');
    expect(err.message).toMatch(/MUL\(j\) in stage 2 runs at step j\+2 but needs acc accumulated by MMA1\(j-1\) in stage 3, which runs at step j\+2, the same step with MMA1 later in body order \(cluster 3 vs 2/);
    // Moving MMA1 ahead in the body fixes it: that is secondDot.
    expect(isValid(schedule({ loadK: [0, 4], loadV: [1, 5], MMA0: [2, 0], Softmax: [2, 2], MUL: [2, 3], MMA1: [3, 1] }))).toBe(true);
  });

  it('rejects Softmax(j+1) overwriting the single alpha register before MUL(j) reads it', () => {
    const err = rejection({ loadK: [0, 0], loadV: [0, 1], MMA0: [0, 2], Softmax: [0, 3], MUL: [1, 4], MMA1: [1, 5] });
    // Softmax(j+1) runs in step j+1 before MUL(j): alpha(j) would be overwritten.
    expect(err.op).toBe('Softmax');
    expect(err.rule).toBe('loop-carried');
    expect(err.message).toMatch(/Softmax\(j\) in stage 0 runs at step j and overwrites alpha before MUL\(j-1\) in stage 1/);
  });

  it('requires the smallest stage to be 0', () => {
    const err = rejection({ loadK: [1, 4], loadV: [2, 5], MMA0: [3, 0], Softmax: [4, 1], MUL: [4, 2], MMA1: [4, 3] });
    expect(err.rule).toBe('min-stage');
    expect(err.op).toBe('loadK');
    expect(err.message).toMatch(/smallest stage is 1 \(loadK\): the smallest stage must be 0/);
  });

  it('rejects unknown ops, missing ops and bad numbers by name', () => {
    expect(rejection({ ...FIRST_DOT, loadQ: [0, 0] }).message).toMatch(/unknown op "loadQ"/);
    const { MUL: _drop, ...noMul } = FIRST_DOT;
    const missing = rejection(noMul);
    expect([missing.op, missing.rule]).toEqual(['MUL', 'shape']);
    expect(missing.message).toMatch(/MUL is not placed: every op must be placed exactly once/);
    expect(rejection({ ...FIRST_DOT, Softmax: [-1, 1] }).message).toMatch(/Softmax has stage -1: stages and clusters must be non-negative integers/);
    expect(rejection({ ...FIRST_DOT, MMA1: [3, 1.5] }).message).toMatch(/MMA1 has cluster 1\.5/);
    expect(rejection({ ...FIRST_DOT, MMA0: ['2', 0] as never }).op).toBe('MMA0');
  });
});
