#include "resources.h"

namespace stagewise {

DeviceAllocation::DeviceAllocation(size_t bytes) : bytes_(bytes) {
  ensureContext();
  check(driver().cuMemAlloc(&ptr_, bytes), "cuMemAlloc");
}

void DeviceAllocation::release() {
  if (!ptr_) return;
  const DriverApi* api = loadDriver();
  if (api && contextLostReason().empty()) {
    try {
      ensureContext();
      api->cuMemFree(ptr_);
    } catch (...) {
    }
  }
  ptr_ = 0;
}

LoadedModule::LoadedModule(const void* image) {
  ensureContext();
  check(driver().cuModuleLoadData(&module_, image), "cuModuleLoadData");
}

void LoadedModule::release() {
  if (!module_) return;
  const DriverApi* api = loadDriver();
  if (api && contextLostReason().empty()) {
    try {
      ensureContext();
      api->cuModuleUnload(module_);
    } catch (...) {
    }
  }
  module_ = nullptr;
}

CUfunction KernelHandle::get() const {
  if (!module || module->released())
    throw std::logic_error("kernel '" + name + "' belongs to a disposed Module");
  return function;
}

Event::Event() { check(driver().cuEventCreate(&event_, 0), "cuEventCreate"); }

Event::~Event() {
  const DriverApi* api = loadDriver();
  if (event_ && api && contextLostReason().empty()) api->cuEventDestroy(event_);
}

}  // namespace stagewise
