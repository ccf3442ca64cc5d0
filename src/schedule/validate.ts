// Legality of a schedule. Rules, in the order they are checked:
//   shape:        every op placed exactly once, no unknown ops, stage/cluster non-negative integers
//   min-stage:    the smallest stage is 0 (otherwise every step would be shifted for nothing)
//   dependence / loop-carried: for each edge in DEPENDENCES, the producer's step for the
//                 iteration it feeds is earlier than the consumer's, or the same step and
//                 earlier in body order. Op o runs iteration j at step j + stage(o).
import { OPS, OP_INDEX, isOpName, type OpName } from './ops.js';
import { ScheduleError } from './errors.js';
import { DEPENDENCES, type Dependence } from './rules.js';
import { bodyOrder, type Schedule } from './schedule.js';

/** Throws ScheduleError naming the op, the rule and the numbers; returns the schedule when legal. */
export function validate<T extends Schedule>(s: T): T {
  const error = findViolation(s);
  if (error) throw error;
  return s;
}

export function isValid(s: Schedule): boolean {
  return findViolation(s) === undefined;
}

export function findViolation(s: Schedule): ScheduleError | undefined {
  const shape = shapeViolation(s);
  if (shape) return shape;
  const stages = OPS.map((op) => s.ops[op].stage);
  const min = Math.min(...stages);
  if (min !== 0) {
    const op = OPS[stages.indexOf(min)];
    return new ScheduleError(op, 'min-stage', `the smallest stage is ${min} (${op}): the smallest stage must be 0`);
  }
  const position = positions(s);
  for (const dep of DEPENDENCES) {
    if (!edgeHolds(dep, s.ops[dep.producer].stage, s.ops[dep.consumer].stage, position[dep.producer], position[dep.consumer])) {
      return edgeError(s, dep);
    }
  }
  return undefined;
}

/**
 * The whole legality test on plain numbers, shared with enumerate() so that the enumerator
 * and validate() cannot disagree. Positions are indices in body order.
 */
export function edgeHolds(dep: Dependence, producerStage: number, consumerStage: number, producerPos: number, consumerPos: number): boolean {
  if (dep.producer === dep.consumer) return true; // iteration j-1 of an op always runs before j
  return runsBefore(producerStage, producerPos, consumerStage, consumerPos, dep.distance);
}

/**
 * True when the producer's iteration j - distance runs before the consumer's iteration j in
 * program order: an earlier step, or the same step and an earlier body position. The one
 * statement of "runs before", shared with the code generator's ring and wait-count rules.
 */
export function runsBefore(producerStage: number, producerPos: number, consumerStage: number, consumerPos: number, distance: number): boolean {
  const lead = consumerStage - (producerStage - distance);
  return lead > 0 || (lead === 0 && producerPos < consumerPos);
}

function positions(s: Schedule): Record<OpName, number> {
  const out = {} as Record<OpName, number>;
  bodyOrder(s).forEach((op, i) => { out[op] = i; });
  return out;
}

function shapeViolation(s: Schedule): ScheduleError | undefined {
  if (s === null || typeof s !== 'object' || s.ops === null || typeof s.ops !== 'object') {
    return new ScheduleError(undefined, 'shape', 'a schedule needs an "ops" table op -> { stage, cluster }');
  }
  for (const op of Object.keys(s.ops)) {
    if (!isOpName(op)) return new ScheduleError(op, 'shape', `unknown op "${op}": the ops are ${OPS.join(', ')}`);
  }
  for (const op of OPS) {
    const p = s.ops[op];
    if (p === undefined) return new ScheduleError(op, 'shape', `${op} is not placed: every op must be placed exactly once (ops: ${OPS.join(', ')})`);
    for (const field of ['stage', 'cluster'] as const) {
      const v = p[field];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
        return new ScheduleError(op, 'shape', `${op} has ${field} ${JSON.stringify(v)}: stages and clusters must be non-negative integers`);
      }
    }
  }
  return undefined;
}

function edgeError(s: Schedule, dep: Dependence): ScheduleError {
  const p = s.ops[dep.producer];
  const c = s.ops[dep.consumer];
  const { producer, consumer } = dep;
  if (dep.distance === 0) {
    const where = p.stage === c.stage
      ? `${consumer} (stage ${c.stage}, cluster ${c.cluster}) reads ${dep.what} ${dep.verb} ${producer} in the same stage but later in body order (cluster ${p.cluster})`
      : `${consumer} in stage ${c.stage} reads ${dep.what} ${dep.verb} ${producer} in stage ${p.stage}`;
    return new ScheduleError(consumer, 'dependence', `${where}: a consumer cannot run before its producer`);
  }
  // Steps for iteration j, written relative to j: producer(j-1) at j-1+stage, consumer(j) at j+stage.
  const producerStep = offset(p.stage - 1);
  const consumerStep = offset(c.stage);
  const order = p.stage - 1 === c.stage
    ? `, the same step with ${producer} later in body order (cluster ${p.cluster} vs ${c.cluster}, canonical ${OP_INDEX[producer]} vs ${OP_INDEX[consumer]})`
    : '';
  const head = `${consumer}(j) in stage ${c.stage} runs at step ${consumerStep}`;
  const tail = `in stage ${p.stage}, which runs at step ${producerStep}${order}`;
  const message = dep.overwrites
    ? `${head} and overwrites ${dep.what} before ${producer}(j-1) ${tail} has read it: ${dep.what} is a single register, so ${producer}(j-1) must run first`
    : `${head} but needs ${dep.what} ${dep.verb} ${producer}(j-1) ${tail}: a consumer cannot run before its producer from the previous iteration`;
  return new ScheduleError(consumer, 'loop-carried', message);
}

function offset(n: number): string {
  return n === 0 ? 'j' : n > 0 ? `j+${n}` : `j${n}`;
}
