export {
  attention, attentionBuffers, attentionPlan, prepareAttention, compileAttention, buildAttention, launchConfig, resolveSchedule, flops, deviceName,
  REL_L2_TOLERANCE, LSE_TOLERANCE,
  type AttentionConfig, type AttentionBuffers, type CompiledAttention, type BuiltAttention, type CheckResult, type PreparedAttention,
} from './attention.js';
export { referenceRows, type HeadSlice } from './reference.js';
export { bf16ToFloat, f16ToFloat, toFloats, floatToF16Bits, floatToBf16Bits, floatsToBits } from './half.js';
export {
  Tensor,
  type TensorDtype, type TensorOptions, type FromOptions, type RandomOptions, type DevicePointerOptions,
} from './tensor.js';
export { attentionTensors, attentionVarlen, prepareTensorLaunch, prepareVarlenLaunch, checkRunKnobs, type AttentionOutput, type RunOptions } from './tensor_attention.js';
export { launchFor, mapBoxRows, tensorMaps, type LaunchProblem, type Operand } from './launch_args.js';
export {
  attentionProblem, varlenProblem, checkCuSeqlens, SUPPORTED_HEAD_DIMS, ATTENTION_LAYOUTS,
  type AttentionOptions, type VarlenOptions, type AttentionProblem as AttentionCall, type OperandLayout, type AttentionLayout,
} from './problem.js';
export { referenceGeneral, visibleKeys, type GeneralCase, type GeneralResult } from './reference.js';
export { launchGeneralReference, type GeneralReferenceLaunch } from './reference_gpu.js';
