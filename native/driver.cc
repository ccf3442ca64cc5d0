#include "driver.h"

#include <mutex>
#include "dynlib.h"

namespace stagewise {

namespace {

struct LoadedDriver {
  SharedLibrary lib;
  DriverApi api;
  std::string reason;
  bool ok = false;
};

LoadedDriver& loaded() {
  static LoadedDriver state;
  static std::once_flag once;
  std::call_once(once, [] {
    state.lib = SharedLibrary::openFirst({"libcuda.so.1"}, state.reason);
    if (!state.lib.isOpen()) return;
#define STAGEWISE_RESOLVE(name, sym, type)                                   \
  state.api.name = reinterpret_cast<type>(state.lib.symbol(sym));            \
  if (!state.api.name) {                                                       \
    state.reason = std::string("libcuda.so.1 lacks ") + sym + " (driver too old?)"; \
    return;                                                                    \
  }
    STAGEWISE_DRIVER_FUNCTIONS(STAGEWISE_RESOLVE)
#undef STAGEWISE_RESOLVE
    void* elapsed = state.lib.symbol("cuEventElapsedTime_v2");
    if (!elapsed) elapsed = state.lib.symbol("cuEventElapsedTime");
    state.api.cuEventElapsedTime = reinterpret_cast<CuEventElapsedTime>(elapsed);
    state.ok = state.api.cuEventElapsedTime != nullptr;
    if (!state.ok) state.reason = "libcuda.so.1 lacks cuEventElapsedTime";
  });
  return state;
}

std::mutex contextMutex;  // guards primaryContexts
std::vector<CUcontext> primaryContexts;  // by device index; filled on first use of each device
std::mutex lostMutex;  // guards lostReason
std::string lostReason;

}  // namespace

const DriverApi* loadDriver(std::string* reason) {
  LoadedDriver& state = loaded();
  if (reason) *reason = state.reason;
  return state.ok ? &state.api : nullptr;
}

const DriverApi& driver() {
  std::string reason;
  const DriverApi* api = loadDriver(&reason);
  if (!api) throw CudaError("dlopen", "CUDA_DRIVER_NOT_FOUND", reason);
  return *api;
}

std::string cudaErrorName(CUresult status) {
  const DriverApi* api = loadDriver();
  const char* name = nullptr;
  if (api && api->cuGetErrorName(status, &name) == CUDA_SUCCESS && name) return name;
  return cudaErrorNameFallback(status);
}

void check(CUresult status, const char* call) {
  if (status == CUDA_SUCCESS) return;
  std::string name = cudaErrorName(status);
  if (isStickyError(status)) {
    std::lock_guard<std::mutex> lock(lostMutex);
    if (lostReason.empty()) lostReason = std::string(call) + " failed with " + name;
  }
  throw CudaError(call, name);
}

std::string contextLostReason() {
  std::lock_guard<std::mutex> lock(lostMutex);
  return lostReason;
}

void ensureContext(int device) {
  std::string lost = contextLostReason();
  if (!lost.empty())
    throw CudaError("CUDA context lost", "CUDA_ERROR_CONTEXT_LOST",
                    lost + "; a kernel fault is sticky, restart the process to use the GPU again");
  if (device < 0) throw ArgError(ArgError::Range, "device must be a non-negative index, got " + std::to_string(device));
  const DriverApi& api = driver();
  CUcontext ctx;
  {
    std::lock_guard<std::mutex> lock(contextMutex);
    if (primaryContexts.empty()) {
      check(api.cuInit(0), "cuInit");
      int count = 0;
      check(api.cuDeviceGetCount(&count), "cuDeviceGetCount");
      primaryContexts.assign(count, nullptr);
    }
    if (static_cast<size_t>(device) >= primaryContexts.size())
      throw ArgError(ArgError::Range, "device " + std::to_string(device) + " does not exist: the driver reports " +
                                          std::to_string(primaryContexts.size()) + " CUDA device(s)");
    CUcontext& slot = primaryContexts[device];
    if (!slot) {
      CUdevice dev;
      check(api.cuDeviceGet(&dev, device), "cuDeviceGet");
      check(api.cuDevicePrimaryCtxRetain(&slot, dev), "cuDevicePrimaryCtxRetain");
    }
    ctx = slot;
  }
  check(api.cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
}

int driverVersion() {
  int version = 0;
  check(driver().cuDriverGetVersion(&version), "cuDriverGetVersion");
  return version;
}

std::vector<DeviceInfo> listDevices() {
  const DriverApi& api = driver();
  check(api.cuInit(0), "cuInit");
  int count = 0;
  check(api.cuDeviceGetCount(&count), "cuDeviceGetCount");
  std::vector<DeviceInfo> devices;
  for (int i = 0; i < count; ++i) {
    CUdevice dev;
    check(api.cuDeviceGet(&dev, i), "cuDeviceGet");
    DeviceInfo info;
    info.index = i;
    char name[256] = {0};
    check(api.cuDeviceGetName(name, sizeof(name) - 1, dev), "cuDeviceGetName");
    info.name = name;
    auto attr = [&](CUdeviceAttribute a) {
      int value = 0;
      check(api.cuDeviceGetAttribute(&value, a, dev), "cuDeviceGetAttribute");
      return value;
    };
    info.ccMajor = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
    info.ccMinor = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
    info.smCount = attr(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    info.maxSharedOptin = attr(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
    info.l2Bytes = attr(CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE);
    check(api.cuDeviceTotalMem(&info.totalMemoryBytes, dev), "cuDeviceTotalMem");
    devices.push_back(info);
  }
  return devices;
}

}  // namespace stagewise
