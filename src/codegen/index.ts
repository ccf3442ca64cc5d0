// Code generation: choose(schedule, problem, knobs) -> KernelPlan (plain data), verify(plan) ->
// reasons, emit(plan) -> CUDA source. generate() is choose + emit.
export { generate } from './generate.js';
export { choose, chooseFrom, autoTakesBaseline, type ScheduleChoice, defaultScheduler, schedulerLength, lengthBreakpoints, persistentMaxSeqQ, PERSISTENT_MAX_SEQ_Q, SHORT_192_MIN_SEQ_Q, SHORT_192_MAX_PAD, paddingRatio192, short192Blocker, variantKnobs, KNOB_NAMES, isKnobName, registerSplitFor, tileRegisters, tileRegisterBudget, TILE_REGISTER_BUDGET, type Problem, type Knobs } from './choose.js';
export { verify, deadlockModel, crossTileWaitModel, persistentTrips, MAX_TRIPS, type VerifyOptions } from './verify.js';
export { emit, emitPipeline, softmaxLag, KERNEL_NAME, STATIC_HEADERS, type GeneratedKernel } from './emit.js';
export { programOf, crossTileWaits, type CrossTileWaits, type Program, type Stmt } from './program.js';
export { configOf, type KernelConfig, type KernelConfigInput, type LoadKind } from './config.js';
export {
  pipelineOf, planSummary, turnKind, turnBounds, matmulsAdjacentInBody, matmulSpan, PlanError, MAX_PENDING,
  LOAD_PATHS, P_OPERANDS, TURNS, Q_DESCRIPTORS, HEAD_DIMS, TILE_SCHEDULERS, O_STORES, SOFTCAP_TANHS, BLOCK_MS, type BlockM, type RegisterSplit, type TileScheduler, type OStore, type SoftcapTanh,
  type KernelPlan, type Pipeline, type PipelineOptions, type SmemLayout, type LoadPath, type POperand, type Turn, type QDescriptors, type BodyOp,
} from './plan.js';
export { smemLayout, describeLayout, HOPPER_MAX_SHARED_BYTES, ALIGNMENT_SLACK_BYTES, MBARRIER_BYTES } from './smem.js';
export type { Dtype } from './wgmma.js';
export { kernelParams, kernelSignature, type KernelArgs, type KernelArgName, type PtrArg } from './abi.js';
export { tileSpace, decodeTile, decodePairTile, fastDivisor, fastDivide, tileDivisors, staticTiles, dynamicTiles, persistentGrid, gridFor, L2_SHARE, TAIL_MAX_PIECES, tailSplit, decodeItem, pieceStart, tailPiece, tailArgs, staticTailWork, type TileSpace, type TileSpaceInput, type TailSplit } from './scheduler.js';
