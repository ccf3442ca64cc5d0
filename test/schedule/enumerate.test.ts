import { describe, it, expect } from 'vitest';
import { NAMED, OPS, countSchedules, enumerate, isValid, lastStage, normalise, scheduleKey, schedule, validate } from '../../src/schedule/index.js';

// Computed by enumerate() and cross-checked below: validity, uniqueness, nesting, the named
// members, and a brute force through validate() (not enumerate's fast path) up to 2 stages.
const COUNTS: Record<number, number> = { 1: 5, 2: 293, 3: 2340, 4: 8340 };

describe('enumerate', () => {
  const byStages = new Map([1, 2, 3, 4].map((m) => [m, [...enumerate({ maxStages: m })]]));

  it('counts the legal schedules for maxStages 1..4', () => {
    for (const [m, list] of byStages) expect(list.length, `maxStages ${m}`).toBe(COUNTS[m]);
    expect(countSchedules({ maxStages: 2 })).toBe(COUNTS[2]);
  });

  it('yields only legal, normalised schedules, each once, within the stage range', () => {
    for (const [m, list] of byStages) {
      const keys = new Set<string>();
      for (const s of list) {
        expect(() => validate(s)).not.toThrow();
        expect(s.ops).toEqual(normalise(s).ops);
        expect(lastStage(s)).toBeLessThan(m);
        keys.add(scheduleKey(s));
      }
      expect(keys.size).toBe(list.length);
    }
  });

  it('each count contains the smaller ones', () => {
    for (let m = 2; m <= 4; m++) {
      const keys = new Set(byStages.get(m)!.map(scheduleKey));
      for (const s of byStages.get(m - 1)!) expect(keys.has(scheduleKey(s))).toBe(true);
    }
  });

  it('contains each named schedule once maxStages covers its stages', () => {
    for (const s of Object.values(NAMED)) {
      for (const [m, list] of byStages) {
        const found = list.some((t) => scheduleKey(t) === scheduleKey(s));
        expect(found, `${s.name} in maxStages ${m}`).toBe(m >= lastStage(s) + 1);
      }
    }
  });

  it('agrees with a brute force over stages x body orders through validate(), for one and two stages', () => {
    const orders = permutations([...OPS]);
    for (const m of [1, 2]) { // 3 stages agree too but take 10 s through validate()
      let legal = 0;
      for (let code = 0; code < m ** 6; code++) {
        const stages = OPS.map((_, i) => Math.floor(code / m ** i) % m);
        for (const order of orders) {
          const table: Record<string, [number, number]> = {};
          OPS.forEach((op, i) => { table[op] = [stages[i], order.indexOf(op)]; });
          if (isValid(schedule(table))) legal++;
        }
      }
      expect(legal, `maxStages ${m}`).toBe(COUNTS[m]);
    }
  });

  it('cluster ties add nothing: every cluster assignment in 0..5 with one stage lands in the enumeration', () => {
    const keys = new Set<string>();
    for (let code = 0; code < 6 ** 6; code++) {
      const table: Record<string, [number, number]> = {};
      OPS.forEach((op, i) => { table[op] = [0, Math.floor(code / 6 ** i) % 6]; });
      const s = schedule(table);
      if (isValid(s)) keys.add(scheduleKey(s));
    }
    expect([...keys].sort()).toEqual(byStages.get(1)!.map(scheduleKey).sort());
  });

  it('rejects a bad maxStages', () => {
    expect(() => [...enumerate({ maxStages: 0 })]).toThrow(RangeError);
  });
});

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((first, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [first, ...rest]));
}
