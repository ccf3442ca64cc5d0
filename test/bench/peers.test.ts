import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  defaultPeersScript, parsePeersOutput, peerShapes, peersSpec, problemPeersSpec, runPeers, runProblemPeers, sdpaGap, type PeerShape,
} from '../../src/bench/peers.js';
import { findPreset, presetFlops, presetShapes, type PresetShape } from '../../src/bench/presets.js';
import { buildSweep, parseBenchArgs } from '../../src/bench/sweep.js';
import { flops } from './fake.js';

const headline: PeerShape = { batch: 8, heads: 16, seqLen: 8192, headDim: 128, dtype: 'f16', causal: false };
const base = { warmup: 1, iterations: 20, flops };

function hasPython(): { python: boolean; torch: boolean } {
  try {
    execFileSync('python3', ['-c', 'pass'], { stdio: 'ignore' });
  } catch {
    return { python: false, torch: false };
  }
  try {
    execFileSync('python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return { python: true, torch: true };
  } catch {
    return { python: true, torch: false };
  }
}
const env = hasPython();

/** A stand-in for peers.py run by node: echoes the spec it was given back as results. */
function fakeChild(body: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'peers-'));
  const file = path.join(dir, 'fake-peers.mjs');
  writeFileSync(file, `let input = '';\nprocess.stdin.on('data', (d) => (input += d));\nprocess.stdin.on('end', () => {\n${body}\n});\n`);
  return file;
}

describe('runPeers without a usable python', () => {
  it('reports a missing interpreter once, as a reason, without throwing', async () => {
    const report = await runPeers([headline], { ...base, python: '/nonexistent/python3' });
    expect(report).toEqual({ available: false, reason: '/nonexistent/python3 not found' });
  });

  it.runIf(env.python && !env.torch)('reports python without torch (the real peers.py)', async () => {
    const report = await runPeers([headline], { ...base, python: 'python3' });
    expect(report.available).toBe(false);
    expect(!report.available && report.reason).toMatch(/^torch not importable with .*No module named 'torch'/);
  });

  it.runIf(env.python)('reports a missing script by its exit status and stderr', async () => {
    const report = await runPeers([headline], { ...base, python: 'python3', script: '/nonexistent/peers.py' });
    expect(!report.available && report.reason).toMatch(/^peers\.py exited with status 2: .*No such file/);
  });

  it('stops a child that hangs', async () => {
    const script = fakeChild('setTimeout(() => {}, 60_000);');
    const report = await runPeers([headline], { ...base, python: process.execPath, script, timeoutMs: 300 });
    expect(!report.available && report.reason).toMatch(/took longer than 0 s and was stopped/);
  });

  it('says so when the child prints no JSON', async () => {
    const script = fakeChild("console.log('Traceback: oops');");
    const report = await runPeers([headline], { ...base, python: process.execPath, script });
    expect(report).toEqual({ available: false, reason: 'peers.py printed no JSON: Traceback: oops' });
  });
});

