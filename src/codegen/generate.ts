// generate(): schedule + kernel config -> the CUDA source of one attention kernel, in the two
// steps every caller can also take apart: choose() (deciding, choose.ts) and emit() (emit.ts).
import { chooseFrom, type ScheduleChoice } from './choose.js';
import type { KernelConfigInput } from './config.js';
import { emit, type GeneratedKernel } from './emit.js';

export function generate(s: ScheduleChoice, input: KernelConfigInput): GeneratedKernel {
  return emit(chooseFrom(s, input));
}
