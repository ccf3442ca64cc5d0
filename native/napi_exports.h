// The addon's exports, one function each; napi_addon.cc is the table that names them.
#pragma once
#include <napi.h>

namespace stagewise {

// napi_devices.cc
Napi::Value Devices(const Napi::CallbackInfo& info);
Napi::Value NvrtcInfo(const Napi::CallbackInfo& info);
Napi::Value Synchronize(const Napi::CallbackInfo& info);
// napi_memory.cc
Napi::Value MemAlloc(const Napi::CallbackInfo& info);
Napi::Value MemWrap(const Napi::CallbackInfo& info);
Napi::Value MemFree(const Napi::CallbackInfo& info);
Napi::Value MemUpload(const Napi::CallbackInfo& info);
Napi::Value MemDownload(const Napi::CallbackInfo& info);
Napi::Value MemCopy(const Napi::CallbackInfo& info);
Napi::Value MemSet(const Napi::CallbackInfo& info);
// napi_compile.cc
Napi::Value Compile(const Napi::CallbackInfo& info);
// napi_kernels.cc
Napi::Value ModuleLoad(const Napi::CallbackInfo& info);
Napi::Value ModuleUnload(const Napi::CallbackInfo& info);
Napi::Value ModuleGetFunction(const Napi::CallbackInfo& info);
Napi::Value FuncSetMaxDynamicShared(const Napi::CallbackInfo& info);
Napi::Value FuncMaxActiveClusters(const Napi::CallbackInfo& info);
Napi::Value FuncAttributes(const Napi::CallbackInfo& info);
Napi::Value TimeLaunches(const Napi::CallbackInfo& info);
Napi::Value SpecPrepare(const Napi::CallbackInfo& info);
Napi::Value LaunchSpecHandle(const Napi::CallbackInfo& info);
// napi_streams.cc
Napi::Value StreamCreate(const Napi::CallbackInfo& info);
Napi::Value StreamDefault(const Napi::CallbackInfo& info);
Napi::Value StreamDestroy(const Napi::CallbackInfo& info);
Napi::Value StreamSynchronizeAsync(const Napi::CallbackInfo& info);
Napi::Value EventRecord(const Napi::CallbackInfo& info);
Napi::Value EventQuery(const Napi::CallbackInfo& info);
Napi::Value EventWait(const Napi::CallbackInfo& info);
Napi::Value EventDestroy(const Napi::CallbackInfo& info);
// napi_tensormap.cc
Napi::Value EncodeTensorMap(const Napi::CallbackInfo& info);

}  // namespace stagewise
