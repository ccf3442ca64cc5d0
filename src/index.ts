// stagewise: software-pipelining schedules -> flash-attention forward kernels for Hopper.
export * from './schedule/index.js';
export * from './codegen/index.js';
export * from './runtime/index.js';
export * from './api/index.js';
