// Device memory. Every size and offset is checked against the allocation here too (the TS
// wrapper checks first, with friendlier messages), so no call can reach past a buffer.
#include <cstdint>
#include "napi_common.h"
#include "napi_exports.h"

namespace stagewise {

namespace {

DeviceAllocation& liveBuffer(const Napi::Value& v) {
  DeviceAllocation& alloc = unwrapHandle<DeviceAllocation>(v);
  if (alloc.released()) throw ArgError(ArgError::Type, "DeviceBuffer used after dispose()");
  return alloc;
}

void requireSpan(const DeviceAllocation& alloc, uint64_t offset, uint64_t bytes, const char* what) {
  if (offset > alloc.bytes() || bytes > alloc.bytes() - offset)
    throw ArgError(ArgError::Range, std::string(what) + ": " + std::to_string(bytes) + " bytes at offset " +
                                        std::to_string(offset) + " exceed the buffer's " +
                                        std::to_string(alloc.bytes()) + " bytes");
}

}  // namespace

// memAlloc(bytes, device) -> { handle, ptr: bigint }
Napi::Value MemAlloc(const Napi::CallbackInfo& info) {
  uint64_t bytes = sizeArg(info[0], "bytes");
  int device = deviceArg(info[1]);
  if (bytes == 0) throw ArgError(ArgError::Range, "bytes must be at least 1");
  auto* alloc = new DeviceAllocation(bytes, device);
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("ptr", Napi::BigInt::New(info.Env(), static_cast<uint64_t>(alloc->ptr())));
  out.Set("handle", wrapHandle(info.Env(), alloc));
  return out;
}

// memWrap(ptr: bigint, bytes, device) -> handle over memory someone else owns (never freed here)
Napi::Value MemWrap(const Napi::CallbackInfo& info) {
  uint64_t ptr = bigintArg(info[0], "ptr");
  uint64_t bytes = sizeArg(info[1], "bytes");
  int device = deviceArg(info[2]);
  if (bytes == 0) throw ArgError(ArgError::Range, "bytes must be at least 1");
  if (ptr > UINT64_MAX - bytes) throw ArgError(ArgError::Range, "ptr + bytes passes the end of the address space");
  return wrapHandle(info.Env(), DeviceAllocation::borrow(ptr, bytes, device).release());
}

Napi::Value MemFree(const Napi::CallbackInfo& info) {
  unwrapHandle<DeviceAllocation>(info[0]).release();
  return info.Env().Undefined();
}

// memUpload(handle, src: Uint8Array, dstOffset)
Napi::Value MemUpload(const Napi::CallbackInfo& info) {
  DeviceAllocation& dst = liveBuffer(info[0]);
  Napi::Uint8Array src = bytesArg(info[1], "src");
  uint64_t offset = sizeArg(info[2], "dstOffsetBytes");
  requireSpan(dst, offset, src.ByteLength(), "upload");
  ensureContext(dst.device());
  if (src.ByteLength()) check(driver().cuMemcpyHtoD(dst.ptr() + offset, src.Data(), src.ByteLength()), "cuMemcpyHtoD");
  return info.Env().Undefined();
}

// memDownload(handle, dst: Uint8Array, srcOffset)
Napi::Value MemDownload(const Napi::CallbackInfo& info) {
  DeviceAllocation& src = liveBuffer(info[0]);
  Napi::Uint8Array dst = bytesArg(info[1], "dst");
  uint64_t offset = sizeArg(info[2], "srcOffsetBytes");
  requireSpan(src, offset, dst.ByteLength(), "download");
  ensureContext(src.device());
  if (dst.ByteLength()) check(driver().cuMemcpyDtoH(dst.Data(), src.ptr() + offset, dst.ByteLength()), "cuMemcpyDtoH");
  return info.Env().Undefined();
}

// memCopy(dst, src, bytes, dstOffset, srcOffset)
Napi::Value MemCopy(const Napi::CallbackInfo& info) {
  DeviceAllocation& dst = liveBuffer(info[0]);
  DeviceAllocation& src = liveBuffer(info[1]);
  uint64_t bytes = sizeArg(info[2], "bytes");
  uint64_t dstOffset = sizeArg(info[3], "dstOffsetBytes");
  uint64_t srcOffset = sizeArg(info[4], "srcOffsetBytes");
  requireSpan(dst, dstOffset, bytes, "copyFrom destination");
  requireSpan(src, srcOffset, bytes, "copyFrom source");
  ensureContext(dst.device());
  if (bytes) check(driver().cuMemcpyDtoD(dst.ptr() + dstOffset, src.ptr() + srcOffset, bytes), "cuMemcpyDtoD");
  return info.Env().Undefined();
}

// memSet(handle, widthBytes: 1 | 2 | 4, value): fills the whole buffer with the pattern.
Napi::Value MemSet(const Napi::CallbackInfo& info) {
  DeviceAllocation& buf = liveBuffer(info[0]);
  uint64_t width = sizeArg(info[1], "width");
  uint64_t value = sizeArg(info[2], "value");
  if (width != 1 && width != 2 && width != 4) throw ArgError(ArgError::Range, "memset width must be 1, 2 or 4 bytes");
  if (value >> (8 * width)) throw ArgError(ArgError::Range, "memset value does not fit in " + std::to_string(width) + " bytes");
  if (buf.bytes() % width)
    throw ArgError(ArgError::Range, "buffer of " + std::to_string(buf.bytes()) + " bytes is not a multiple of " +
                                        std::to_string(width) + " bytes");
  ensureContext(buf.device());
  const DriverApi& api = driver();
  size_t count = buf.bytes() / width;
  if (width == 1) check(api.cuMemsetD8(buf.ptr(), static_cast<unsigned char>(value), count), "cuMemsetD8");
  if (width == 2) check(api.cuMemsetD16(buf.ptr(), static_cast<unsigned short>(value), count), "cuMemsetD16");
  if (width == 4) check(api.cuMemsetD32(buf.ptr(), static_cast<unsigned>(value), count), "cuMemsetD32");
  return info.Env().Undefined();
}

}  // namespace stagewise
