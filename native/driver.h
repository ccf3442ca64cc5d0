// The CUDA driver, opened with dlopen at first use; each device's primary context; check().
#pragma once
#include <string>
#include <vector>
#include "cuda_api.h"
#include "errors.h"

namespace stagewise {

struct DriverApi {
#define STAGEWISE_DECLARE(name, sym, type) \
  using name##_fn = type;                  \
  name##_fn name = nullptr;
  STAGEWISE_DRIVER_FUNCTIONS(STAGEWISE_DECLARE)
#undef STAGEWISE_DECLARE
  CuEventElapsedTime cuEventElapsedTime = nullptr;
};

// Opens libcuda.so.1 once and resolves every entry point. nullptr (and *reason) when the
// driver library is missing or lacks a symbol; never throws.
const DriverApi* loadDriver(std::string* reason = nullptr);

// The loaded driver, or a CudaError naming CUDA_DRIVER_NOT_FOUND and the reason.
const DriverApi& driver();

// cuGetErrorName when the driver is loaded, else the built-in table.
std::string cudaErrorName(CUresult status);

// Throws CudaError("call: NAME") for any status but CUDA_SUCCESS. A sticky status (a kernel
// fault) also marks the context lost: from then on ensureContext() refuses with the cause.
void check(CUresult status, const char* call);

// cuInit, retain the device's primary context (once per device and process), make it current
// on the calling thread. Call at every native entry that touches the driver, on whatever thread
// (a worker thread has no current context until this runs). A device index the driver does not
// have is an ArgError (RangeError) naming the count.
void ensureContext(int device = 0);

// Non-empty once a sticky error has killed the context.
std::string contextLostReason();

struct DeviceInfo {
  int index = 0;
  std::string name;
  int ccMajor = 0, ccMinor = 0, smCount = 0, maxSharedOptin = 0, l2Bytes = 0;
  size_t totalMemoryBytes = 0;
};

// cuInit then every device's properties. Throws CudaError (the caller turns it into a reason).
std::vector<DeviceInfo> listDevices();
int driverVersion();

}  // namespace stagewise
