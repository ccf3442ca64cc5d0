// Development tool: build the default kernels of the named schedules through the library's own
// path (generate + NVRTC, via the cache) and write NAME.cubin for SASS inspection on the GPU
// machine (bench/dev/sass_check.sh), at head dims 128 and 256. usage: node bench/dev/dump_cubins.mjs OUTDIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAttention } from '../../dist/api/index.js';

const outDir = process.argv[2];
mkdirSync(outDir, { recursive: true });
for (const headDim of [128, 256]) {
  for (const schedule of ['baseline', 'firstDot', 'secondDot']) {
    for (const load of ['tma', 'cp.async']) {
      const b = await buildAttention({ batch: 1, heads: 1, seqLen: 1, headDim, dtype: 'f16', causal: false, schedule, load });
      const c = b.kernel.config;
      const tag = `${schedule}_hd${headDim}_${load === 'tma' ? 'tma' : 'cpa'}_n${c.blockN}${c.warpSpecialized ? '_ws' : ''}${c.pingpong ? '_pp' : ''}${c.pShared ? '_ps' : ''}`;
      writeFileSync(join(outDir, `${tag}.cubin`), b.cubin);
      console.log(tag);
    }
  }
}
