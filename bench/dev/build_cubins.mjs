// Development tool: generate kernels for a list of variants and compile each with nvcc for sm_90a
// (this machine has nvcc but no GPU), writing NAME.cubin + NAME.json for bench/dev/cubin_harness.py.
// usage: node bench/dev/build_cubins.mjs OUTDIR [schedule:hd:load:causal:dtype ...]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '../../dist/codegen/index.js';
import { NAMED } from '../../dist/schedule/index.js';

const [outDir, ...specs] = process.argv.slice(2);
mkdirSync(outDir, { recursive: true });
for (const spec of specs) {
  const [name, hd, load, causal, dtype = 'f16', blockN, pp] = spec.split(':');
  const g = generate(NAMED[name], {
    headDim: Number(hd), load, causal: causal === '1', dtype, ...(blockN ? { blockN: Number(blockN) } : {}), pingpong: pp?.includes('pp') ?? false, warpSpecialized: pp?.includes('ws') ?? false,
  });
  const tag = `${name}_${hd}_${load === 'tma' ? 'tma' : 'cpa'}_${causal === '1' ? 'causal' : 'full'}_${dtype}_n${g.config.blockN}${g.config.pingpong ? '_pp' : ''}${g.config.warpSpecialized ? '_ws' : ''}`;
  const work = mkdtempSync(join(tmpdir(), 'sw-'));
  for (const [n, t] of Object.entries(g.headers)) writeFileSync(join(work, n), t);
  writeFileSync(join(work, 'k.cu'), g.source);
  const log = execFileSync('nvcc', ['-gencode=arch=compute_90a,code=sm_90a', '-cubin', '-Xptxas', '-v', '-I', work,
    '-o', join(outDir, `${tag}.cubin`), join(work, 'k.cu')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  writeFileSync(join(outDir, `${tag}.json`), JSON.stringify({ ...g.config, threads: g.threads, smem: g.sharedMemBytes }));
  writeFileSync(join(outDir, `${tag}.cu`), g.source);
  console.log(tag, 'ok');
}
