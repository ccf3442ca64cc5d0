#include "nvrtc.h"

#include <cstdlib>
#include <iterator>
#include <mutex>
#include "dynlib.h"
#include "errors.h"

namespace stagewise {

namespace {

struct LoadedNvrtc {
  SharedLibrary lib;
  SharedLibrary builtins;
  NvrtcApi api;
  NvrtcStatus status;
};

LoadedNvrtc& loaded() {
  static LoadedNvrtc state;
  static std::once_flag once;
  std::call_once(once, [] {
    NvrtcStatus& st = state.status;
    state.lib = SharedLibrary::openFirst(nvrtcCandidates(std::getenv("STAGEWISE_NVRTC_PATH"), std::getenv("CUDA_HOME")),
                                         st.reason);
    if (!state.lib.isOpen()) return;
#define STAGEWISE_RESOLVE(name, sym, type)                                \
  state.api.name = reinterpret_cast<type>(state.lib.symbol(sym));         \
  if (!state.api.name) {                                                    \
    st.reason = std::string("the NVRTC library lacks ") + sym;           \
    return;                                                                 \
  }
    STAGEWISE_NVRTC_FUNCTIONS(STAGEWISE_RESOLVE)
#undef STAGEWISE_RESOLVE
    st.path = state.lib.pathOf("nvrtcVersion");
    if (state.api.nvrtcVersion(&st.major, &st.minor) != NVRTC_SUCCESS) {
      st.reason = "nvrtcVersion failed";
      return;
    }
    // NVRTC opens libnvrtc-builtins.so.M.m by soname at compile time; a copy opened here from
    // NVRTC's own directory satisfies that lookup, so STAGEWISE_NVRTC_PATH alone is enough.
    std::string dir = st.path.substr(0, st.path.find_last_of('/') + 1);
    std::string ignored;
    if (!dir.empty())
      state.builtins = SharedLibrary::openFirst(
          {dir + "libnvrtc-builtins.so." + std::to_string(st.major) + "." + std::to_string(st.minor)}, ignored);
    st.loaded = true;
  });
  return state;
}

class Program {
 public:
  Program(const NvrtcApi& api, const CompileRequest& req) : api_(api) {
    std::vector<const char*> names, sources;
    for (const auto& n : req.headerNames) names.push_back(n.c_str());
    for (const auto& s : req.headerSources) sources.push_back(s.c_str());
    check(api_.nvrtcCreateProgram(&prog_, req.source.c_str(), req.name.c_str(), static_cast<int>(names.size()),
                                  sources.data(), names.data()),
          "nvrtcCreateProgram");
  }
  ~Program() {
    if (prog_) api_.nvrtcDestroyProgram(&prog_);
  }
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  nvrtcProgram get() const { return prog_; }
  void check(nvrtcResult status, const char* call) const {
    if (status != NVRTC_SUCCESS) throw CudaError(call, api_.nvrtcGetErrorString(status));
  }
  std::string log() const {
    size_t size = 0;
    check(api_.nvrtcGetProgramLogSize(prog_, &size), "nvrtcGetProgramLogSize");
    std::string text(size, '\0');
    if (size) check(api_.nvrtcGetProgramLog(prog_, &text[0]), "nvrtcGetProgramLog");
    while (!text.empty() && text.back() == '\0') text.pop_back();
    return text;
  }

 private:
  const NvrtcApi& api_;
  nvrtcProgram prog_ = nullptr;
};

}  // namespace

std::vector<std::string> nvrtcCandidates(const char* overridePath, const char* cudaHome) {
  if (overridePath && *overridePath) return {overridePath};
  const char* sonames[] = {"libnvrtc.so.13", "libnvrtc.so.12"};
  std::vector<std::string> candidates(std::begin(sonames), std::end(sonames));
  std::vector<std::string> dirs;
  if (cudaHome && *cudaHome) dirs.push_back(std::string(cudaHome) + "/lib64");
  dirs.push_back("/usr/local/cuda/lib64");
  dirs.push_back("/usr/local/cuda/targets/x86_64-linux/lib");
  for (const auto& dir : dirs)
    for (const char* soname : sonames) candidates.push_back(dir + "/" + soname);
  return candidates;
}

const NvrtcStatus& nvrtcStatus() { return loaded().status; }

CompileResult compileToCubin(const CompileRequest& request) {
  LoadedNvrtc& state = loaded();
  if (!state.status.loaded) throw CudaError("dlopen", "NVRTC_NOT_FOUND", state.status.reason);
  if (request.headerNames.size() != request.headerSources.size())
    throw ArgError(ArgError::Type, "header names and sources differ in count");
  Program program(state.api, request);
  std::vector<const char*> options;
  for (const auto& o : request.options) options.push_back(o.c_str());
  nvrtcResult status = state.api.nvrtcCompileProgram(program.get(), static_cast<int>(options.size()), options.data());
  CompileResult result;
  result.log = program.log();
  if (status != NVRTC_SUCCESS) throw CompileFailure(state.api.nvrtcGetErrorString(status), result.log);
  size_t size = 0;
  program.check(state.api.nvrtcGetCUBINSize(program.get(), &size), "nvrtcGetCUBINSize");
  if (size == 0)
    throw CompileFailure("NVRTC produced no cubin (a compute_XX architecture gives PTX only; use sm_XX)", result.log);
  result.cubin.resize(size);
  program.check(state.api.nvrtcGetCUBIN(program.get(), result.cubin.data()), "nvrtcGetCUBIN");
  return result;
}

}  // namespace stagewise
