// Modules, kernels, launches and launch timing.
#include <cmath>
#include "launch.h"
#include "napi_common.h"
#include "napi_exports.h"

namespace stagewise {

namespace {

// Parameter tags, as src/runtime/launch.ts encodes them: [tag, value] pairs.
enum ParamTag : uint32_t { kU64 = 0, kI32 = 1, kU32 = 2, kF32 = 3, kBytes = 4 };

int64_t integerIn(const Napi::Value& v, const char* what, double lo, double hi) {
  double d = numberArg(v, what);
  if (d != std::floor(d) || d < lo || d > hi)
    throw ArgError(ArgError::Range, std::string(what) + " must be an integer in " + std::to_string(int64_t(lo)) + ".." +
                                        std::to_string(int64_t(hi)));
  return static_cast<int64_t>(d);
}

std::array<uint32_t, 3> dimsArg(const Napi::Value& v, const char* what) {
  Napi::Array a = arrayArg(v, what);
  if (a.Length() != 3) throw ArgError(ArgError::Type, std::string(what) + " must be [x, y, z]");
  std::array<uint32_t, 3> dims;
  for (uint32_t i = 0; i < 3; ++i) dims[i] = static_cast<uint32_t>(integerIn(a.Get(i), what, 0, 4294967295.0));
  return dims;
}

void addParam(ParamPack& pack, const Napi::Value& entry) {
  Napi::Array pair = arrayArg(entry, "kernel parameter");
  uint32_t tag = static_cast<uint32_t>(integerIn(pair.Get(0u), "parameter tag", 0, kBytes));
  Napi::Value value = pair.Get(1u);
  switch (tag) {
    case kU64: pack.addU64(bigintArg(value, "u64 parameter")); break;
    case kI32: pack.addI32(static_cast<int32_t>(integerIn(value, "i32 parameter", -2147483648.0, 2147483647.0))); break;
    case kU32: pack.addU32(static_cast<uint32_t>(integerIn(value, "u32 parameter", 0, 4294967295.0))); break;
    case kF32: pack.addF32(static_cast<float>(numberArg(value, "f32 parameter"))); break;
    case kBytes: {
      Napi::Uint8Array bytes = bytesArg(value, "bytes parameter");
      pack.addBytes(bytes.Data(), bytes.ByteLength());
      break;
    }
  }
}

// { grid, block, cluster?, sharedMemBytes, params: [tag, value][] }
LaunchSpec specArg(const Napi::Value& v) {
  if (!v.IsObject()) throw ArgError(ArgError::Type, "launch config must be an object");
  Napi::Object o = v.As<Napi::Object>();
  LaunchSpec spec;
  spec.grid = dimsArg(o.Get("grid"), "grid");
  spec.block = dimsArg(o.Get("block"), "block");
  Napi::Value cluster = o.Get("cluster");
  if (!cluster.IsUndefined() && !cluster.IsNull()) spec.cluster = dimsArg(cluster, "cluster");
  spec.sharedMemBytes = static_cast<uint32_t>(integerIn(o.Get("sharedMemBytes"), "sharedMemBytes", 0, 4294967295.0));
  Napi::Array params = arrayArg(o.Get("params"), "params");
  for (uint32_t i = 0; i < params.Length(); ++i) addParam(spec.params, params.Get(i));
  validateLaunch(spec);
  return spec;
}

}  // namespace

// moduleLoad(cubin: Uint8Array, device) -> handle
Napi::Value ModuleLoad(const Napi::CallbackInfo& info) {
  Napi::Uint8Array image = bytesArg(info[0], "cubin");
  int device = deviceArg(info[1]);
  if (image.ByteLength() == 0) throw ArgError(ArgError::Range, "cubin is empty");
  auto* handle = new ModuleHandle{std::make_shared<LoadedModule>(image.Data(), device)};
  return wrapHandle(info.Env(), handle);
}

Napi::Value ModuleUnload(const Napi::CallbackInfo& info) {
  unwrapHandle<ModuleHandle>(info[0]).module->release();
  return info.Env().Undefined();
}

// moduleGetFunction(module, name) -> handle
Napi::Value ModuleGetFunction(const Napi::CallbackInfo& info) {
  ModuleHandle& mod = unwrapHandle<ModuleHandle>(info[0]);
  std::string name = stringArg(info[1], "name");
  if (mod.module->released()) throw ArgError(ArgError::Type, "Module used after dispose()");
  ensureContext(mod.module->device());
  CUfunction fn = nullptr;
  try {
    check(driver().cuModuleGetFunction(&fn, mod.module->get(), name.c_str()), "cuModuleGetFunction");
  } catch (const CudaError& e) {
    throw CudaError(e.call, e.name, "no kernel named '" + name + "' (extern \"C\" avoids C++ name mangling)");
  }
  return wrapHandle(info.Env(), new KernelHandle{mod.module, fn, name});
}

Napi::Value FuncSetMaxDynamicShared(const Napi::CallbackInfo& info) {
  KernelHandle& kernel = unwrapHandle<KernelHandle>(info[0]);
  int bytes = static_cast<int>(integerIn(info[1], "bytes", 0, 2147483647.0));
  CUfunction fn = kernel.get();
  ensureContext(kernel.device());
  check(driver().cuFuncSetAttribute(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes), "cuFuncSetAttribute");
  return info.Env().Undefined();
}

// funcAttributes(kernel) -> { numRegs, localSizeBytes, maxThreadsPerBlock, sharedSizeBytes }
Napi::Value FuncAttributes(const Napi::CallbackInfo& info) {
  KernelHandle& kernel = unwrapHandle<KernelHandle>(info[0]);
  CUfunction fn = kernel.get();
  ensureContext(kernel.device());
  auto attr = [&](CUfunctionAttribute a) {
    int value = 0;
    check(driver().cuFuncGetAttribute(&value, a, fn), "cuFuncGetAttribute");
    return value;
  };
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("numRegs", attr(CU_FUNC_ATTRIBUTE_NUM_REGS));
  out.Set("localSizeBytes", attr(CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES));
  out.Set("maxThreadsPerBlock", attr(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK));
  out.Set("sharedSizeBytes", attr(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES));
  return out;
}

// funcMaxActiveClusters(kernel, clusterX, threads, sharedMemBytes) -> how many clusters of clusterX
// CTAs (threads each, that much dynamic shared memory) the device runs at once: a persistent grid
// of clusters larger than that runs a second wave (cuOccupancyMaxActiveClusters).
Napi::Value FuncMaxActiveClusters(const Napi::CallbackInfo& info) {
  KernelHandle& kernel = unwrapHandle<KernelHandle>(info[0]);
  const unsigned clusterX = static_cast<unsigned>(integerIn(info[1], "clusterX", 1, 16));
  const unsigned threads = static_cast<unsigned>(integerIn(info[2], "threads", 1, 1024));
  const unsigned smem = static_cast<unsigned>(integerIn(info[3], "sharedMemBytes", 0, 2147483647.0));
  ensureContext(kernel.device());
  CUlaunchAttribute attr{};
  attr.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
  attr.value.clusterDim.x = clusterX;
  attr.value.clusterDim.y = 1;
  attr.value.clusterDim.z = 1;
  // The grid only has to be a multiple of the cluster; the answer does not depend on it.
  CUlaunchConfig config{clusterX, 1, 1, threads, 1, 1, smem, nullptr, &attr, 1};
  int clusters = 0;
  check(driver().cuOccupancyMaxActiveClusters(&clusters, kernel.get(), &config), "cuOccupancyMaxActiveClusters");
  return Napi::Number::New(info.Env(), clusters);
}

// specPrepare(spec) -> handle: the spec checked and encoded once (no driver call, no device needed).
Napi::Value SpecPrepare(const Napi::CallbackInfo& info) {
  return wrapHandle(info.Env(), new PreparedSpec{specArg(info[0])});
}

// launchSpec(kernel, prepared, stream?): asynchronous, like the driver; errors of the kernel itself
// surface at the next synchronising call. Without a stream: the device's legacy default stream.
// Every launch goes through here: launch() prepares its spec first (src/runtime/launch.ts).
Napi::Value LaunchSpecHandle(const Napi::CallbackInfo& info) {
  KernelHandle& kernel = unwrapHandle<KernelHandle>(info[0]);
  PreparedSpec& prepared = unwrapHandle<PreparedSpec>(info[1]);
  CUstream stream = nullptr;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    Stream& s = unwrapHandle<Stream>(info[2]);
    if (s.released()) throw ArgError(ArgError::Type, "Stream used after dispose()");
    if (s.device() != kernel.device())
      throw ArgError(ArgError::Range, "stream is on device " + std::to_string(s.device()) + " but kernel '" + kernel.name +
                                          "' was loaded on device " + std::to_string(kernel.device()));
    stream = s.get();
  }
  ensureContext(kernel.device());
  launchKernel(kernel.get(), prepared.spec, stream);
  return info.Env().Undefined();
}

// timeLaunches(kernel, specs[], warmup, iterations) -> milliseconds per timed launch
Napi::Value TimeLaunches(const Napi::CallbackInfo& info) {
  KernelHandle& kernel = unwrapHandle<KernelHandle>(info[0]);
  CUfunction fn = kernel.get();
  Napi::Array configs = arrayArg(info[1], "configs");
  if (configs.Length() == 0) throw ArgError(ArgError::Range, "configs must not be empty");
  std::vector<LaunchSpec> specs;
  for (uint32_t i = 0; i < configs.Length(); ++i) specs.push_back(specArg(configs.Get(i)));
  int warmup = static_cast<int>(integerIn(info[2], "warmup", 0, 1e6));
  int iterations = static_cast<int>(integerIn(info[3], "iterations", 1, 1e6));
  ensureContext(kernel.device());
  std::vector<double> ms = timeLaunches(fn, specs, warmup, iterations, kernel.device());
  Napi::Array out = Napi::Array::New(info.Env(), ms.size());
  for (uint32_t i = 0; i < ms.size(); ++i) out.Set(i, ms[i]);
  return out;
}

}  // namespace stagewise
