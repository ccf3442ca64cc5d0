export { generate, type GeneratedKernel } from './generate.js';
export { checkConfig, type KernelConfig, type KernelConfigInput, type LoadKind } from './config.js';
export { makePlan, matmulsAdjacent, matmulsAdjacentInBody, pingpongTurn, PlanError, type Plan, type PlanOptions } from './plan.js';
export { KERNEL_NAME } from './emit.js';
export type { Dtype } from './wgmma.js';
