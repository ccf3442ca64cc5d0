// Development tool: generate kernels for a list of variants and compile each with nvcc for sm_90a
// (this machine has nvcc but no GPU), writing NAME.cubin + NAME.json for bench/dev/cubin_harness.py.
// usage: node bench/dev/build_cubins.mjs OUTDIR [schedule:hd:load:causal[:dtype[:blockN[:flags]]] ...]
// SW_NVCC_DEFINES="A=1 B=0" passes -D flags (to try a kernel macro) and tags the file names with them.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '../../dist/codegen/index.js';
import { NAMED } from '../../dist/schedule/index.js';

const [outDir, ...specs] = process.argv.slice(2);
mkdirSync(outDir, { recursive: true });
for (const spec of specs) {
  const [name, hd, load, causal, dtype = 'f16', blockN, pp] = spec.split(':');
  // flags: absent -> the library's defaults; otherwise ws / pp / ps (P in shared memory) / pr (P in registers), '-' for none
  const flags = pp === undefined ? {} : { pingpong: pp.includes('pp'), warpSpecialized: pp.includes('ws'), ...(pp.includes('ps') ? { pShared: true } : pp.includes('pr') ? { pShared: false } : {}) };
  const g = generate(NAMED[name], { headDim: Number(hd), load, causal: causal === '1', dtype, ...(blockN ? { blockN: Number(blockN) } : {}), ...flags });
  const tag = `${name}_${hd}_${load === 'tma' ? 'tma' : 'cpa'}_${causal === '1' ? 'causal' : 'full'}_${dtype}_n${g.config.blockN}${g.config.pingpong ? '_pp' : ''}${g.config.warpSpecialized ? '_ws' : ''}${g.config.pShared ? '_ps' : ''}_k${g.plan.kBuffers}v${g.plan.vBuffers}`;
  const defines = (process.env.SW_NVCC_DEFINES ?? '').split(/\s+/).filter(Boolean);
  const tagged = defines.length ? `${tag}_${defines.join('_').replace(/[^A-Za-z0-9_]/g, '')}` : tag;
  const work = mkdtempSync(join(tmpdir(), 'sw-'));
  for (const [n, t] of Object.entries(g.headers)) writeFileSync(join(work, n), t);
  writeFileSync(join(work, 'k.cu'), g.source);
  const run = spawnSync('nvcc', ['-gencode=arch=compute_90a,code=sm_90a', '-cubin', '-Xptxas', '-v', '-I', work, ...defines.map((d) => `-D${d}`),
    '-o', join(outDir, `${tagged}.cubin`), join(work, 'k.cu')], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`nvcc failed for ${spec}:\n${run.stderr}`);
  // ptxas -v: registers, spills, and any wgmma serialisation warnings (C7510..C7515).
  const ptxas = `${run.stdout}${run.stderr}`.split('\n').filter((l) => /Used|spill|C75\d\d|stack frame/.test(l));
  writeFileSync(join(outDir, `${tagged}.json`), JSON.stringify({ ...g.config, threads: g.threads, smem: g.sharedMemBytes }));
  writeFileSync(join(outDir, `${tagged}.cu`), g.source);
  console.log(tagged, 'ok');
  for (const l of ptxas) console.log(`  ${l.trim()}`);
}
