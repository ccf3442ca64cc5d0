// NVRTC, opened with dlopen at first use; source -> cubin, with the whole log on failure.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>
#include "cuda_api.h"

namespace stagewise {

struct NvrtcApi {
#define STAGEWISE_DECLARE(name, sym, type) \
  using name##_fn = type;                  \
  name##_fn name = nullptr;
  STAGEWISE_NVRTC_FUNCTIONS(STAGEWISE_DECLARE)
#undef STAGEWISE_DECLARE
};

struct NvrtcStatus {
  bool loaded = false;
  std::string path;    // the file the loader opened
  int major = 0, minor = 0;
  std::string reason;  // why not, when !loaded
};

// Where to look, in order: $STAGEWISE_NVRTC_PATH alone when set; else the sonames
// libnvrtc.so.13 and .12 on the loader's path, then each under $CUDA_HOME/lib64,
// /usr/local/cuda/lib64 and /usr/local/cuda/targets/x86_64-linux/lib.
std::vector<std::string> nvrtcCandidates(const char* overridePath, const char* cudaHome);

// Loads once (from the environment) and reports; never throws.
const NvrtcStatus& nvrtcStatus();

struct CompileRequest {
  std::string source, name;
  std::vector<std::string> headerNames, headerSources, options;
};

struct CompileResult {
  std::vector<char> cubin;
  std::string log;
};

// NVRTC rejected the source: the message is "nvrtcCompileProgram: <status>" plus the log.
struct CompileFailure : std::runtime_error {
  std::string log;
  CompileFailure(const std::string& status, const std::string& log_)
      : std::runtime_error("nvrtcCompileProgram: " + status + "\n" + log_), log(log_) {}
};

// Compiles to a cubin. Safe on any thread: NVRTC needs no CUDA context.
// Throws CudaError (NVRTC missing, or an NVRTC call failed) or CompileFailure.
CompileResult compileToCubin(const CompileRequest& request);

}  // namespace stagewise
