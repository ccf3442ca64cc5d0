// The addon's entry: a short table of exports. Every export runs inside guarded<>, so no C++
// exception reaches N-API unconverted; src/runtime/ wraps these in typed, checked functions.
#include "napi_common.h"
#include "napi_exports.h"

namespace stagewise {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  struct Entry {
    const char* name;
    Napi::Value (*fn)(const Napi::CallbackInfo&);
  };
  const Entry table[] = {
      {"devices", guarded<Devices>},
      {"nvrtcInfo", guarded<NvrtcInfo>},
      {"synchronize", guarded<Synchronize>},
      {"memAlloc", guarded<MemAlloc>},
      {"memWrap", guarded<MemWrap>},
      {"memFree", guarded<MemFree>},
      {"memUpload", guarded<MemUpload>},
      {"memDownload", guarded<MemDownload>},
      {"memCopy", guarded<MemCopy>},
      {"memSet", guarded<MemSet>},
      {"compile", guarded<Compile>},
      {"moduleLoad", guarded<ModuleLoad>},
      {"moduleUnload", guarded<ModuleUnload>},
      {"moduleGetFunction", guarded<ModuleGetFunction>},
      {"funcSetMaxDynamicShared", guarded<FuncSetMaxDynamicShared>},
      {"funcMaxActiveClusters", guarded<FuncMaxActiveClusters>},
      {"funcAttributes", guarded<FuncAttributes>},
      {"timeLaunches", guarded<TimeLaunches>},
      {"specPrepare", guarded<SpecPrepare>},
      {"launchSpec", guarded<LaunchSpecHandle>},
      {"streamCreate", guarded<StreamCreate>},
      {"streamDefault", guarded<StreamDefault>},
      {"streamDestroy", guarded<StreamDestroy>},
      {"streamSynchronizeAsync", guarded<StreamSynchronizeAsync>},
      {"eventRecord", guarded<EventRecord>},
      {"eventQuery", guarded<EventQuery>},
      {"eventWait", guarded<EventWait>},
      {"eventDestroy", guarded<EventDestroy>},
      {"encodeTensorMap", guarded<EncodeTensorMap>},
  };
  for (const auto& entry : table) exports.Set(entry.name, Napi::Function::New(env, entry.fn, entry.name));
  return exports;
}

}  // namespace stagewise

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return stagewise::Init(env, exports); }

NODE_API_MODULE(stagewise, InitAddon)
