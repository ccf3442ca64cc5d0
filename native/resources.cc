#include "resources.h"

#include <cstdio>

namespace stagewise {

namespace {
// Runs a destroy call in `device`'s context unless the driver or the context is gone.
template <typename Fn>
void destroyQuietly(int device, Fn&& destroy) {
  const DriverApi* api = loadDriver();
  if (!api || !contextLostReason().empty()) return;
  try {
    ensureContext(device);
    destroy(*api);
  } catch (...) {
  }
}

std::string hex(CUdeviceptr ptr) {
  char text[32];
  std::snprintf(text, sizeof text, "0x%llx", ptr);
  return text;
}
}  // namespace

DeviceAllocation::DeviceAllocation(size_t bytes, int device) : bytes_(bytes), device_(device) {
  ensureContext(device);
  check(driver().cuMemAlloc(&ptr_, bytes), "cuMemAlloc");
}

std::unique_ptr<DeviceAllocation> DeviceAllocation::borrow(CUdeviceptr ptr, size_t bytes, int device) {
  if (ptr == 0) throw ArgError(ArgError::Range, "ptr must not be 0 (a null device address)");
  ensureContext(device);
  int ordinal = -1;
  CUresult status = driver().cuPointerGetAttribute(&ordinal, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, ptr);
  if (isStickyError(status)) check(status, "cuPointerGetAttribute");
  if (status != CUDA_SUCCESS)
    throw ArgError(ArgError::Range, "ptr " + hex(ptr) + " is not memory the CUDA driver knows (cuPointerGetAttribute: " +
                                        cudaErrorName(status) + ")");
  if (ordinal != device)
    throw ArgError(ArgError::Range, "ptr " + hex(ptr) + " is memory of device " + std::to_string(ordinal) +
                                        ", not of device " + std::to_string(device));
  return std::unique_ptr<DeviceAllocation>(new DeviceAllocation(ptr, bytes, device, false));
}

void DeviceAllocation::release() {
  if (!ptr_) return;
  if (owned_) destroyQuietly(device_, [&](const DriverApi& api) { api.cuMemFree(ptr_); });
  ptr_ = 0;
}

LoadedModule::LoadedModule(const void* image, int device) : device_(device) {
  ensureContext(device);
  check(driver().cuModuleLoadData(&module_, image), "cuModuleLoadData");
}

void LoadedModule::release() {
  if (!module_) return;
  destroyQuietly(device_, [&](const DriverApi& api) { api.cuModuleUnload(module_); });
  module_ = nullptr;
}

CUfunction KernelHandle::get() const {
  if (!module || module->released())
    throw std::logic_error("kernel '" + name + "' belongs to a disposed Module");
  return function;
}

std::unique_ptr<Stream> Stream::create(int device) {
  ensureContext(device);
  CUstream stream = nullptr;
  check(driver().cuStreamCreate(&stream, CU_STREAM_DEFAULT), "cuStreamCreate");
  return std::unique_ptr<Stream>(new Stream(stream, device, true));
}

std::unique_ptr<Stream> Stream::legacyDefault(int device) {
  ensureContext(device);  // checks that the device exists
  return std::unique_ptr<Stream>(new Stream(nullptr, device, false));
}

void Stream::release() {
  if (released_) return;
  released_ = true;
  if (owned_ && stream_) destroyQuietly(device_, [&](const DriverApi& api) { api.cuStreamDestroy(stream_); });
  stream_ = nullptr;
}

Event::Event(int device, unsigned flags) : device_(device) {
  check(driver().cuEventCreate(&event_, flags), "cuEventCreate");
}

Event::~Event() {
  if (event_) destroyQuietly(device_, [&](const DriverApi& api) { api.cuEventDestroy(event_); });
}

void Event::record(CUstream stream) { check(driver().cuEventRecord(event_, stream), "cuEventRecord"); }

bool Event::done() const {
  ensureContext(device_);
  CUresult status = driver().cuEventQuery(event_);
  if (status == CUDA_ERROR_NOT_READY) return false;
  check(status, "cuEventQuery");
  return true;
}

void Event::synchronize() const {
  ensureContext(device_);
  check(driver().cuEventSynchronize(event_), "cuEventSynchronize");
}

}  // namespace stagewise
