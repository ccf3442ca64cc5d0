import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBench, type BenchDeps } from '../../src/bench/cli.js';
import type { PeersReport } from '../../src/bench/peers.js';
import { readiness, type Readiness } from '../../src/runtime/index.js';
import { gpu } from '../gpu.js';
import { fakeProvider, type FakeBehaviour } from './fake.js';
import type { AttentionConfig } from '../../src/bench/types.js';

function harness(behave?: (c: AttentionConfig) => FakeBehaviour, extra: Partial<BenchDeps> = {}, missing?: () => Readiness) {
  const out: string[] = [];
  const err: string[] = [];
  const files = new Map<string, string>();
  const provider = fakeProvider(behave, undefined, missing);
  const deps: Partial<BenchDeps> = {
    loadProvider: async () => provider,
    stdout: (t) => out.push(t),
    stderr: (l) => err.push(l),
    now: () => new Date('2025-06-01T12:00:00Z'),
    source: () => ({ commit: 'deadbeef', dirty: true }),
    writeFile: async (f, t) => { files.set(f, t); },
    runPeers: async () => { throw new Error('peers not expected'); },
    ...extra,
  };
  return { out, err, files, provider, deps };
}

describe('stagewise bench', () => {
  it('--help prints the flags and touches no api', async () => {
    const h = harness(undefined, { loadProvider: async () => { throw new Error('must not load'); } });
    expect(await runBench(['--help'], h.deps)).toBe(0);
    for (const flag of ['--quick', '--shape B,H,N,D', '--schedules', '--loads', '--dtype', '--causal', '--iterations', '--warmup', '--json', '--svg', '--peers']) {
      expect(h.out[0]).toContain(flag);
    }
  });

  it('exits 2 on a bad flag, naming the flag and the rule, before loading the api', async () => {
    const h = harness(undefined, { loadProvider: async () => { throw new Error('must not load'); } });
    expect(await runBench(['--iterations', '5'], h.deps)).toBe(2);
    expect(h.err[0]).toBe('stagewise bench: --iterations must be at least 20, got 5');
    expect(h.out).toEqual([]);
  });

  it('exits 2 when an output directory does not exist', async () => {
    const h = harness();
    expect(await runBench(['--quick', '--json', '/nonexistent-dir/x/out.json'], h.deps)).toBe(2);
    expect(h.err[0]).toMatch(/--json: directory '\/nonexistent-dir\/x' does not exist or is not writable/);
    expect(h.provider.calls.prepared).toEqual([]);
  });

  it('exits 1 with the reason when the api cannot load', async () => {
    const h = harness(undefined, { loadProvider: async () => { throw new Error('native addon not built'); } });
    expect(await runBench(['--quick'], h.deps)).toBe(1);
    expect(h.err).toEqual(['stagewise bench: cannot load the stagewise api: native addon not built']);
  });

  const NO_DRIVER = 'no CUDA device: CUDA driver not loaded: searched libcuda.so.1 on the loader\'s path';
  const NO_NVRTC = 'NVRTC not found: searched libnvrtc.so.13, libnvrtc.so.12 on the loader\'s path and in /usr/local/cuda/lib64';

  it('without a GPU: one line naming it and the one thing to do, exit 2, nothing started', async () => {
    const h = harness(undefined, {}, () => ({ gpu: NO_DRIVER }));
    expect(await runBench(['--quick', '--peers'], h.deps)).toBe(2);
    expect(h.err).toEqual([`stagewise bench: no usable GPU (${NO_DRIVER}); run on a machine with a Hopper GPU (H100/H200) and the NVIDIA driver`]);
    expect(h.out).toEqual([]);
    expect(h.provider.calls.prepared).toEqual([]);
  });

  it('without NVRTC: one line with the places searched and how to point at NVRTC, exit 2', async () => {
    const h = harness(undefined, {}, () => ({ nvrtc: NO_NVRTC }));
    expect(await runBench(['--quick'], h.deps)).toBe(2);
    expect(h.err).toHaveLength(1);
    expect(h.err[0]).toBe(`stagewise bench: no NVRTC (${NO_NVRTC}); set STAGEWISE_NVRTC_PATH to a libnvrtc.so.* file (CUDA toolkit, or pip install nvidia-cuda-nvrtc) or CUDA_HOME to a CUDA toolkit`);
    expect(h.provider.calls.prepared).toEqual([]);
  });

  it('without either, or without the addon: still one line, exit 2', async () => {
    let h = harness(undefined, {}, () => ({ gpu: NO_DRIVER, nvrtc: NO_NVRTC }));
    expect(await runBench(['--quick'], h.deps)).toBe(2);
    expect(h.err).toEqual([`stagewise bench: no usable GPU (${NO_DRIVER}) and no NVRTC (${NO_NVRTC}); run on a machine with a Hopper GPU (H100/H200), the NVIDIA driver and NVRTC`]);
    h = harness(undefined, {}, () => ({ addon: 'the native addon is not built (looked for x); run `npm run build:native`' }));
    expect(await runBench(['--quick'], h.deps)).toBe(2);
    expect(h.err).toEqual(['stagewise bench: the native addon is not built (looked for x); run `npm run build:native`']);
  });

  it.skipIf(gpu.available)('on this machine (no usable GPU): says what is missing in one line, each place searched once', async () => {
    const h = harness(undefined, {}, () => readiness());
    expect(await runBench(['--quick'], h.deps)).toBe(2);
    expect(h.err).toHaveLength(1);
    expect(h.err[0]).not.toContain('\n');
    expect(h.err[0]).toMatch(/^stagewise bench: (no usable GPU|the native addon)/);
    for (const place of ['libcuda.so.1', '/usr/local/cuda/lib64', '/usr/local/cuda/targets/x86_64-linux/lib'])
      expect(h.err[0].split(place).length - 1).toBeLessThanOrEqual(1);
  });

  it('runs --quick: progress on stderr, table on stdout, JSON and SVG written', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-'));
    const json = path.join(dir, 'r.json');
    const svg = path.join(dir, 'r.svg');
    const h = harness((c) => (c.schedule === 'secondDot' && c.load === 'cp.async' ? { prepareError: 'smem 240 KB > 227 KB' } : {}));
    expect(await runBench(['--quick', '--json', json, '--svg', svg, '--iterations', '20'], h.deps)).toBe(0);
    expect(h.err[0]).toBe('stagewise bench: 6 configs on Fake H100 <test> (warm-up 10, 20 timed launches each)');
    expect(h.err.slice(1, 7).map((l) => l.replace(/\.\.\. .*/, '...'))).toEqual([
      '[1/6] baseline/tma f16 8x16x8192x128 ...', '[2/6] baseline/cp.async f16 8x16x8192x128 ...',
      '[3/6] firstDot/tma f16 8x16x8192x128 ...', '[4/6] firstDot/cp.async f16 8x16x8192x128 ...',
      '[5/6] secondDot/tma f16 8x16x8192x128 ...', '[6/6] secondDot/cp.async f16 8x16x8192x128 ...',
    ]);
    expect(h.err[6]).toBe('[6/6] secondDot/cp.async f16 8x16x8192x128 ... ERR in prepare (smem 240 KB > 227 KB)');
    expect(h.out[0]).toMatch(/^stagewise attention forward on Fake H100 <test>/);
    expect(h.out[0]).toContain('attention-fwd f16 non-causal (TFLOP/s):');
    const report = JSON.parse(h.files.get(json)!);
    expect(report).toMatchObject({ card: 'Fake H100 <test>', commit: 'deadbeef', dirty: true, date: '2025-06-01T12:00:00.000Z' });
    expect(report.results).toHaveLength(6);
    expect(report.failures).toEqual([expect.objectContaining({ status: 'error', stage: 'prepare', reason: 'smem 240 KB > 227 KB' })]);
    expect(h.files.get(svg)).toMatch(/^<svg /);
    expect(h.files.get(svg)).toContain('data-series="firstDot/tma"');
    expect(h.files.get(svg)).not.toContain('data-series="secondDot/cp.async"');
  });

  it('exits 1 when a check fails, and never times that config', async () => {
    const h = harness((c) => (c.schedule === 'firstDot' ? { check: { ok: false, relL2: 0.2 } } : {}));
    expect(await runBench(['--quick'], h.deps)).toBe(1);
    expect(h.provider.calls.timed.some((id) => id.startsWith('firstDot'))).toBe(false);
    expect(h.out[0]).toMatch(/FAIL/);
  });

  it('--peers hands the distinct shapes to the peers runner and adds its columns', async () => {
    let asked: unknown;
    const peers: PeersReport = { available: false, reason: '/nope not found' };
    const h = harness(undefined, {
      runPeers: async (shapes, opts) => { asked = { shapes, python: opts.python, iterations: opts.iterations }; return peers; },
    });
    expect(await runBench(['--quick', '--causal', 'both', '--peers', '--python', '/nope', '--cooldown', '0'], h.deps)).toBe(0);
    expect(asked).toEqual({
      shapes: [
        { batch: 8, heads: 16, seqLen: 8192, headDim: 128, dtype: 'f16', causal: false },
        { batch: 8, heads: 16, seqLen: 8192, headDim: 128, dtype: 'f16', causal: true },
      ],
      python: '/nope', iterations: 30,
    });
    expect(h.err).toContain('peers: unavailable: /nope not found');
    expect(h.out[0]).toContain('torch-cudnn');
    expect(h.out[0]).toContain('peers: n/a: /nope not found');
  });

  it('runs against the real peers runner with a missing interpreter', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-'));
    const json = path.join(dir, 'r.json');
    const { runPeers } = await import('../../src/bench/peers.js');
    const h = harness(undefined, { runPeers, writeFile: async (f, t) => { const { writeFile } = await import('node:fs/promises'); await writeFile(f, t); } });
    expect(await runBench(['--quick', '--schedules', 'firstDot', '--peers', '--python', '/nonexistent/python3', '--json', json, '--cooldown', '0'], h.deps)).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8')).peers).toEqual({ available: false, reason: '/nonexistent/python3 not found' });
  });
});
