// Native unit tests (ctest): the parts of the core that need no GPU, driver or NVRTC.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "driver.h"
#include "dynlib.h"
#include "errors.h"
#include "launch.h"
#include "nvrtc.h"

using namespace stagewise;

static int failures = 0, passes = 0;

#define EXPECT(cond)                                                   \
  do {                                                                 \
    if (cond) {                                                        \
      ++passes;                                                        \
    } else {                                                           \
      ++failures;                                                      \
      std::fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
    }                                                                  \
  } while (0)

static bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Runs fn and returns the message of the E it throws ("" if it throws nothing or another type).
template <typename E>
static std::string thrown(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  } catch (...) {
    return "<other exception>";
  }
  return "";
}

static void testErrorNames() {
  EXPECT(cudaErrorNameFallback(0) == "CUDA_SUCCESS");
  EXPECT(cudaErrorNameFallback(700) == "CUDA_ERROR_ILLEGAL_ADDRESS");
  EXPECT(cudaErrorNameFallback(209) == "CUDA_ERROR_NO_BINARY_FOR_GPU");
  EXPECT(cudaErrorNameFallback(12345) == "CUDA_ERROR_UNKNOWN_12345");
  EXPECT(isStickyError(700) && isStickyError(719) && isStickyError(716));
  EXPECT(!isStickyError(1) && !isStickyError(2) && !isStickyError(0));
  CudaError e("cuLaunchKernel", "CUDA_ERROR_INVALID_VALUE");
  EXPECT(std::string(e.what()) == "cuLaunchKernel: CUDA_ERROR_INVALID_VALUE");
  CudaError d("dlopen", "NVRTC_NOT_FOUND", "why");
  EXPECT(std::string(d.what()) == "dlopen: NVRTC_NOT_FOUND (why)");
}

static void testLoaderNotFound() {
  std::string reason;
  SharedLibrary lib = SharedLibrary::openFirst({"/nonexistent/libstagewise-missing.so"}, reason);
  EXPECT(!lib.isOpen());
  EXPECT(reason == "searched /nonexistent/libstagewise-missing.so");
  EXPECT(lib.symbol("anything") == nullptr);
  SharedLibrary libc = SharedLibrary::openFirst({"/nonexistent/a.so", "libc.so.6"}, reason);
  EXPECT(libc.isOpen() && reason.empty());
  EXPECT(libc.symbol("strlen") != nullptr);
  EXPECT(contains(libc.pathOf("strlen"), "libc"));
}

// The places searched appear once, in one line; a file that exists but fails keeps dlerror's text.
static void testLoadFailureSummary() {
  const std::string absent = ": cannot open shared object file: No such file or directory";
  std::vector<LoadFailure> all;
  for (const auto& c : nvrtcCandidates(nullptr, "/cuda")) all.push_back({c, c + absent});
  EXPECT(describeLoadFailures(all) ==
         "searched libnvrtc.so.13, libnvrtc.so.12 on the loader's path and in /cuda/lib64, /usr/local/cuda/lib64, "
         "/usr/local/cuda/targets/x86_64-linux/lib");
  EXPECT(describeLoadFailures({{"libcuda.so.1", "libcuda.so.1" + absent}}) == "searched libcuda.so.1 on the loader's path");
  EXPECT(describeLoadFailures({{"/opt/x/libnvrtc.so.13", "/opt/x/libnvrtc.so.13" + absent}}) ==
         "searched /opt/x/libnvrtc.so.13");
  EXPECT(describeLoadFailures({{"/a/x.so", "/a/x.so" + absent}, {"/b/y.so", "/b/y.so" + absent}}) ==
         "searched /a/x.so, /b/y.so");
  std::vector<LoadFailure> broken = {{"libnvrtc.so.13", "libnvrtc.so.13" + absent},
                                     {"/cuda/lib64/libnvrtc.so.13", "/cuda/lib64/libnvrtc.so.13: wrong ELF class: ELFCLASS32"}};
  EXPECT(describeLoadFailures(broken) ==
         "searched libnvrtc.so.13 on the loader's path; /cuda/lib64/libnvrtc.so.13: wrong ELF class: ELFCLASS32");
}

