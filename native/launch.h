// Kernel launches: parameters packed into aligned storage, dimensions checked, then
// cuLaunchKernelEx (with a cluster) or cuLaunchKernel; event timing of a launch series.
#pragma once
#include <array>
#include <cstdint>
#include <vector>
#include "cuda_api.h"

namespace stagewise {

// Each parameter gets its own 128-byte slot aligned to 64 bytes: enough for a CUtensorMap
// passed by value (`const __grid_constant__`), and over-aligned for every scalar.
class ParamPack {
 public:
  static constexpr size_t kSlotBytes = 128;
  void addU64(uint64_t v) { add(&v, sizeof v); }
  void addI32(int32_t v) { add(&v, sizeof v); }
  void addU32(uint32_t v) { add(&v, sizeof v); }
  void addF32(float v) { add(&v, sizeof v); }
  void addBytes(const void* data, size_t size) { add(data, size); }
  size_t size() const { return slots_.size(); }
  // The void** array the driver wants; valid until the pack changes.
  void** pointers();

 private:
  struct alignas(64) Slot { unsigned char bytes[kSlotBytes]; };
  void add(const void* data, size_t size);
  std::vector<Slot> slots_;
  std::vector<void*> pointers_;
};

struct LaunchSpec {
  std::array<uint32_t, 3> grid{1, 1, 1}, block{1, 1, 1}, cluster{0, 0, 0};  // cluster 0 = none
  uint32_t sharedMemBytes = 0;
  ParamPack params;
  bool hasCluster() const { return cluster[0] != 0; }
};

// Hardware limits checked before the driver sees them (ArgError RangeError on violation):
// grid x < 2^31, y, z < 2^16; block x, y <= 1024, z <= 64, x*y*z <= 1024; cluster dims >= 1,
// each dividing the grid, at most 16 blocks in all.
void validateLaunch(const LaunchSpec& spec);

void launchKernel(CUfunction fn, LaunchSpec& spec, CUstream stream = nullptr);

// Runs warmup launches, then times each of `iterations` launches with an event pair;
// iteration i (warmup too) uses specs[i % specs.size()]. One synchronisation at the end.
// `device` (whose context the caller made current) owns the events.
std::vector<double> timeLaunches(CUfunction fn, std::vector<LaunchSpec>& specs, int warmup, int iterations, int device);

}  // namespace stagewise
