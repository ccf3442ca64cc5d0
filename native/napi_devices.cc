#include "driver.h"
#include "napi_common.h"
#include "napi_exports.h"
#include "nvrtc.h"

namespace stagewise {

// { devices, reason?, driverVersion?, contextLost? }: a missing driver or device is a reason,
// never an exception.
Napi::Value Devices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  Napi::Array list = Napi::Array::New(env);
  out.Set("devices", list);
  std::string reason;
  if (!loadDriver(&reason)) {
    out.Set("reason", "CUDA driver not loaded: " + reason);
    return out;
  }
  try {
    out.Set("driverVersion", driverVersion());
    uint32_t i = 0;
    for (const DeviceInfo& d : listDevices()) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("index", d.index);
      o.Set("name", d.name);
      Napi::Array cc = Napi::Array::New(env, 2);
      cc.Set(0u, d.ccMajor);
      cc.Set(1u, d.ccMinor);
      o.Set("computeCapability", cc);
      o.Set("smCount", d.smCount);
      o.Set("maxSharedMemoryPerBlockOptin", d.maxSharedOptin);
      o.Set("l2CacheBytes", d.l2Bytes);
      o.Set("totalMemoryBytes", static_cast<double>(d.totalMemoryBytes));
      list.Set(i++, o);
    }
    if (i == 0) out.Set("reason", "the CUDA driver reports no device");
  } catch (const CudaError& e) {
    out.Set("reason", e.what());
  }
  std::string lost = contextLostReason();
  if (!lost.empty()) out.Set("contextLost", lost);
  return out;
}

// { loaded, path?, version?: [major, minor], reason? }
Napi::Value NvrtcInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const NvrtcStatus& st = nvrtcStatus();
  Napi::Object out = Napi::Object::New(env);
  out.Set("loaded", st.loaded);
  if (st.loaded) {
    out.Set("path", st.path);
    Napi::Array version = Napi::Array::New(env, 2);
    version.Set(0u, st.major);
    version.Set(1u, st.minor);
    out.Set("version", version);
  } else {
    out.Set("reason", st.reason);
  }
  return out;
}

// synchronize(device?): cuCtxSynchronize on the JS thread (blocks it; see eventWait for the
// non-blocking way).
Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  ensureContext(info.Length() > 0 && !info[0].IsUndefined() ? deviceArg(info[0]) : 0);
  check(driver().cuCtxSynchronize(), "cuCtxSynchronize");
  return info.Env().Undefined();
}

}  // namespace stagewise
