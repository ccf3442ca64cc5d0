#include "launch.h"

#include <cstring>
#include <string>
#include "driver.h"
#include "resources.h"

namespace stagewise {

void ParamPack::add(const void* data, size_t size) {
  if (size > kSlotBytes) throw ArgError(ArgError::Range, "a kernel parameter is at most 128 bytes, got " + std::to_string(size));
  Slot slot{};
  std::memcpy(slot.bytes, data, size);
  slots_.push_back(slot);
}

void** ParamPack::pointers() {
  pointers_.clear();
  for (auto& slot : slots_) pointers_.push_back(slot.bytes);
  return pointers_.empty() ? nullptr : pointers_.data();
}

namespace {
void requireRange(const char* what, int axis, uint64_t value, uint64_t lo, uint64_t hi) {
  if (value < lo || value > hi) {
    static const char* axes = "xyz";
    throw ArgError(ArgError::Range, std::string(what) + "." + axes[axis] + " must be in " + std::to_string(lo) + ".." +
                                        std::to_string(hi) + ", got " + std::to_string(value));
  }
}
}  // namespace

void validateLaunch(const LaunchSpec& spec) {
  const uint64_t gridMax[3] = {0x7fffffffu, 65535, 65535};
  const uint64_t blockMax[3] = {1024, 1024, 64};
  for (int a = 0; a < 3; ++a) {
    requireRange("grid", a, spec.grid[a], 1, gridMax[a]);
    requireRange("block", a, spec.block[a], 1, blockMax[a]);
  }
  uint64_t threads = uint64_t(spec.block[0]) * spec.block[1] * spec.block[2];
  if (threads > 1024) throw ArgError(ArgError::Range, "block has " + std::to_string(threads) + " threads; at most 1024");
  if (!spec.hasCluster()) return;
  for (int a = 0; a < 3; ++a) {
    requireRange("cluster", a, spec.cluster[a], 1, 16);
    if (spec.grid[a] % spec.cluster[a] != 0)
      throw ArgError(ArgError::Range, std::string("cluster.") + "xyz"[a] + " = " + std::to_string(spec.cluster[a]) +
                                          " must divide grid." + "xyz"[a] + " = " + std::to_string(spec.grid[a]));
  }
  uint64_t blocks = uint64_t(spec.cluster[0]) * spec.cluster[1] * spec.cluster[2];
  if (blocks > 16) throw ArgError(ArgError::Range, "cluster has " + std::to_string(blocks) + " blocks; at most 16");
}

void launchKernel(CUfunction fn, LaunchSpec& spec, CUstream stream) {
  const DriverApi& api = driver();
  void** params = spec.params.pointers();
  if (!spec.hasCluster()) {
    check(api.cuLaunchKernel(fn, spec.grid[0], spec.grid[1], spec.grid[2], spec.block[0], spec.block[1], spec.block[2],
                             spec.sharedMemBytes, stream, params, nullptr),
          "cuLaunchKernel");
    return;
  }
  CUlaunchAttribute attr{};
  attr.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
  attr.value.clusterDim.x = spec.cluster[0];
  attr.value.clusterDim.y = spec.cluster[1];
  attr.value.clusterDim.z = spec.cluster[2];
  CUlaunchConfig config{spec.grid[0], spec.grid[1], spec.grid[2], spec.block[0], spec.block[1], spec.block[2],
                        spec.sharedMemBytes, stream, &attr, 1};
  check(api.cuLaunchKernelEx(&config, fn, params, nullptr), "cuLaunchKernelEx");
}

std::vector<double> timeLaunches(CUfunction fn, std::vector<LaunchSpec>& specs, int warmup, int iterations, int device) {
  const DriverApi& api = driver();
  const size_t n = specs.size();
  for (int i = 0; i < warmup; ++i) launchKernel(fn, specs[i % n]);
  std::vector<Event> starts, ends;
  starts.reserve(iterations);
  ends.reserve(iterations);
  for (int i = 0; i < iterations; ++i) {
    starts.emplace_back(device);
    ends.emplace_back(device);
  }
  for (int i = 0; i < iterations; ++i) {
    check(api.cuEventRecord(starts[i].get(), nullptr), "cuEventRecord");
    launchKernel(fn, specs[i % n]);
    check(api.cuEventRecord(ends[i].get(), nullptr), "cuEventRecord");
  }
  std::vector<double> ms(iterations);
  if (iterations == 0) return ms;
  check(api.cuEventSynchronize(ends[iterations - 1].get()), "cuEventSynchronize");
  for (int i = 0; i < iterations; ++i) {
    float elapsed = 0;
    check(api.cuEventElapsedTime(&elapsed, starts[i].get(), ends[i].get()), "cuEventElapsedTime");
    ms[i] = elapsed;
  }
  return ms;
}

}  // namespace stagewise
