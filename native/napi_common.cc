#include "napi_common.h"

#include <cmath>
#include "nvrtc.h"

namespace stagewise {

Napi::Error toJsError(Napi::Env env, const std::exception& e) {
  // The JS object keeps its class (TypeError, RangeError) when returned as a Napi::Error.
  if (auto* arg = dynamic_cast<const ArgError*>(&e)) {
    if (arg->kind == ArgError::Type) return Napi::TypeError::New(env, e.what());
    return Napi::RangeError::New(env, e.what());
  }
  Napi::Error err = Napi::Error::New(env, e.what());
  if (auto* cuda = dynamic_cast<const CudaError*>(&e)) {
    err.Set("code", cuda->name);
    err.Set("call", cuda->call);
  }
  if (auto* failure = dynamic_cast<const CompileFailure*>(&e)) {
    err.Set("code", "NVRTC_ERROR_COMPILATION");
    err.Set("log", failure->log);
  }
  return err;
}

PromiseWorker::PromiseWorker(Napi::Env env, const char* resourceName)
    : Napi::AsyncWorker(env, resourceName), deferred_(Napi::Promise::Deferred::New(env)) {}

void PromiseWorker::Execute() {
  try {
    run();
  } catch (const std::exception& e) {
    failure_ = std::current_exception();
    SetError(e.what());
  }
}

void PromiseWorker::OnOK() { deferred_.Resolve(resolve(Env())); }

void PromiseWorker::OnError(const Napi::Error& fallback) {
  try {
    if (failure_) std::rethrow_exception(failure_);
    deferred_.Reject(fallback.Value());
  } catch (const std::exception& e) {
    deferred_.Reject(toJsError(Env(), e).Value());
  }
}

double numberArg(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw ArgError(ArgError::Type, std::string(what) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

uint64_t sizeArg(const Napi::Value& v, const char* what) {
  if (v.IsBigInt()) return bigintArg(v, what);
  double d = numberArg(v, what);
  if (!std::isfinite(d) || d != std::floor(d) || d < 0 || d > 9007199254740991.0)
    throw ArgError(ArgError::Range, std::string(what) + " must be a non-negative safe integer");
  return static_cast<uint64_t>(d);
}

uint64_t bigintArg(const Napi::Value& v, const char* what) {
  if (!v.IsBigInt()) throw ArgError(ArgError::Type, std::string(what) + " must be a bigint");
  bool lossless = true;
  uint64_t value = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw ArgError(ArgError::Range, std::string(what) + " must fit in 64 unsigned bits");
  return value;
}

std::string stringArg(const Napi::Value& v, const char* what) {
  if (!v.IsString()) throw ArgError(ArgError::Type, std::string(what) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Uint8Array bytesArg(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw ArgError(ArgError::Type, std::string(what) + " must be a Uint8Array");
  return v.As<Napi::Uint8Array>();
}

Napi::Array arrayArg(const Napi::Value& v, const char* what) {
  if (!v.IsArray()) throw ArgError(ArgError::Type, std::string(what) + " must be an array");
  return v.As<Napi::Array>();
}

int deviceArg(const Napi::Value& v) {
  uint64_t device = sizeArg(v, "device");
  if (device > 2147483647u) throw ArgError(ArgError::Range, "device must be at most 2^31-1");
  return static_cast<int>(device);
}

}  // namespace stagewise
