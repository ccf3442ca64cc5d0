// RAII owners of driver handles. Destructors run on the JS thread (explicit dispose or a GC
// finalizer) and ignore failures: after a kernel fault the context is gone and so are they.
// Each handle remembers its device, whose primary context it makes current before every use.
#pragma once
#include <memory>
#include <string>
#include "driver.h"

namespace stagewise {

class DeviceAllocation {
 public:
  // cuMemAlloc on `device`; freed by release() or the destructor.
  DeviceAllocation(size_t bytes, int device);
  // Memory another library in this process owns (a PyTorch tensor, say): never freed here.
  // ArgError unless the driver knows `ptr` as memory of `device`.
  static std::unique_ptr<DeviceAllocation> borrow(CUdeviceptr ptr, size_t bytes, int device);
  ~DeviceAllocation() { release(); }
  DeviceAllocation(const DeviceAllocation&) = delete;
  DeviceAllocation& operator=(const DeviceAllocation&) = delete;

  CUdeviceptr ptr() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  int device() const { return device_; }
  bool owned() const { return owned_; }
  bool released() const { return ptr_ == 0; }
  // Frees owned memory; forgets borrowed memory. Idempotent.
  void release();

 private:
  DeviceAllocation(CUdeviceptr ptr, size_t bytes, int device, bool owned)
      : ptr_(ptr), bytes_(bytes), device_(device), owned_(owned) {}
  CUdeviceptr ptr_ = 0;
  size_t bytes_ = 0;
  int device_ = 0;
  bool owned_ = true;
};

class LoadedModule {
 public:
  LoadedModule(const void* image, int device);
  ~LoadedModule() { release(); }
  LoadedModule(const LoadedModule&) = delete;
  LoadedModule& operator=(const LoadedModule&) = delete;

  CUmodule get() const { return module_; }
  int device() const { return device_; }
  bool released() const { return module_ == nullptr; }
  void release();

 private:
  CUmodule module_ = nullptr;
  int device_ = 0;
};

// A kernel keeps its module alive; a disposed module makes the kernel refuse to run.
struct KernelHandle {
  std::shared_ptr<LoadedModule> module;
  CUfunction function = nullptr;
  std::string name;
  CUfunction get() const;
  int device() const { return module->device(); }
};

// A stream of one device: a created (blocking) stream, or that device's legacy default stream,
// which is not ours to destroy.
class Stream {
 public:
  // cuStreamCreate(CU_STREAM_DEFAULT): ordered with the legacy default stream, so the
  // synchronous copies (uploads, downloads) need no extra synchronisation around it.
  static std::unique_ptr<Stream> create(int device);
  static std::unique_ptr<Stream> legacyDefault(int device);
  ~Stream() { release(); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  CUstream get() const { return stream_; }
  int device() const { return device_; }
  bool released() const { return released_; }
  void release();

 private:
  Stream(CUstream stream, int device, bool owned) : stream_(stream), device_(device), owned_(owned) {}
  CUstream stream_ = nullptr;
  int device_ = 0;
  bool owned_ = false;
  bool released_ = false;
};

// A CUDA event on one device. The caller makes the device's context current before creating or
// recording one; synchronize() does so itself, because it runs on a worker thread.
class Event {
 public:
  explicit Event(int device = 0, unsigned flags = CU_EVENT_DEFAULT);
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  Event(Event&& other) noexcept : event_(other.event_), device_(other.device_) { other.event_ = nullptr; }
  Event& operator=(Event&&) = delete;
  CUevent get() const { return event_; }
  int device() const { return device_; }

  void record(CUstream stream);
  // True once the work captured by the last record() has finished (cuEventQuery).
  bool done() const;
  // Blocks the calling thread until then (cuEventSynchronize). A kernel fault surfaces here as a
  // CudaError and, being sticky, marks the context lost.
  void synchronize() const;

 private:
  CUevent event_ = nullptr;
  int device_ = 0;
};

}  // namespace stagewise
