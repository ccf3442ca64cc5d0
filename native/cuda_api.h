// The few CUDA driver and NVRTC declarations stagewise uses, written out by hand so the addon
// builds on machines without the CUDA toolkit. Values are those of cuda.h / nvrtc.h 13.0; the
// libraries are opened with dlopen at first use (see driver.cc, nvrtc.cc), never linked.
#pragma once
#include <cstddef>
#include <cstdint>

namespace stagewise {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;  // CUdeviceptr_v2
using CUcontext = struct CUctx_st*;
using CUmodule = struct CUmod_st*;
using CUfunction = struct CUfunc_st*;
using CUstream = struct CUstream_st*;
using CUevent = struct CUevent_st*;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_NOT_READY = 600;

// cuStreamCreate: a blocking stream, ordered after (and before) work on the legacy default stream,
// where the synchronous copies run.
constexpr unsigned CU_STREAM_DEFAULT = 0;
// cuEventCreate: completion-only events (no timestamp) are cheaper to record and wait on.
constexpr unsigned CU_EVENT_DEFAULT = 0;
constexpr unsigned CU_EVENT_DISABLE_TIMING = 2;

enum CUpointerAttribute : int { CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9 };

enum CUdeviceAttribute : int {
  CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
  CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
  CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97,
};

enum CUfunctionAttribute : int {
  CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0,
  CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1,
  CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES = 3,
  CU_FUNC_ATTRIBUTE_NUM_REGS = 4,
  CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8,
};

constexpr int CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION = 4;

struct CUlaunchAttribute {
  int id;
  char pad[4];
  union {
    char pad[64];
    struct { unsigned x, y, z; } clusterDim;
  } value;
};
static_assert(sizeof(CUlaunchAttribute) == 72, "CUlaunchAttribute layout");

struct CUlaunchConfig {
  unsigned gridDimX, gridDimY, gridDimZ;
  unsigned blockDimX, blockDimY, blockDimZ;
  unsigned sharedMemBytes;
  CUstream hStream;
  CUlaunchAttribute* attrs;
  unsigned numAttrs;
};

// TMA descriptor: 128 opaque bytes, 64-byte aligned (cuda.h asks 128; the driver needs 64).
struct alignas(128) CUtensorMap { uint64_t opaque[16]; };

enum CUtensorMapDataType : int { CU_TENSOR_MAP_DATA_TYPE_FLOAT16 = 6, CU_TENSOR_MAP_DATA_TYPE_FLOAT32 = 7, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 = 9 };

// Driver entry points, by the versioned symbol names that cuda.h's macros select.
#define STAGEWISE_DRIVER_FUNCTIONS(X)                                                                      \
  X(cuInit, "cuInit", CUresult (*)(unsigned))                                                              \
  X(cuDriverGetVersion, "cuDriverGetVersion", CUresult (*)(int*))                                          \
  X(cuGetErrorName, "cuGetErrorName", CUresult (*)(CUresult, const char**))                                \
  X(cuDeviceGetCount, "cuDeviceGetCount", CUresult (*)(int*))                                              \
  X(cuDeviceGet, "cuDeviceGet", CUresult (*)(CUdevice*, int))                                              \
  X(cuDeviceGetName, "cuDeviceGetName", CUresult (*)(char*, int, CUdevice))                                \
  X(cuDeviceGetAttribute, "cuDeviceGetAttribute", CUresult (*)(int*, CUdeviceAttribute, CUdevice))         \
  X(cuDeviceTotalMem, "cuDeviceTotalMem_v2", CUresult (*)(size_t*, CUdevice))                              \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", CUresult (*)(CUcontext*, CUdevice))              \
  X(cuCtxSetCurrent, "cuCtxSetCurrent", CUresult (*)(CUcontext))                                           \
  X(cuCtxSynchronize, "cuCtxSynchronize", CUresult (*)())                                                  \
  X(cuMemAlloc, "cuMemAlloc_v2", CUresult (*)(CUdeviceptr*, size_t))                                       \
  X(cuMemFree, "cuMemFree_v2", CUresult (*)(CUdeviceptr))                                                  \
  X(cuMemcpyHtoD, "cuMemcpyHtoD_v2", CUresult (*)(CUdeviceptr, const void*, size_t))                       \
  X(cuMemcpyDtoH, "cuMemcpyDtoH_v2", CUresult (*)(void*, CUdeviceptr, size_t))                             \
  X(cuMemcpyDtoD, "cuMemcpyDtoD_v2", CUresult (*)(CUdeviceptr, CUdeviceptr, size_t))                       \
  X(cuMemsetD8, "cuMemsetD8_v2", CUresult (*)(CUdeviceptr, unsigned char, size_t))                         \
  X(cuMemsetD16, "cuMemsetD16_v2", CUresult (*)(CUdeviceptr, unsigned short, size_t))                      \
  X(cuMemsetD32, "cuMemsetD32_v2", CUresult (*)(CUdeviceptr, unsigned, size_t))                            \
  X(cuModuleLoadData, "cuModuleLoadData", CUresult (*)(CUmodule*, const void*))                            \
  X(cuModuleUnload, "cuModuleUnload", CUresult (*)(CUmodule))                                              \
  X(cuModuleGetFunction, "cuModuleGetFunction", CUresult (*)(CUfunction*, CUmodule, const char*))          \
  X(cuFuncGetAttribute, "cuFuncGetAttribute", CUresult (*)(int*, CUfunctionAttribute, CUfunction))         \
  X(cuFuncSetAttribute, "cuFuncSetAttribute", CUresult (*)(CUfunction, CUfunctionAttribute, int))          \
  X(cuLaunchKernel, "cuLaunchKernel",                                                                      \
    CUresult (*)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,        \
                 CUstream, void**, void**))                                                                \
  X(cuLaunchKernelEx, "cuLaunchKernelEx", CUresult (*)(const CUlaunchConfig*, CUfunction, void**, void**)) \
  X(cuOccupancyMaxActiveClusters, "cuOccupancyMaxActiveClusters",                                          \
    CUresult (*)(int*, CUfunction, const CUlaunchConfig*))                                                 \
  X(cuEventCreate, "cuEventCreate", CUresult (*)(CUevent*, unsigned))                                      \
  X(cuEventDestroy, "cuEventDestroy_v2", CUresult (*)(CUevent))                                            \
  X(cuEventRecord, "cuEventRecord", CUresult (*)(CUevent, CUstream))                                       \
  X(cuEventSynchronize, "cuEventSynchronize", CUresult (*)(CUevent))                                       \
  X(cuEventQuery, "cuEventQuery", CUresult (*)(CUevent))                                                   \
  X(cuStreamCreate, "cuStreamCreate", CUresult (*)(CUstream*, unsigned))                                   \
  X(cuStreamDestroy, "cuStreamDestroy_v2", CUresult (*)(CUstream))                                         \
  X(cuPointerGetAttribute, "cuPointerGetAttribute", CUresult (*)(void*, CUpointerAttribute, CUdeviceptr))  \
  X(cuTensorMapEncodeTiled, "cuTensorMapEncodeTiled",                                                      \
    CUresult (*)(CUtensorMap*, CUtensorMapDataType, uint32_t, void*, const uint64_t*, const uint64_t*,    \
                 const uint32_t*, const uint32_t*, int, int, int, int))

// cuEventElapsedTime_v2 appeared in driver 12.8; older drivers only have the unversioned name.
using CuEventElapsedTime = CUresult (*)(float*, CUevent, CUevent);

// NVRTC.
using nvrtcResult = int;
using nvrtcProgram = struct _nvrtcProgram*;
constexpr nvrtcResult NVRTC_SUCCESS = 0;
constexpr nvrtcResult NVRTC_ERROR_COMPILATION = 6;

#define STAGEWISE_NVRTC_FUNCTIONS(X)                                                                        \
  X(nvrtcVersion, "nvrtcVersion", nvrtcResult (*)(int*, int*))                                              \
  X(nvrtcGetErrorString, "nvrtcGetErrorString", const char* (*)(nvrtcResult))                               \
  X(nvrtcCreateProgram, "nvrtcCreateProgram",                                                               \
    nvrtcResult (*)(nvrtcProgram*, const char*, const char*, int, const char* const*, const char* const*))  \
  X(nvrtcDestroyProgram, "nvrtcDestroyProgram", nvrtcResult (*)(nvrtcProgram*))                             \
  X(nvrtcCompileProgram, "nvrtcCompileProgram", nvrtcResult (*)(nvrtcProgram, int, const char* const*))     \
  X(nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize", nvrtcResult (*)(nvrtcProgram, size_t*))               \
  X(nvrtcGetProgramLog, "nvrtcGetProgramLog", nvrtcResult (*)(nvrtcProgram, char*))                         \
  X(nvrtcGetCUBINSize, "nvrtcGetCUBINSize", nvrtcResult (*)(nvrtcProgram, size_t*))                         \
  X(nvrtcGetCUBIN, "nvrtcGetCUBIN", nvrtcResult (*)(nvrtcProgram, char*))

}  // namespace stagewise