static void testNvrtcCandidates() {
  auto only = nvrtcCandidates("/opt/x/libnvrtc.so.13", "/cuda");
  EXPECT(only.size() == 1 && only[0] == "/opt/x/libnvrtc.so.13");
  auto all = nvrtcCandidates(nullptr, "/cuda");
  EXPECT(all.size() >= 4 && all[0] == "libnvrtc.so.13" && all[1] == "libnvrtc.so.12");
  EXPECT(all[2] == "/cuda/lib64/libnvrtc.so.13");
  bool hasTargets = false;
  for (const auto& c : all) hasTargets |= c == "/usr/local/cuda/targets/x86_64-linux/lib/libnvrtc.so.13";
  EXPECT(hasTargets);
  auto noHome = nvrtcCandidates("", nullptr);
  EXPECT(noHome[2] == "/usr/local/cuda/lib64/libnvrtc.so.13");
}

static void testParamPack() {
  ParamPack pack;
  pack.addU64(0x1122334455667788ull);
  pack.addI32(-5);
  pack.addF32(1.5f);
  unsigned char map[128];
  for (int i = 0; i < 128; ++i) map[i] = static_cast<unsigned char>(i);
  pack.addBytes(map, sizeof map);
  void** p = pack.pointers();
  EXPECT(pack.size() == 4);
  for (size_t i = 0; i < pack.size(); ++i) EXPECT(reinterpret_cast<uintptr_t>(p[i]) % 64 == 0);
  EXPECT(*static_cast<uint64_t*>(p[0]) == 0x1122334455667788ull);
  EXPECT(*static_cast<int32_t*>(p[1]) == -5);
  EXPECT(*static_cast<float*>(p[2]) == 1.5f);
  EXPECT(std::memcmp(p[3], map, sizeof map) == 0);
  unsigned char big[129] = {0};
  EXPECT(contains(thrown<ArgError>([&] { pack.addBytes(big, sizeof big); }), "at most 128 bytes"));
  ParamPack empty;
  EXPECT(empty.pointers() == nullptr);
}

static void testValidateLaunch() {
  LaunchSpec ok;
  ok.grid = {132, 1, 1};
  ok.block = {384, 1, 1};
  EXPECT(thrown<ArgError>([&] { validateLaunch(ok); }).empty());
  LaunchSpec zero = ok;
  zero.grid = {0, 1, 1};
  EXPECT(contains(thrown<ArgError>([&] { validateLaunch(zero); }), "grid.x must be in 1.."));
  LaunchSpec fat;
  fat.block = {64, 32, 1};
  EXPECT(contains(thrown<ArgError>([&] { validateLaunch(fat); }), "2048 threads"));
  LaunchSpec deep;
  deep.block = {1, 1, 65};
  EXPECT(contains(thrown<ArgError>([&] { validateLaunch(deep); }), "block.z"));
  LaunchSpec cluster = ok;
  cluster.cluster = {2, 1, 1};
  EXPECT(thrown<ArgError>([&] { validateLaunch(cluster); }).empty());
  cluster.grid = {133, 1, 1};
  EXPECT(contains(thrown<ArgError>([&] { validateLaunch(cluster); }), "must divide grid.x"));
  cluster.grid = {32, 1, 1};
  cluster.cluster = {32, 1, 1};
  EXPECT(contains(thrown<ArgError>([&] { validateLaunch(cluster); }), "cluster.x"));
}

// Last: a sticky status marks the context lost for the rest of the process.
static void testStickyErrorKillsContext() {
  EXPECT(thrown<CudaError>([] { check(0, "cuInit"); }).empty());
  EXPECT(contextLostReason().empty());
  EXPECT(thrown<CudaError>([] { check(2, "cuMemAlloc"); }) == "cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY");
  EXPECT(contextLostReason().empty());
  EXPECT(thrown<CudaError>([] { check(700, "cuCtxSynchronize"); }) == "cuCtxSynchronize: CUDA_ERROR_ILLEGAL_ADDRESS");
  EXPECT(contains(contextLostReason(), "cuCtxSynchronize failed with CUDA_ERROR_ILLEGAL_ADDRESS"));
  std::string later = thrown<CudaError>([] { ensureContext(); });
  EXPECT(contains(later, "CUDA_ERROR_CONTEXT_LOST") && contains(later, "restart the process"));
}

int main() {
  testErrorNames();
  testLoaderNotFound();
  testLoadFailureSummary();
  testNvrtcCandidates();
  testParamPack();
  testValidateLaunch();
  testStickyErrorKillsContext();
  std::printf("%d passed, %d failed\n", passes, failures);
  return failures ? 1 : 0;
}
