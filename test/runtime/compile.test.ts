// NVRTC compile to a cubin and the disk cache around it. Needs NVRTC only, no GPU: runs on
// CPU machines that have NVRTC (skipped with the reason printed otherwise; see test/gpu.ts).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CacheMissError, CompileError, compile, nvrtcInfo, parsePtxasInfo } from '../../src/runtime/index.js';
import { describeNvrtc, nvrtc } from '../gpu.js';

const SCALE = `
#include "scale.h"
extern "C" __global__ void scale(float* data, float factor, int n) {
  __shared__ float tile[128];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  tile[threadIdx.x] = i < n ? data[i] : 0.f;
  __syncthreads();
  if (i < n) data[i] = SCALE_OF(tile[threadIdx.x], factor);
}`;
const HEADERS = { 'scale.h': '#define SCALE_OF(x, f) ((x) * (f))' };

const ENV_KEYS = ['STAGEWISE_CACHE_DIR', 'STAGEWISE_CACHE', 'STAGEWISE_CACHE_STRICT'] as const;
const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
let cacheDir: string;

beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), 'stagewise-compile-'));
});
afterEach(() => {
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});
afterAll(async () => rm(cacheDir, { recursive: true, force: true }));

function useCache(sub: string): string {
  const dir = path.join(cacheDir, sub);
  process.env.STAGEWISE_CACHE_DIR = dir;
  delete process.env.STAGEWISE_CACHE;
  delete process.env.STAGEWISE_CACHE_STRICT;
  return dir;
}

describe.skipIf(nvrtc.available)('compile without NVRTC', () => {
  it('rejects, saying NVRTC is missing and how to point at it', async () => {
    await expect(compile(SCALE, { headers: HEADERS })).rejects.toThrow(/NVRTC not found.*STAGEWISE_NVRTC_PATH/s);
  });
});

describeNvrtc('compile (NVRTC, no GPU needed)', () => {
  // Some NVRTC 13.0 builds (the H100 machines' toolkit) return no ptxas -v output in the program
  // log although --ptxas-options=-v is passed; the wheel build here does. Where the log has it, it
  // must parse; the driver's attributes (gpu.test.ts) are the source that never goes missing.
  it('compiles a kernel with a header to an sm_90a cubin, parsing ptxas -v where the log has it', async () => {
    useCache('basic');
    const result = await compile(SCALE, { name: 'scale.cu', headers: HEADERS });
    expect(result.cached).toBe(false);
    expect(result.key).toMatch(/^[0-9a-f]{64}$/);
    expect(Array.from(result.cubin.subarray(0, 4))).toEqual([0x7f, 0x45, 0x4c, 0x46]); // ELF
    if (/Compiling entry function/.test(result.log)) {
      expect(result.log).toMatch(/Compiling entry function 'scale' for 'sm_90a'/);
      const info = parsePtxasInfo(result.log).scale;
      expect(info.registers).toBeGreaterThan(0);
      expect(info.sharedBytes).toBe(512);
      expect(info.spillStoresBytes).toBe(0);
    } else {
      console.warn('[stagewise] this NVRTC returns no ptxas -v output in its log');
    }
  });

  it('rejects a syntax error with a CompileError carrying the whole log', async () => {
    useCache('syntax');
    const failure = compile('extern "C" __global__ void broken(int* p) { p[0] = undeclared_name; }', { name: 'broken.cu' });
    await expect(failure).rejects.toBeInstanceOf(CompileError);
    const err = (await failure.catch((e: unknown) => e)) as CompileError;
    expect(err.log).toMatch(/broken\.cu\(1\): error: identifier "undeclared_name" is undefined/);
    expect(err.message).toContain(err.log.trim());
    expect(err.message).toMatch(/NVRTC_ERROR_COMPILATION/);
    expect(await readdir(path.join(cacheDir)).catch(() => [])).not.toContain('syntax'); // nothing cached
  });

  it('needs sm_90a for wgmma: plain sm_90 fails at ptxas', async () => {
    useCache('arch');
    const wgmma = 'extern "C" __global__ void f() { asm volatile("wgmma.fence.sync.aligned;"); }';
    await expect(compile(wgmma, { arch: 'sm_90a' })).resolves.toMatchObject({ cached: false });
    await expect(compile(wgmma, { arch: 'sm_90' })).rejects.toBeInstanceOf(CompileError);
  });

  it('serves the second compile of the same kernel from the disk cache', async () => {
    const dir = useCache('hit');
    const first = await compile(SCALE, { headers: HEADERS, options: ['-lineinfo'] });
    const second = await compile(SCALE, { headers: HEADERS, options: ['-lineinfo'] });
    expect(first.cached).toBe(false);
    expect(second).toMatchObject({ cached: true, key: first.key, log: first.log });
    expect(Array.from(second.cubin)).toEqual(Array.from(first.cubin));
    expect((await readdir(dir)).sort()).toEqual([`${first.key}.cubin`, `${first.key}.log`]);
    const other = await compile(SCALE, { headers: HEADERS, options: ['-lineinfo', '-DUNUSED=1'] });
    expect(other.cached).toBe(false);
    expect(other.key).not.toBe(first.key);
  });

  it('strict mode (STAGEWISE_CACHE_STRICT=1) turns a miss into an error and allows hits', async () => {
    useCache('strict');
    await compile(SCALE, { headers: HEADERS });
    process.env.STAGEWISE_CACHE_STRICT = '1';
    await expect(compile(SCALE, { headers: HEADERS })).resolves.toMatchObject({ cached: true });
    await expect(compile(`${SCALE}\n// changed`, { headers: HEADERS })).rejects.toBeInstanceOf(CacheMissError);
  });

  it('STAGEWISE_CACHE=0 compiles every time and writes nothing', async () => {
    const dir = useCache('off');
    process.env.STAGEWISE_CACHE = '0';
    expect((await compile(SCALE, { headers: HEADERS })).cached).toBe(false);
    expect((await compile(SCALE, { headers: HEADERS })).cached).toBe(false);
    await expect(readdir(dir)).rejects.toThrow();
  });

  it('runs compiles concurrently off the JS thread', async () => {
    useCache('parallel');
    const sources = [1, 2, 3].map((k) => `extern "C" __global__ void k${k}(float* p) { p[0] = ${k}.f; }`);
    const results = await Promise.all(sources.map((s) => compile(s)));
    expect(results.map((r) => r.cubin.length > 0)).toEqual([true, true, true]);
    // Each cubin holds its own kernel (compiles did not cross over between worker threads).
    results.forEach((r, i) => expect(Buffer.from(r.cubin).includes(`k${i + 1}`)).toBe(true));
    expect(nvrtcInfo().loaded).toBe(true);
  });
});
