// Development probe (GPU): how many clusters of two 384-thread CTAs with a given dynamic shared
// memory size can be resident at once (cudaOccupancyMaxActiveClusters), next to the SM count.
// kvShare 2 sizes its grid as 2 x that; a second wave would cost a whole tile's time.
// build: nvcc -arch=sm_90a -O2 -o cluster_probe bench/dev/cluster_probe.cu   usage: ./cluster_probe [SMEM_BYTES...]
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>
__global__ void probe() {}
int main(int argc, char** argv) {
  int sms = 0;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
  cudaFuncSetAttribute(probe, cudaFuncAttributeMaxDynamicSharedMemorySize, 227 * 1024);
  cudaFuncSetAttribute(probe, cudaFuncAttributeNonPortableClusterSizeAllowed, 1);
  for (int i = 1; i < (argc > 1 ? argc : 2); ++i) {
    const int smem = argc > 1 ? atoi(argv[i]) : 200 * 1024;
    for (int size : {1, 2, 4}) {
      cudaLaunchConfig_t cfg = {};
      cfg.gridDim = dim3(size * 66, 1, 1);
      cfg.blockDim = dim3(384, 1, 1);
      cfg.dynamicSmemBytes = smem;
      cudaLaunchAttribute attr;
      attr.id = cudaLaunchAttributeClusterDimension;
      attr.val.clusterDim.x = size; attr.val.clusterDim.y = 1; attr.val.clusterDim.z = 1;
      cfg.attrs = &attr; cfg.numAttrs = 1;
      int n = -1;
      cudaError_t e = cudaOccupancyMaxActiveClusters(&n, probe, &cfg);
      printf("sms %d smem %d cluster %d: max active clusters %d (%d CTAs) %s\n", sms, smem, size, n, n * size, cudaGetErrorString(e));
    }
  }
  return 0;
}
