// stagewise runtime: devices, memory, NVRTC compile + cache, modules, launches, streams and
// events, TMA descriptors and launch timing, over the native addon in native/.
export { devices, nvrtcInfo, isHopper, synchronize, readiness, GPU_FIX, NVRTC_FIX } from './devices.js';
export type { DeviceInfo, DevicesReport, NvrtcInfo, Readiness } from './devices.js';
export { DeviceBuffer } from './memory.js';
export type { DeviceOptions } from './memory.js';
export { Stream, Event } from './stream.js';
export { compile, FIXED_OPTIONS } from './compile.js';
export type { CompileOptions, CompileResult } from './compile.js';
export { cacheSettings, cacheKey } from './cache.js';
export type { CacheSettings, CacheKeyParts } from './cache.js';
export { parsePtxasInfo } from './ptxas.js';
export type { PtxasInfo } from './ptxas.js';
export { CompileError, CacheMissError } from './errors.js';
export { Module, KernelFunction } from './module.js';
export type { KernelAttributes } from './module.js';
export { launch, launchPrepared, prepareLaunch, PreparedLaunch, timeLaunches, encodeLaunch } from './launch.js';
export type { KernelParam, LaunchConfig, TimingOptions, Dim3 } from './launch.js';
export { encodeTensorMap, tensorMapArgs, TensorMap } from './tensormap.js';
export type { TensorMapDesc, TmaDtype, TmaSwizzle, TmaL2Promotion } from './tensormap.js';
