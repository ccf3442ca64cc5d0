// encodeTensorMap: cuTensorMapEncodeTiled into 128 bytes the kernel takes by value. The TS
// wrapper (src/runtime/tensormap.ts) checks every rule first and names the argument; here only
// shapes are checked so that nothing out of bounds is read.
#include <cstring>
#include "napi_common.h"
#include "napi_exports.h"

namespace stagewise {

namespace {
template <typename T>
std::vector<T> integersArg(const Napi::Value& v, const char* what) {
  Napi::Array a = arrayArg(v, what);
  std::vector<T> out;
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(static_cast<T>(sizeArg(a.Get(i), what)));
  return out;
}
}  // namespace

// encodeTensorMap({ dataType, address: bigint, dims, stridesBytes, box, elementStrides,
//                   swizzle, l2Promotion, oobFill, device? }) -> Uint8Array(128); enums as cuda.h
// numbers; `device` (default 0) is the context made current for the call.
Napi::Value EncodeTensorMap(const Napi::CallbackInfo& info) {
  if (!info[0].IsObject()) throw ArgError(ArgError::Type, "tensor map description must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  auto dataType = static_cast<CUtensorMapDataType>(sizeArg(o.Get("dataType"), "dataType"));
  uint64_t address = bigintArg(o.Get("address"), "address");
  auto dims = integersArg<uint64_t>(o.Get("dims"), "dims");
  auto strides = integersArg<uint64_t>(o.Get("stridesBytes"), "stridesBytes");
  auto box = integersArg<uint32_t>(o.Get("box"), "box");
  auto elementStrides = integersArg<uint32_t>(o.Get("elementStrides"), "elementStrides");
  const size_t rank = dims.size();
  if (rank < 1 || rank > 5 || strides.size() != rank - 1 || box.size() != rank || elementStrides.size() != rank)
    throw ArgError(ArgError::Range, "tensor map: rank 1..5 with rank-1 strides and rank box/elementStrides entries");
  int swizzle = static_cast<int>(sizeArg(o.Get("swizzle"), "swizzle"));
  int l2 = static_cast<int>(sizeArg(o.Get("l2Promotion"), "l2Promotion"));
  int oob = static_cast<int>(sizeArg(o.Get("oobFill"), "oobFill"));
  Napi::Value device = o.Get("device");
  ensureContext(device.IsUndefined() ? 0 : deviceArg(device));
  CUtensorMap map{};
  check(driver().cuTensorMapEncodeTiled(&map, dataType, static_cast<uint32_t>(rank), reinterpret_cast<void*>(address),
                                        dims.data(), strides.data(), box.data(), elementStrides.data(), 0, swizzle, l2,
                                        oob),
        "cuTensorMapEncodeTiled");
  Napi::Uint8Array out = Napi::Uint8Array::New(info.Env(), sizeof(map));
  std::memcpy(out.Data(), &map, sizeof(map));
  return out;
}

}  // namespace stagewise