describe('runPeers with a child that answers', () => {
  it('sends the spec on stdin, forwards stderr lines, and reads results in order', async () => {
    const script = fakeChild(`
      const spec = JSON.parse(input);
      process.stderr.write('[1/2] torch-cudnn ...\\n[2/2] triton');
      const results = spec.configs.map((c, i) => ({ config: c, peers: {
        'torch-cudnn': { median_ms: 2 + i, min_ms: 1.9, max_ms: 2.5, tflops: 1, check: { rel_l2: 0.001, max_abs: 0.002 } },
        'torch-flash': { error: 'No available kernel', kind: 'unsupported' },
        triton: { error: 'relL2 0.3 > 0.01', kind: 'check' },
        extra: { error: 'RuntimeError: boom', kind: 'error' },
      } }));
      process.stdout.write(JSON.stringify({ versions: { torch: '2.5.1', triton: null }, device: 'H100', results, spec }));`);
    const shapes = [headline, { ...headline, causal: true }];
    const lines: string[] = [];
    const report = await runPeers(shapes, { ...base, python: process.execPath, script, onStderr: (l) => lines.push(l) });
    expect(lines).toEqual(['[1/2] torch-cudnn ...', '[2/2] triton']);
    if (!report.available) throw new Error(report.reason);
    expect(report.versions).toEqual({ torch: '2.5.1', triton: null });
    expect(report.device).toBe('H100');
    expect(report.rows.map((r) => r.shape)).toEqual(shapes);
    const [first, second] = report.rows;
    // TFLOP/s comes from our flops(), not the child's number.
    expect(first.peers['torch-cudnn']).toEqual({ status: 'ok', medianMs: 2, minMs: 1.9, maxMs: 2.5, tflops: flops(headline) / 2e9, relL2: 0.001 });
    expect(second.peers['torch-cudnn']).toMatchObject({ status: 'ok', tflops: flops(shapes[1]) / 3e9 });
    expect(first.peers['torch-flash']).toEqual({ status: 'unsupported', reason: 'No available kernel' });
    expect(first.peers.triton).toEqual({ status: 'fail', reason: 'relL2 0.3 > 0.01' });
    expect(first.peers.extra).toEqual({ status: 'error', reason: 'RuntimeError: boom' });
  });

  it('passes a top-level error through as the reason', async () => {
    const script = fakeChild(`process.stdout.write(JSON.stringify({ error: 'torch 2.5.1 sees no CUDA device' }));`);
    const report = await runPeers([headline], { ...base, python: process.execPath, script });
    expect(report).toEqual({ available: false, reason: 'torch 2.5.1 sees no CUDA device' });
  });
});

describe('peers spec and parsing', () => {
  it('asks once per (shape, dtype, causal), in snake case for python', () => {
    const shapes = peerShapes(buildSweep(parseBenchArgs(['--quick', '--causal', 'both'])));
    expect(shapes).toEqual([headline, { ...headline, causal: true }]);
    expect(JSON.parse(peersSpec(shapes, { warmup: 5, iterations: 25 }))).toEqual({
      configs: [
        { batch: 8, heads: 16, seq_len: 8192, head_dim: 128, dtype: 'f16', causal: false },
        { batch: 8, heads: 16, seq_len: 8192, head_dim: 128, dtype: 'f16', causal: true },
      ],
      warmup: 5, iterations: 25, peers: ['torch-cudnn', 'torch-flash', 'triton'],
    });
  });

  it('rejects a result list of the wrong length and invalid medians', () => {
    expect(parsePeersOutput('{"results": []}', [headline], flops)).toEqual({ available: false, reason: 'peers.py returned 0 results for 1 shapes' });
    const bad = parsePeersOutput(JSON.stringify({ results: [{ peers: { triton: { median_ms: -1 } } }] }), [headline], flops);
    expect(bad.available && bad.rows[0].peers.triton).toMatchObject({ status: 'error' });
  });

  it('finds bench/peers.py at the package root', () => {
    expect(defaultPeersScript()).toBe(fileURLToPath(new URL('../../bench/peers.py', import.meta.url)));
  });
});

const llama = presetShapes(findPreset('llama3-8b')!);
const gemma = presetShapes(findPreset('gemma2-9b')!);
const problemBase = { warmup: 1, iterations: 20, flops: presetFlops };
/** The median that makes our formula give `tflops` for this problem. */
const msAt = (p: PresetShape, tflops: number) => presetFlops(p) / (tflops * 1e9);

