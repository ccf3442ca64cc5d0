// Emitted kernels must compile for sm_90a with nvcc and spill nothing (ptxas -v). No GPU needed.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { choose, emit, generate, smemLayout, type KernelConfigInput } from '../../src/codegen/index.js';
import { parsePtxasInfo } from '../../src/runtime/index.js';
import { NAMED } from '../../src/schedule/index.js';

const run = promisify(execFile);

async function nvccVersion(): Promise<string | undefined> {
  try {
    return (await run('nvcc', ['--version'])).stdout;
  } catch {
    return undefined;
  }
}

const hasNvcc = (await nvccVersion()) !== undefined;
if (!hasNvcc) console.warn("[stagewise] skipping 'emitted kernels compile with nvcc': nvcc is not on PATH");

const work = mkdtempSync(join(tmpdir(), 'stagewise-nvcc-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** ptxas's notes that it turned the asynchronous wgmma pipeline into a serial one. */
const SERIALISED = /\((C75\d\d)\) Potential Performance Loss: wgmma\.mma_async instructions are serialized[^\n]*/g;

async function compileWithNvcc(name: keyof typeof NAMED, cfg: KernelConfigInput) {
  const g = generate(NAMED[name], cfg);
  const dir = mkdtempSync(join(work, 'k-'));
  for (const [file, text] of Object.entries(g.headers)) writeFileSync(join(dir, file), text);
  writeFileSync(join(dir, 'kernel.cu'), g.source);
  const { stderr, stdout } = await run(
    'nvcc',
    ['-gencode=arch=compute_90a,code=sm_90a', '-cubin', '-Xptxas', '-v', '-I', dir, '-o', join(dir, 'k.cubin'), join(dir, 'kernel.cu')],
    { maxBuffer: 16 << 20 },
  );
  const log = stderr + stdout;
  return { info: parsePtxasInfo(log)[g.name], serialised: [...log.matchAll(SERIALISED)].map((m) => m[0]), threads: g.threads };
}

const CASES: Array<[keyof typeof NAMED, KernelConfigInput]> = [
  ['baseline', { headDim: 128, load: 'tma' }],
  ['firstDot', { headDim: 128, load: 'tma' }],
  // P in shared memory with masking: the register-tightest default (spilled while developing it).
  ['firstDot', { headDim: 128, load: 'tma', causal: true, dtype: 'bf16' }],
  ['firstDot', { headDim: 128, load: 'cp.async' }],
  ['secondDot', { headDim: 128, load: 'tma', causal: true }],
  ['secondDot', { headDim: 128, load: 'cp.async', dtype: 'bf16' }],
  ['firstDot', { headDim: 64, load: 'cp.async', causal: true }],
  ['secondDot', { headDim: 256, load: 'tma', dtype: 'bf16' }],
  // hd256 with a producer warpgroup: O alone is 128 registers; 80-wide S and P tiles just fit.
  ['baseline', { headDim: 256, load: 'tma', causal: true }],
  ['firstDot', { headDim: 256, load: 'tma', causal: true, dtype: 'bf16' }],
  // The model features: softcap (the plan's tanh form, exp2 by default), a window, packed sequences.
  ['firstDot', { headDim: 128, load: 'tma', causal: true, window: true, softcap: true, varlen: true }],
  ['secondDot', { headDim: 256, load: 'tma', window: true, softcap: true, dtype: 'bf16' }],
  ['baseline', { headDim: 64, load: 'cp.async', softcap: true, varlen: true }],
  // The persistent kernel (its producer walks tiles on 32 registers), both schedulers, every feature.
  ['secondDot', { headDim: 128, causal: true, scheduler: 'static' }],
  ['secondDot', { headDim: 64, dtype: 'bf16', scheduler: 'dynamic' }],
  ['baseline', { headDim: 256, causal: true, window: true, softcap: true, varlen: true, scheduler: 'dynamic' }],
  // firstDot (two S tiles in flight) persistent: asynchronous since the full wait before its steady
  // loop (program.ts, beforeLoop); with every feature on it spills, so choose() never picks it by
  // default (see choose.ts).
  ['firstDot', { headDim: 128, causal: true, scheduler: 'dynamic', dtype: 'bf16' }],
  ['secondDot', { headDim: 256, scheduler: 'static', pShared: true }],
  // O through shared memory and TMA: the defaults of a persistent kernel with a window or softcap
  // (session 16; with O staged by st.shared they spilled 20-132 B), and asked for from one CTA per tile.
  ['secondDot', { headDim: 128, causal: true, softcap: true, scheduler: 'dynamic', oStore: 'tma' }],
  ['baseline', { headDim: 128, seqQ: 1024, causal: true, window: true, softcap: true }],
  ['baseline', { headDim: 128, seqQ: 1024, softcap: true }],
  ['secondDot', { headDim: 128, seqQ: 2048, window: true }],
  // The softcap's tanh forms (plan softcapTanh): the default exp2 above, tanhf and approx asked for.
  ['secondDot', { headDim: 128, seqQ: 1024, causal: true, softcap: true, softcapTanh: 'tanhf' }],
  ['baseline', { headDim: 256, causal: true, window: true, softcap: true, softcapTanh: 'approx', scheduler: 'dynamic' }],
  ['secondDot', { headDim: 64, causal: true, window: true, softcap: true, scheduler: 'static', oStore: 'tma' }],
  ['baseline', { headDim: 64, scheduler: 'grid', oStore: 'tma' }],
  // ... in Q's place (one CTA per tile), with every feature, and at hd256 (its 80-wide tile kept).
  ['baseline', { headDim: 128, causal: true, window: true, softcap: true, scheduler: 'grid', oStore: 'tma' }],
  ['secondDot', { headDim: 256, causal: true, scheduler: 'grid', oStore: 'tma' }],
  // The 1k defaults (static with K/V shared by two CTAs; causal dynamic), and two Q buffers (a knob)
  // with O staged in the current one or from registers. (Baseline with two buffers and K/V shared
  // spills 8 B: not a default.)
  ['baseline', { headDim: 128, seqQ: 1024 }],
  ['baseline', { headDim: 128, seqQ: 1024, causal: true }],
  ['secondDot', { headDim: 128, seqQ: 1024, qBuffers: 2 }],
  ['baseline', { headDim: 128, seqQ: 1024, causal: true, qBuffers: 2 }],
  ['secondDot', { headDim: 128, causal: true, scheduler: 'dynamic', oStore: 'registers', qBuffers: 2 }],
  // The steady loop peeled by the masks (a knob; firstDot hd128 spills with it: 16 B).
  ['secondDot', { headDim: 128, causal: true, scheduler: 'dynamic', peelMasks: true }],
  ['baseline', { headDim: 128, causal: true, scheduler: 'grid', peelMasks: true }],
  ['baseline', { headDim: 64, causal: true, window: true, scheduler: 'grid', peelMasks: true }],
  // Three consumer warpgroups at 160 registers each (blockM 192): P in registers (96-key tiles) and
  // in shared memory (128), one CTA per tile and persistent, O from registers and by TMA (causal
  // with the dynamic scheduler and O by TMA spills 24 B: not a default).
  ['secondDot', { headDim: 64, blockM: 192 }],
  ['baseline', { headDim: 64, blockM: 192, pShared: true, causal: true, dtype: 'bf16' }],
  ['secondDot', { headDim: 64, blockM: 192, causal: true, scheduler: 'dynamic' }],
  ['secondDot', { headDim: 64, blockM: 192, scheduler: 'static', oStore: 'tma' }],
  ['firstDot', { headDim: 64, blockM: 192, scheduler: 'static' }],
  // ... and as the defaults past 2048 query rows: hd128 192 x 128 (112 with a mask) with P in shared
  // memory, hd64 192 x 96, with the model features.
  ['secondDot', { headDim: 128, seqQ: 8192 }],
  ['secondDot', { headDim: 128, seqQ: 8192, causal: true, window: true, varlen: true }],
  ['secondDot', { headDim: 128, seqQ: 8192, varlen: true, dtype: 'bf16' }],
  ['baseline', { headDim: 128, seqQ: 8192, causal: true, window: true, varlen: true, dtype: 'bf16' }],
  ['secondDot', { headDim: 64, seqQ: 8192, causal: true, window: true, softcap: true, varlen: true, dtype: 'bf16' }],
  ['baseline', { headDim: 64, seqQ: 8192, causal: true, window: true, softcap: true, varlen: true }],
  // The last round split along the keys (splitTail, a knob): the 1k defaults with it, K/V shared or
  // not, and hd64 (its producer took the piece decode out of its loop to stay within 24 registers).
  ['baseline', { headDim: 128, seqQ: 1024, splitTail: true }],
  ['secondDot', { headDim: 128, seqQ: 1024, splitTail: true, kvShare: 2 }],
  ['baseline', { headDim: 128, seqQ: 1024, splitTail: true, kvShare: 1, dtype: 'bf16' }],
  ['secondDot', { headDim: 64, seqQ: 1024, splitTail: true }],
];

describe.skipIf(!hasNvcc)('emitted kernels compile with nvcc for sm_90a without spills', () => {
  for (const [name, cfg] of CASES) {
    it(`${name} ${JSON.stringify(cfg)}`, async () => {
      const { info, threads } = await compileWithNvcc(name, cfg);
      expect(info, 'ptxas -v reported no resource line').toBeDefined();
      expect(info!.spillStoresBytes).toBe(0);
      expect(info!.spillLoadsBytes).toBe(0);
      // __launch_bounds__(threads, 1): the entry count the setmaxnreg split is balanced against
      // (168 for 384 threads, 128 for 512; verify.ts registerSplitReasons).
      expect(info!.registers).toBeLessThanOrEqual(Math.min(255, Math.floor(65536 / threads / 8) * 8));
    }, 120_000);
  }

  // Negative control for the layout's static_asserts: a persistent kernel emitted with O in the place
  // of its one Q buffer (a layout choose() never gives it: the next tile's Q would overwrite O) does
  // not compile.
  it('a persistent kernel with O in Q\'s place fails its static_assert', async () => {
    const p = choose(NAMED.secondDot, { headDim: 128, causal: true }, { oStore: 'tma', scheduler: 'dynamic' });
    const forged = { ...p, smem: smemLayout({ headDim: 128, blockM: 128, blockN: p.blockN, kBuffers: p.pipeline.kBuffers, vBuffers: p.pipeline.vBuffers, pSharedTiles: 0, oTile: true, oInQ: true }) };
    const g = emit(forged);
    const dir = mkdtempSync(join(work, 'forged-'));
    for (const [file, text] of Object.entries(g.headers)) writeFileSync(join(dir, file), text);
    writeFileSync(join(dir, 'kernel.cu'), g.source);
    const err = await run('nvcc', ['-gencode=arch=compute_90a,code=sm_90a', '-cubin', '-I', dir, '-o', join(dir, 'k.cubin'), join(dir, 'kernel.cu')]).then(() => '', (e: { stderr?: string }) => e.stderr ?? String(e));
    expect(err).toMatch(/O sits in Q's place in a persistent kernel/);
  }, 120_000);

  // Negative control for the register split's static_assert: three consumer warpgroups emitted with
  // two consumers' split (24 / 240, which verify() refuses) do not compile.
  it('a register split that does not balance fails its static_assert', async () => {
    const p = choose(NAMED.secondDot, { headDim: 64 }, { blockM: 192 });
    const g = emit({ ...p, registerSplit: { producer: 24, consumer: 240 } });
    const dir = mkdtempSync(join(work, 'split-'));
    for (const [file, text] of Object.entries(g.headers)) writeFileSync(join(dir, file), text);
    writeFileSync(join(dir, 'kernel.cu'), g.source);
    const err = await run('nvcc', ['-gencode=arch=compute_90a,code=sm_90a', '-cubin', '-I', dir, '-o', join(dir, 'k.cubin'), join(dir, 'kernel.cu')]).then(() => '', (e: { stderr?: string }) => e.stderr ?? String(e));
    expect(err).toMatch(/the producer must free exactly the registers the consumers take/);
  }, 120_000);

  // The rotated tile loop (crossTile): the next tile's first QK^T in flight across the epilogue's
  // second half. Asynchronous in every scheduler; no spills with one CTA per cluster (static, K/V
  // shared: 8 B, dynamic: 4 B). Negative control: the whole epilogue after the issue (storeOutput
  // reads O while the QK^T is in flight) is serialised by ptxas (C7514).
  it('crossTile: ptxas keeps the wgmmas asynchronous, and would not with the epilogue after the issue', async () => {
    const base = { headDim: 128, seqQ: 1024, qBuffers: 2, crossTile: true } as const;
    const clean = await compileWithNvcc('baseline', { ...base, kvShare: 1 });
    expect(clean.serialised).toEqual([]);
    expect(clean.info!.spillStoresBytes).toBe(0);
    expect((await compileWithNvcc('baseline', base)).serialised).toEqual([]);
    expect((await compileWithNvcc('baseline', { ...base, scheduler: 'dynamic' })).serialised).toEqual([]);
    const g = generate(NAMED.baseline, { ...base, kvShare: 1 });
    const source = g.source.replace('      stageOutput(c, r, lseRow);\n', '').replace('      finishOutput(c, lseRow, lseRows(), &tmO);', '      storeOutput(c, r, outRows(), oRow, lseRows(), &tmO);');
    expect(source).not.toBe(g.source);
    const dir = mkdtempSync(join(work, 'xtile-'));
    for (const [file, text] of Object.entries(g.headers)) writeFileSync(join(dir, file), text);
    writeFileSync(join(dir, 'kernel.cu'), source);
    const { stderr, stdout } = await run('nvcc', ['-gencode=arch=compute_90a,code=sm_90a', '-cubin', '-Xptxas', '-v', '-I', dir, '-o', join(dir, 'k.cubin'), join(dir, 'kernel.cu')], { maxBuffer: 16 << 20 });
    expect((stderr + stdout).match(SERIALISED)).not.toBeNull();
  }, 120_000);

  // Three consumer warpgroups keep the wgmma pipeline asynchronous too.
  it('blockM 192 hd64: ptxas keeps the wgmmas asynchronous', async () => {
    for (const name of ['baseline', 'secondDot'] as const) {
      expect((await compileWithNvcc(name, { headDim: 64, blockM: 192 })).serialised).toEqual([]);
      expect((await compileWithNvcc(name, { headDim: 64, blockM: 192, causal: true, scheduler: 'dynamic' })).serialised).toEqual([]);
    }
  }, 120_000);

  // The default kernels of the named schedules (producer warpgroup, TMA, hd128 and hd256) keep the
  // wgmma pipeline asynchronous: a serialisation note here cost up to 2x in the past (bench/NOTES.md).
  for (const name of ['baseline', 'firstDot', 'secondDot'] as const) {
    for (const headDim of [128, 256] as const) {
      it(`${name} default hd${headDim}: ptxas keeps the wgmmas asynchronous`, async () => {
        const { serialised } = await compileWithNvcc(name, { headDim });
        expect(serialised).toEqual([]);
        // ... and so do the ones with every model feature on.
        const all = await compileWithNvcc(name, { headDim, causal: true, window: true, softcap: true, varlen: true });
        expect(all.serialised).toEqual([]);
        // ... and the defaults for long query loops (three consumer warpgroups where they apply).
        expect((await compileWithNvcc(name, { headDim, seqQ: 8192 })).serialised).toEqual([]);
        expect((await compileWithNvcc(name, { headDim, seqQ: 8192, causal: true })).serialised).toEqual([]);
      }, 120_000);
      // The persistent kernel, both schedulers (firstDot through its full wait before the loop).
      it(`${name} persistent hd${headDim}: ptxas keeps the wgmmas asynchronous`, async () => {
        for (const scheduler of ['static', 'dynamic'] as const) {
          expect((await compileWithNvcc(name, { headDim, causal: true, scheduler })).serialised).toEqual([]);
        }
      }, 120_000);
    }
  }
});
