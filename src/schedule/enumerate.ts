// Every legal schedule with stages in 0..maxStages-1, once per equivalence class: two
// schedules are equivalent when they have the same stages and the same body order, so each
// is yielded in normalised form (clusters = body position 0..5).
import { OPS, OP_INDEX, type OpName } from './ops.js';
import { DEPENDENCES } from './rules.js';
import { schedule, type BuiltSchedule } from './schedule.js';
import { edgeHolds } from './validate.js';

export interface EnumerateOptions {
  maxStages: number;
}

export function* enumerate({ maxStages }: EnumerateOptions): Generator<BuiltSchedule> {
  if (!Number.isInteger(maxStages) || maxStages < 1) {
    throw new RangeError(`maxStages must be a positive integer, got ${maxStages}`);
  }
  const edges = DEPENDENCES.map((d) => ({ dep: d, p: OP_INDEX[d.producer], c: OP_INDEX[d.consumer] }));
  const orders = permutations([...OPS]);
  const stages = new Array<number>(OPS.length).fill(0);
  const position = new Array<number>(OPS.length).fill(0);
  const total = maxStages ** OPS.length;
  for (let code = 0; code < total; code++) {
    for (let i = 0, rest = code; i < OPS.length; i++, rest = Math.floor(rest / maxStages)) stages[i] = rest % maxStages;
    if (Math.min(...stages) !== 0) continue; // the min-stage rule
    for (const order of orders) {
      order.forEach((op, pos) => { position[OP_INDEX[op]] = pos; });
      if (edges.every(({ dep, p, c }) => edgeHolds(dep, stages[p], stages[c], position[p], position[c]))) {
        const table: Record<string, [number, number]> = {};
        for (const op of OPS) table[op] = [stages[OP_INDEX[op]], position[OP_INDEX[op]]];
        yield schedule(table);
      }
    }
  }
}

export function countSchedules(options: EnumerateOptions): number {
  let n = 0;
  for (const _ of enumerate(options)) n++;
  return n;
}

function permutations(items: OpName[]): OpName[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((first, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [first, ...rest]),
  );
}
