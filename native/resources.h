// RAII owners of driver handles. Destructors run on the JS thread (explicit dispose or a GC
// finalizer) and ignore failures: after a kernel fault the context is gone and so are they.
#pragma once
#include <memory>
#include <string>
#include "driver.h"

namespace stagewise {

class DeviceAllocation {
 public:
  explicit DeviceAllocation(size_t bytes);
  ~DeviceAllocation() { release(); }
  DeviceAllocation(const DeviceAllocation&) = delete;
  DeviceAllocation& operator=(const DeviceAllocation&) = delete;

  CUdeviceptr ptr() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  bool released() const { return ptr_ == 0; }
  void release();

 private:
  CUdeviceptr ptr_ = 0;
  size_t bytes_ = 0;
};

class LoadedModule {
 public:
  explicit LoadedModule(const void* image);
  ~LoadedModule() { release(); }
  LoadedModule(const LoadedModule&) = delete;
  LoadedModule& operator=(const LoadedModule&) = delete;

  CUmodule get() const { return module_; }
  bool released() const { return module_ == nullptr; }
  void release();

 private:
  CUmodule module_ = nullptr;
};

// A kernel keeps its module alive; a disposed module makes the kernel refuse to run.
struct KernelHandle {
  std::shared_ptr<LoadedModule> module;
  CUfunction function = nullptr;
  std::string name;
  CUfunction get() const;
};

class Event {
 public:
  Event();
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  CUevent get() const { return event_; }

 private:
  CUevent event_ = nullptr;
};

}  // namespace stagewise
