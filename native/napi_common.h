// Shared helpers of the N-API layer: the error guard, argument readers, tagged handles.
#pragma once
#include <napi.h>

#include <exception>
#include <string>
#include "errors.h"
#include "launch.h"
#include "resources.h"

namespace stagewise {

// Runs an export, turning core exceptions into JS errors: ArgError -> TypeError/RangeError,
// CudaError -> Error with .code (the CUDA/NVRTC error name) and .call, others -> Error.
Napi::Error toJsError(Napi::Env env, const std::exception& e);

template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  try {
    return Fn(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw toJsError(info.Env(), e);
  }
}

// Argument readers; each throws TypeError/RangeError naming `what`.
double numberArg(const Napi::Value& v, const char* what);
uint64_t sizeArg(const Napi::Value& v, const char* what);  // non-negative safe integer or BigInt
uint64_t bigintArg(const Napi::Value& v, const char* what);
std::string stringArg(const Napi::Value& v, const char* what);
Napi::Uint8Array bytesArg(const Napi::Value& v, const char* what);
Napi::Array arrayArg(const Napi::Value& v, const char* what);
int deviceArg(const Napi::Value& v);  // a device index; its existence is checked by ensureContext

// A Promise settled by work done off the JS thread, sharp-style: the subclass copies its
// arguments into plain C++ members on the JS thread, run() works on a libuv worker thread
// without touching N-API, and resolve() builds the value back on the JS thread. Whatever run()
// throws rejects the Promise with the JS error a synchronous export would have thrown (toJsError).
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* resourceName);
  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  virtual void run() = 0;
  virtual Napi::Value resolve(Napi::Env env) = 0;

 private:
  void Execute() final;
  void OnOK() final;
  void OnError(const Napi::Error& fallback) final;
  Napi::Promise::Deferred deferred_;
  std::exception_ptr failure_;
};

// Native objects handed to JS as externals, type-tagged so one kind is never taken for another.
struct ModuleHandle {
  std::shared_ptr<LoadedModule> module;
};

// Shared so that a wait in flight keeps the event alive when JS disposes it meanwhile.
struct EventHandle {
  std::shared_ptr<Event> event;
};

// A launch checked and encoded once (prepareLaunch): a repeated launch passes this handle instead
// of re-reading its grid and every argument from JS objects.
struct PreparedSpec {
  LaunchSpec spec;
};

template <typename T>
struct HandleKind;
template <>
struct HandleKind<DeviceAllocation> {
  static constexpr napi_type_tag tag{0x5354414745574953ull, 0x0000000000000001ull};
  static constexpr const char* name = "DeviceBuffer";
};
template <>
struct HandleKind<ModuleHandle> {
  static constexpr napi_type_tag tag{0x5354414745574953ull, 0x0000000000000002ull};
  static constexpr const char* name = "Module";
};
template <>
struct HandleKind<KernelHandle> {
  static constexpr napi_type_tag tag{0x5354414745574953ull, 0x0000000000000003ull};
  static constexpr const char* name = "KernelFunction";
};
template <>
struct HandleKind<Stream> {
  static constexpr napi_type_tag tag{0x5354414745574953ull, 0x0000000000000004ull};
  static constexpr const char* name = "Stream";
};
template <>
struct HandleKind<EventHandle> {
  static constexpr napi_type_tag tag{0x5354414745574953ull, 0x0000000000000005ull};
  static constexpr const char* name = "Event";
};
template <>
struct HandleKind<PreparedSpec> {
  static constexpr napi_type_tag tag{0x5354414745574953ull, 0x0000000000000006ull};
  static constexpr const char* name = "PreparedLaunch";
};

template <typename T>
Napi::External<T> wrapHandle(Napi::Env env, T* object) {
  auto ext = Napi::External<T>::New(env, object, [](Napi::Env, T* p) { delete p; });
  ext.TypeTag(&HandleKind<T>::tag);
  return ext;
}

template <typename T>
T& unwrapHandle(const Napi::Value& v) {
  if (!v.IsExternal() || !v.As<Napi::External<T>>().CheckTypeTag(&HandleKind<T>::tag))
    throw ArgError(ArgError::Type, std::string("expected a native ") + HandleKind<T>::name + " handle");
  return *v.As<Napi::External<T>>().Data();
}

}  // namespace stagewise