/** What peers.py prints in problem mode for llama3-8b's first two shapes; its own tflops are wrong on purpose. */
const problemOutput = JSON.stringify({
  versions: { python: '3.11.7', torch: '2.6.0', triton: null, cudnn: '90501' },
  device: 'NVIDIA H100 80GB HBM3',
  results: [
    { config: {}, peers: {
      'torch-cudnn': { median_ms: msAt(llama[0], 500), min_ms: msAt(llama[0], 510), max_ms: msAt(llama[0], 490), tflops: 1, check: { rel_l2: 0.002, max_abs: 0.01 }, backend: 'cudnn' },
      'torch-flash': { error: 'Unsupported: torch-flash cannot run f16 32x1024 Hq32/Hkv8 D128 bnhd causal: enable_gqa unsupported by this backend (For dense input, both fused kernels require query, key and value to have the same num_heads.)', kind: 'unsupported' },
      'torch-default': { median_ms: msAt(llama[0], 450), tflops: 1, backend: 'flash' },
    } },
    { config: {}, peers: {
      'torch-cudnn': { error: 'RuntimeError: cuDNN Frontend error: no valid engine', kind: 'error' },
      'torch-flash': { error: 'relL2 0.3 > 0.01 (maxAbs 2) against fp32 math SDPA', kind: 'check' },
      'torch-default': { median_ms: msAt(llama[1], 400), tflops: 1, backend: 'cudnn' },
    } },
  ],
});

describe('peers problem mode (bench --preset --peers)', () => {
  it('parses every kind of entry; TFLOP/s from presetFlops, not the child; the backend that ran is kept', () => {
    const report = parsePeersOutput(problemOutput, llama.slice(0, 2), presetFlops);
    if (!report.available) throw new Error(report.reason);
    expect(report.device).toBe('NVIDIA H100 80GB HBM3');
    expect(report.versions.torch).toBe('2.6.0');
    const [first, second] = report.rows;
    expect(first.shape).toBe(llama[0]);
    expect(first.peers['torch-cudnn']).toMatchObject({ status: 'ok', backend: 'cudnn', relL2: 0.002, minMs: msAt(llama[0], 510) });
    expect(first.peers['torch-cudnn'].status === 'ok' && first.peers['torch-cudnn'].tflops).toBeCloseTo(500, 9);
    expect(first.peers['torch-default']).toMatchObject({ status: 'ok', backend: 'flash' });
    expect(first.peers['torch-flash']).toEqual({ status: 'unsupported', reason: expect.stringContaining('enable_gqa unsupported by this backend') });
    expect(second.peers['torch-cudnn']).toEqual({ status: 'error', reason: 'RuntimeError: cuDNN Frontend error: no valid engine' });
    expect(second.peers['torch-flash']).toMatchObject({ status: 'fail' });
    expect(second.peers['torch-default'].status === 'ok' && second.peers['torch-default'].tflops).toBeCloseTo(400, 9);
  });

  it('the spec: heads = Hq, a new problem field with Hkv, layout, softcap and window; the three torch peers', () => {
    expect(JSON.parse(problemPeersSpec([llama[0]], { warmup: 5, iterations: 25 }))).toEqual({
      configs: [{
        batch: 32, heads: 32, seq_len: 1024, head_dim: 128, dtype: 'f16', causal: true,
        problem: { hq: 32, hkv: 8, layout: 'bnhd', softcap: 0, window: null },
      }],
      warmup: 5, iterations: 25, peers: ['torch-cudnn', 'torch-flash', 'torch-default'],
    });
  });

  it('a softcap or window problem is never sent as timeable; nor is Nq != Nkv', () => {
    expect(sdpaGap(gemma[0])).toBe('torch SDPA has no softcap or sliding window (this problem has softcap 50, window [4096, 0])');
    expect(sdpaGap({ softcap: 0, window: [128, 0] })).toBe('torch SDPA has no softcap or sliding window (this problem has window [128, 0])');
    expect(sdpaGap(llama[0])).toBeUndefined();
    expect(() => problemPeersSpec([llama[0], gemma[0]], problemBase)).toThrow(/cannot time 32x1024 Hq16\/Hkv8 D256: torch SDPA has no softcap/);
    expect(() => problemPeersSpec([{ ...llama[0], softcap: 30 }], problemBase)).toThrow(/softcap 30/);
    expect(() => problemPeersSpec([{ ...llama[0], seqK: 2048 }], problemBase)).toThrow('peers.py times Nq = Nkv only, got Nq 1024, Nkv 2048');
    expect(() => runProblemPeers([gemma[1]], { ...problemBase, python: '/nonexistent/python3' })).toThrow(/softcap/);
  });

  it('runs one child for all problems: the spec on stdin, rows back in order', async () => {
    const script = fakeChild(`
      const spec = JSON.parse(input);
      const results = spec.configs.map((c) => ({ config: c, peers: { 'torch-default': { median_ms: 1, backend: c.problem.layout + ' hkv ' + c.problem.hkv } } }));
      process.stdout.write(JSON.stringify({ versions: {}, results }));`);
    const report = await runProblemPeers(llama, { ...problemBase, python: process.execPath, script });
    if (!report.available) throw new Error(report.reason);
    expect(report.rows.map((r) => r.shape)).toEqual(llama);
    expect(report.rows.map((r) => r.peers['torch-default'])).toEqual(llama.map((p) => ({
      status: 'ok', medianMs: 1, minMs: 1, maxMs: 1, tflops: presetFlops(p) / 1e9, backend: 'bnhd hkv 8',
    })));
  });
});

