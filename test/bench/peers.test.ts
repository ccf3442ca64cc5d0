import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultPeersScript, parsePeersOutput, peerShapes, peersSpec, runPeers, type PeerShape } from '../../src/bench/peers.js';
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
