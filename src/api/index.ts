export {
  attention, prepareAttention, compileAttention, buildAttention, launchConfig, resolveSchedule, flops, deviceName,
  REL_L2_TOLERANCE, LSE_TOLERANCE,
  type AttentionConfig, type AttentionBuffers, type CompiledAttention, type BuiltAttention, type CheckResult, type PreparedAttention,
} from './attention.js';
export { referenceRows, type HeadSlice } from './reference.js';
export { bf16ToFloat, f16ToFloat, toFloats, floatToF16Bits, floatToBf16Bits, floatsToBits } from './half.js';
export {
  Tensor,
  type TensorDtype, type TensorOptions, type FromOptions, type RandomOptions, type DevicePointerOptions,
} from './tensor.js';
