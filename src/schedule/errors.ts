// Every rejection of a schedule names the op, the rule it broke and the numbers involved,
// so a user can fix a hand-written schedule from the message alone.
export type ScheduleRule =
  | 'shape' // unknown op, op missing or placed twice, stage/cluster not a non-negative integer
  | 'min-stage' // the smallest stage must be 0
  | 'dependence' // same-iteration producer -> consumer
  | 'loop-carried'; // producer of iteration j-1 -> consumer of iteration j
// (Whether a kernel fits shared memory is the kernel plan's question: src/codegen/smem.ts.)

export class ScheduleError extends Error {
  readonly op: string | undefined;
  readonly rule: ScheduleRule;

  constructor(op: string | undefined, rule: ScheduleRule, message: string) {
    super(message);
    this.name = 'ScheduleError';
    this.op = op;
    this.rule = rule;
  }
}
