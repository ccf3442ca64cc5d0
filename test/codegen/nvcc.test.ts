// Emitted kernels must compile for sm_90a with nvcc and spill nothing (ptxas -v). No GPU needed.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { generate, type KernelConfigInput } from '../../src/codegen/index.js';
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
  return parsePtxasInfo(stderr + stdout)[g.name];
}

const CASES: Array<[keyof typeof NAMED, KernelConfigInput]> = [
  ['baseline', { headDim: 128, load: 'tma' }],
  ['firstDot', { headDim: 128, load: 'tma' }],
  ['secondDot', { headDim: 128, load: 'tma', causal: true }],
  ['secondDot', { headDim: 128, load: 'cp.async', dtype: 'bf16' }],
  ['firstDot', { headDim: 64, load: 'cp.async', causal: true }],
  ['secondDot', { headDim: 256, load: 'tma', dtype: 'bf16' }],
];

describe.skipIf(!hasNvcc)('emitted kernels compile with nvcc for sm_90a without spills', () => {
  for (const [name, cfg] of CASES) {
    it(`${name} ${JSON.stringify(cfg)}`, async () => {
      const info = await compileWithNvcc(name, cfg);
      expect(info, 'ptxas -v reported no resource line').toBeDefined();
      expect(info!.spillStoresBytes).toBe(0);
      expect(info!.spillLoadsBytes).toBe(0);
      expect(info!.registers).toBeLessThanOrEqual(255);
    }, 120_000);
  }
});
