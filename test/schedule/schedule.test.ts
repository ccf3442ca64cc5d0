import { describe, it, expect } from 'vitest';
import {
  NAMED, OPS, schedule, fromJSON, toJSON, toCompact, describe as describeBody, bodyOrder, normalise, scheduleKey,
  ScheduleError, type Schedule,
} from '../../src/schedule/index.js';

describe('schedule builder', () => {
  it('builds plain data from [stage, cluster] pairs', () => {
    const s = schedule({ loadK: [0, 4], loadV: [1, 5], MMA0: [2, 0], Softmax: [3, 1], MUL: [3, 2], MMA1: [3, 3] }, 'mine');
    expect(s.name).toBe('mine');
    expect(s.ops.loadV).toEqual({ stage: 1, cluster: 5 });
    expect(Object.keys(s)).toEqual(['name', 'ops']); // methods are not enumerable: still plain data
    expect(structuredClone(s)).toEqual({ name: 'mine', ops: s.ops });
  });

  it('prints the steady-state body of each named schedule exactly', () => {
    expect(NAMED.baseline.describe()).toBe('MMA0(i) Softmax(i) MUL(i) MMA1(i) loadV(i+2) loadK(i+2)');
    expect(NAMED.firstDot.describe()).toBe('MMA0(i+1) Softmax(i) MUL(i) MMA1(i) loadK(i+3) loadV(i+2)');
    expect(NAMED.secondDot.describe()).toBe('MMA0(i+1) MMA1(i) Softmax(i+1) MUL(i+1) loadK(i+3) loadV(i+2)');
    expect(describeBody(NAMED.secondDot)).toBe(NAMED.secondDot.describe());
  });

  it('the brief example is firstDot', () => {
    const s = schedule({ loadK: [0, 4], loadV: [1, 5], MMA0: [2, 0], Softmax: [3, 1], MUL: [3, 2], MMA1: [3, 3] });
    expect(s.describe()).toBe(NAMED.firstDot.describe());
  });

  it('breaks cluster ties by canonical op order', () => {
    const s = schedule({ loadK: [0, 0], loadV: [0, 0], MMA0: [0, 0], Softmax: [0, 0], MUL: [0, 0], MMA1: [0, 0] });
    expect(bodyOrder(s)).toEqual([...OPS]);
    const t = schedule({ MMA1: [0, 1], MUL: [0, 1], Softmax: [0, 1], MMA0: [0, 0], loadV: [0, 0], loadK: [0, 0] });
    expect(bodyOrder(t)).toEqual(['loadK', 'loadV', 'MMA0', 'Softmax', 'MUL', 'MMA1']);
  });
});

describe('JSON round trip', () => {
  it('object form survives stringify/parse for every named schedule', () => {
    for (const s of Object.values(NAMED)) {
      const text = JSON.stringify(s); // uses the non-enumerable toJSON
      expect(JSON.parse(text)).toEqual(toJSON(s));
      const back = fromJSON(text);
      expect(back).toEqual(s);
      expect(back.describe()).toBe(s.describe());
    }
  });

  it('accepts the compact form, with or without a name, as text or as a value', () => {
    const text = '{"loadK":[0,4],"loadV":[1,5],"MMA0":[2,0],"Softmax":[3,1],"MUL":[3,2],"MMA1":[3,3]}';
    expect(fromJSON(text).ops).toEqual(NAMED.firstDot.ops);
    expect(fromJSON(toCompact(NAMED.firstDot))).toEqual(NAMED.firstDot);
    expect(fromJSON(JSON.parse(text)).name).toBeUndefined();
  });

  it('rejects JSON that is not a schedule with a ScheduleError naming the op', () => {
    expect(() => fromJSON('{')).toThrow(SyntaxError);
    expect(() => fromJSON('[1,2]')).toThrow(ScheduleError);
    expect(() => fromJSON('{"loadK":"soon"}')).toThrow(/loadK must be placed as \[stage, cluster\]/);
    const dup = '{"loadK":[0,0],"loadK":[1,0],"loadV":[0,1],"MMA0":[1,2],"Softmax":[1,3],"MUL":[1,4],"MMA1":[1,5]}';
    expect(() => fromJSON(dup)).toThrow(/loadK is placed 2 times/);
  });
});

describe('normalise', () => {
  it('renumbers clusters densely and keeps the body order and stages', () => {
    const s = schedule({ loadK: [0, 40], loadV: [1, 50], MMA0: [2, 0], Softmax: [3, 10], MUL: [3, 10], MMA1: [3, 30] });
    const n = normalise(s);
    expect(bodyOrder(n)).toEqual(bodyOrder(s));
    expect(n.ops).toEqual(NAMED.firstDot.ops);
    expect(scheduleKey(n)).toBe(scheduleKey(s));
    const other: Schedule = schedule({ loadK: [0, 40], loadV: [1, 50], MMA0: [2, 60], Softmax: [3, 10], MUL: [3, 10], MMA1: [3, 30] });
    expect(scheduleKey(other)).not.toBe(scheduleKey(s));
  });
});
