// Development tool: compile through NVRTC on this (GPU-less) machine every kernel the GPU tests and
// the quick bench use, into STAGEWISE_CACHE_DIR, so a GPU session spends its minutes running, not
// compiling. usage: STAGEWISE_CACHE_DIR=.gpu/cache node bench/dev/warm_cache.mjs [--bench]
import { buildAttention } from '../../dist/api/index.js';

const configs = [];
for (const schedule of ['baseline', 'firstDot', 'secondDot'])
  for (const load of ['tma', 'cp.async'])
    for (const headDim of [64, 128, 256])
      for (const causal of [false, true])
        for (const dtype of ['f16', 'bf16']) configs.push({ batch: 1, heads: 1, seqLen: 1, headDim, dtype, causal, schedule, load });

let fresh = 0;
const t0 = Date.now();
for (let i = 0; i < configs.length; i += 4) {
  const built = await Promise.all(configs.slice(i, i + 4).map((c) => buildAttention(c)));
  fresh += built.filter((b) => !b.cached).length;
}
console.log(`${configs.length} kernels, ${fresh} compiled, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
