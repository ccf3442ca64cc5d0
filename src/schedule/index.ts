// The schedule DSL: data (schedule.ts), legality (validate.ts over rules.ts), cost
// (resources.ts), mechanism (expand.ts), a CPU model to prove an expansion right
// (machine.ts, interpret.ts, attention.ts), the space of schedules (enumerate.ts) and a picture (svg.ts).
export { OPS, OP_INDEX, isOpName, type OpName } from './ops.js';
export { ScheduleError, type ScheduleRule } from './errors.js';
export {
  schedule, fromJSON, toJSON, toCompact, describe, bodyOrder, lastStage, normalise, scheduleKey,
  type Schedule, type BuiltSchedule, type Placement, type PlacementInput, type ScheduleTable,
} from './schedule.js';
export { DEPENDENCES, type Dependence } from './rules.js';
export { validate, isValid, findViolation, runsBefore } from './validate.js';
export {
  resources, liveTiles, type Resources,
} from './resources.js';
export { expand, loopNest, phaseOf, type ExpandedOp, type LoopNest, type Phase } from './expand.js';
export { NAMED, type NamedScheduleName } from './named.js';
export { enumerate, countSchedules, type EnumerateOptions } from './enumerate.js';
export { referenceAttention, kvTileCount, isMasked, type AttentionProblem, type AttentionResult } from './attention.js';
export { interpret, type InterpretOptions, type Expansion } from './interpret.js';
export { KERNEL_LAZY_RESCALE, type LazyRescale, type MachineShape } from './machine.js';
export { scheduleSvg, type SvgOptions } from './svg.js';
