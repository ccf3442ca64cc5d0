// Errors thrown by the native core (no N-API here): napi_errors.h turns them into JS errors.
#pragma once
#include <stdexcept>
#include <string>
#include "cuda_api.h"

namespace stagewise {

// A bad argument, caught before any driver call: becomes a JS TypeError or RangeError.
struct ArgError : std::invalid_argument {
  enum Kind { Type, Range } kind;
  ArgError(Kind k, const std::string& message) : std::invalid_argument(message), kind(k) {}
};

// A failed CUDA or NVRTC call: message "call: NAME", `name` also becomes the JS error's code.
struct CudaError : std::runtime_error {
  std::string call, name;
  CudaError(const std::string& call_, const std::string& name_, const std::string& detail = "")
      : std::runtime_error(call_ + ": " + name_ + (detail.empty() ? "" : " (" + detail + ")")),
        call(call_), name(name_) {}
};

// The CUDA_ERROR_* name of a driver status, from the table in cuda.h 13.0
// ("CUDA_ERROR_UNKNOWN_<n>" for codes it lacks). Used when cuGetErrorName is unavailable.
std::string cudaErrorNameFallback(CUresult status);

// Errors after which the context is unusable for the rest of the process (a kernel fault).
bool isStickyError(CUresult status);

}  // namespace stagewise