/** Runs python code in bench/ (so `import peers` works) with `arg` as sys.argv[1]; no bytecode left in the tree. */
function python(code: string, arg = ''): string {
  return execFileSync('python3', ['-B', '-c', code, arg], { cwd: path.dirname(defaultPeersScript()), encoding: 'utf8' });
}

describe.runIf(env.python)('bench/peers.py problem mode, without torch', () => {
  it('refuses a softcap/window problem for every peer, allocating and timing nothing', () => {
    const spec = problemPeersSpec([llama[0]], { warmup: 1, iterations: 2 });
    const gemmaConfig = { ...JSON.parse(spec).configs[0], heads: 16, head_dim: 256, problem: { hq: 16, hkv: 8, layout: 'bnhd', softcap: 50, window: [4096, 0] } };
    // torch stays None: any allocation or timing would raise, so an answer proves none happened.
    const out = python('import json, sys, peers\nprint(json.dumps(peers.run_spec({"configs": [json.loads(sys.argv[1])]})))', JSON.stringify(gemmaConfig));
    const [entry] = JSON.parse(out);
    const why = sdpaGap(gemma[0]);
    expect(entry.peers).toEqual({
      'torch-cudnn': { error: why, kind: 'unsupported' },
      'torch-flash': { error: why, kind: 'unsupported' },
      'torch-default': { error: why, kind: 'unsupported' },
    });
  });

  it('takes the problem field TS sends and rejects one that does not add up', () => {
    const config = JSON.parse(problemPeersSpec([llama[0]], { warmup: 1, iterations: 2 })).configs[0];
    const out = python(`import json, sys, peers
c = json.loads(sys.argv[1])
print(json.dumps([peers.normalise_config(c), peers.describe(peers.normalise_config(c)), peers.sdpa_gap(peers.normalise_config(c))]))
for bad in ({"hkv": 5}, {"hq": 8}, {"layout": "nhd"}):
    try:
        peers.normalise_config({**c, "problem": {**c["problem"], **bad}})
        print("accepted", bad)
    except ValueError as e:
        print("rejected", e)`, JSON.stringify(config));
    const [first, ...rest] = out.trim().split('\n');
    expect(JSON.parse(first)).toEqual([config, 'f16 32x1024 Hq32/Hkv8 D128 bnhd causal', null]);
    expect(rest).toEqual([
      'rejected problem hkv 5 must divide hq 32',
      'rejected problem hq 8 differs from heads 32',
      expect.stringMatching(/^rejected problem layout must be one of bhnd, bnhd/),
    ]);
  });

  it.runIf(!env.torch)('the real script without torch: one reason, through runProblemPeers', async () => {
    const report = await runProblemPeers([llama[0]], { ...problemBase, python: 'python3' });
    expect(!report.available && report.reason).toMatch(/^torch not importable with /);
  });
});
