// The peers timed in rounds interleaved with ours (session 10): one peers.py --serve child per run,
// a request after each of our rounds, the rounds' samples pooled into one report.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { runBench, type BenchDeps } from '../../src/bench/cli.js';
import { mergePeerRounds, peersSpec, PeerSession, problemPeersSpec, runPeers, type PeerCell, type PeerShape, type PeersReport } from '../../src/bench/peers.js';
import { measure, runSweep } from '../../src/bench/runner.js';
import { parseBenchArgs } from '../../src/bench/sweep.js';
import type { AttentionConfig } from '../../src/bench/types.js';
import { fakeProvider, flops } from './fake.js';

const headline: PeerShape = { batch: 8, heads: 16, seqLen: 8192, headDim: 128, dtype: 'f16', causal: false };
const causal: PeerShape = { ...headline, causal: true };

/** A stand-in for `peers.py --serve` run by node: answers each stdin line with `answer(spec, n)`. */
function serveChild(answer: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'peers-serve-'));
  const file = path.join(dir, 'fake-serve.mjs');
  writeFileSync(file, `if (process.argv[2] !== '--serve') { console.log('{"error":"not serve mode"}'); process.exit(0); }
let buf = ''; let n = 0;
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const spec = JSON.parse(buf.slice(0, i)); buf = buf.slice(i + 1); n++;
    process.stderr.write('request ' + n + '\\n');
    ${answer}
  }
});
`);
  return file;
}

const okAnswer = `process.stdout.write(JSON.stringify({ versions: { torch: 'fake' }, device: 'H100', results: spec.configs.map((c, i) => ({ config: c, peers: {
  'torch-cudnn': { median_ms: n + i, min_ms: n + i - 0.5, max_ms: n + i + 0.5, samples_ms: [n + i - 0.5, n + i, n + i + 0.5] } } })) }) + '\\n');`;

function hasPython(): boolean {
  try {
    execFileSync('python3', ['-c', 'pass'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function hasTorchlessPython(): boolean {
  try {
    execFileSync('python3', ['-c', 'pass'], { stdio: 'ignore' });
  } catch {
    return false;
  }
  try {
    execFileSync('python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return false;
  } catch {
    return true;
  }
}

describe('PeerSession: one peers.py --serve child for a run', () => {
  it('answers each request with its own line, from one child (the second request sees request 2)', async () => {
    const session = new PeerSession(process.execPath, serveChild(okAnswer));
    const lines: string[] = [];
    try {
      const a = await runPeers([headline], { python: 'unused', warmup: 1, iterations: 20, flops, session, onStderr: (l) => lines.push(l) });
      const b = await runPeers([headline, causal], { python: 'unused', warmup: 1, iterations: 20, flops, session, onStderr: (l) => lines.push(l) });
      if (!a.available || !b.available) throw new Error('unavailable');
      expect(a.rows[0].peers['torch-cudnn']).toMatchObject({ status: 'ok', medianMs: 1, samplesMs: [0.5, 1, 1.5] });
      // Request 2 of the same child, not a fresh child's request 1.
      expect(b.rows.map((r) => (r.peers['torch-cudnn'] as Extract<PeerCell, { status: 'ok' }>).medianMs)).toEqual([2, 3]);
      // The child's stderr is another pipe than its answers: its line for request 2 may arrive
      // after the answer that ended the request (CI saw that once), so wait for it.
      await vi.waitFor(() => expect(lines).toEqual(['request 1', 'request 2']), { timeout: 2000 });
    } finally {
      session.close();
    }
  });

  it('stops a child that does not answer in time, and every later request says why', async () => {
    const session = new PeerSession(process.execPath, serveChild('/* never answers */'));
    const first = await session.request('{}', { timeoutMs: 200 });
    expect(first).toEqual({ reason: 'peers.py took longer than 0 s and was stopped' });
    expect(await session.request('{}')).toEqual({ reason: 'peers.py took longer than 0 s and was stopped' });
  });

  it('reports a child that exits mid-request by its status and stderr', async () => {
    const session = new PeerSession(process.execPath, serveChild("process.stderr.write('boom\\n'); process.exit(3);"));
    expect(await session.request('{}')).toEqual({ reason: 'peers.py exited with status 3: request 1 | boom' });
  });

  it('reports a missing interpreter as the reason, without throwing', async () => {
    const session = new PeerSession('/nonexistent/python3');
    expect(await session.request('{}')).toEqual({ reason: '/nonexistent/python3 not found' });
  });

  it.runIf(hasTorchlessPython())('the real peers.py --serve answers every line, here with why torch is missing', async () => {
    const session = new PeerSession('python3');
    try {
      for (let i = 0; i < 2; i++) {
        const r = await session.request('{"configs": []}', { timeoutMs: 60_000 });
        expect('line' in r && JSON.parse(r.line).error).toMatch(/^torch not importable with .*No module named 'torch'/);
      }
    } finally {
      session.close();
    }
  });
});

function report(rows: Array<[PeerShape, Record<string, PeerCell>]>): PeersReport {
  return { available: true, versions: { torch: 'fake' }, rows: rows.map(([shape, peers]) => ({ shape, peers })) };
}
const ok = (samples: number[], extra: Partial<Extract<PeerCell, { status: 'ok' }>> = {}): PeerCell => {
  const sorted = [...samples].sort((a, b) => a - b);
  const m = sorted[sorted.length >> 1];
  return { status: 'ok', medianMs: m, minMs: sorted[0], maxMs: sorted[sorted.length - 1], tflops: flops(headline) / (m * 1e9), samplesMs: samples, ...extra };
};

describe('mergePeerRounds', () => {
  it('pools every round\'s samples: the median is over all launches, each round\'s median kept', () => {
    const merged = mergePeerRounds([
      report([[headline, { 'torch-cudnn': ok([1.0, 1.1, 1.2], { relL2: 1e-3 }) }]]),
      report([[headline, { 'torch-cudnn': ok([2.0, 2.1, 2.2], { relL2: 2e-3 }) }]]),
      report([[headline, { 'torch-cudnn': ok([1.3, 1.4, 1.5]) }]]),
    ], flops);
    if (!merged.available) throw new Error(merged.reason);
    const cell = merged.rows[0].peers['torch-cudnn'];
    // The median of the nine pooled samples; min and max over every round; the worst check kept.
    expect(cell).toEqual({
      status: 'ok', medianMs: 1.4, minMs: 1.0, maxMs: 2.2, tflops: flops(headline) / 1.4e9, relL2: 2e-3,
      samplesMs: [1.0, 1.1, 1.2, 2.0, 2.1, 2.2, 1.3, 1.4, 1.5], roundMediansMs: [1.1, 2.1, 1.4],
    });
  });

  it('a cell that is not ok in any round is not ok in the run (the first such status stands)', () => {
    const merged = mergePeerRounds([
      report([[headline, { 'torch-cudnn': ok([1]), triton: ok([1]) }]]),
      report([[headline, { 'torch-cudnn': { status: 'fail', reason: 'relL2 0.3' }, triton: ok([1]) }]]),
    ], flops);
    if (!merged.available) throw new Error(merged.reason);
    expect(merged.rows[0].peers['torch-cudnn']).toEqual({ status: 'fail', reason: 'relL2 0.3' });
    expect(merged.rows[0].peers.triton).toMatchObject({ status: 'ok', roundMediansMs: [1, 1] });
  });

  it('a round whose report lacks a peer\'s cell makes that cell an error naming the round (was a crash)', () => {
    const merged = mergePeerRounds([
      report([[headline, { 'torch-cudnn': ok([1]), triton: ok([1]) }]]),
      report([[headline, { 'torch-cudnn': ok([1]) }]]),
    ], flops);
    if (!merged.available) throw new Error(merged.reason);
    expect(merged.rows[0].peers.triton).toEqual({ status: 'error', reason: 'peers.py gave no entry in round 2/2' });
    expect(merged.rows[0].peers['torch-cudnn']).toMatchObject({ status: 'ok' });
  });

  it('a round without a report makes the run\'s report unavailable, naming the round; one round passes through', () => {
    const one = report([[headline, { 'torch-cudnn': ok([1]) }]]);
    expect(mergePeerRounds([one, { available: false, reason: 'python3 not found' }], flops))
      .toEqual({ available: false, reason: 'round 2/2: python3 not found' });
    expect(mergePeerRounds([one], flops)).toBe(one);
    expect(mergePeerRounds([], flops)).toEqual({ available: false, reason: 'peers were not timed in any round' });
  });
});

describe('the sweep with --peers --rounds: peers interleaved with our rounds', () => {
  it('afterRound runs after each round, before the next one starts', async () => {
    const events: string[] = [];
    const configs: AttentionConfig[] = [{ ...headline, schedule: 'baseline', load: 'tma' }];
    await runSweep(fakeProvider(), configs, {
      warmup: 1, iterations: 20, rounds: 3,
      progress: (l) => events.push(l.slice(0, 11)),
      afterRound: async (round, rounds) => { events.push(`after ${round + 1}/${rounds}`); },
    });
    expect(events).toEqual(['round 1/3 [', 'after 1/3', 'round 2/3 [', 'after 2/3', 'round 3/3 [', 'after 3/3']);
  });

  function harness(runPeersFake: BenchDeps['runPeers']) {
    const out: string[] = [];
    const err: string[] = [];
    const deps: Partial<BenchDeps> = {
      loadProvider: async () => fakeProvider(),
      stdout: (t) => out.push(t), stderr: (l) => err.push(l),
      now: () => new Date('2026-11-28T00:00:00Z'), source: () => ({ commit: 'deadbeef', dirty: false }),
      writeFile: async () => {}, runPeers: runPeersFake,
    };
    return { out, err, deps };
  }

  it('asks the peers once per round, through one session, and reports the pooled median', async () => {
    const sessions = new Set<unknown>();
    let calls = 0;
    const h = harness(async (shapes, opts) => {
      calls++;
      sessions.add(opts.session);
      // Round r's cuDNN takes r ms: pooled over three rounds the median is 2 ms.
      return report(shapes.map((s) => [s, { 'torch-cudnn': { ...ok([calls, calls, calls]), tflops: opts.flops(s) / (calls * 1e9) } }]));
    });
    expect(await runBench(['--quick', '--schedules', 'baseline', '--loads', 'tma', '--peers', '--peer-list', 'torch-cudnn', '--rounds', '3'], h.deps)).toBe(0);
    expect(calls).toBe(3);
    expect(sessions.size).toBe(1);
    expect([...sessions][0]).toBeDefined();
    // Interleaved: each round's progress, then that round's peers.
    const order = h.err.filter((l) => /^round \d\/3 \[|^peers: round \d\/3: timing/.test(l)).map((l) => l.replace(/^(peers: )?round (\d).*/, (_, p, r) => `${p ? 'peers' : 'ours'} ${r}`));
    expect(order).toEqual(['ours 1', 'peers 1', 'ours 2', 'peers 2', 'ours 3', 'peers 3']);
    expect(h.out[0]).toContain((flops(headline) / 2e9).toFixed(1));
  });

  it('stops asking after a round without peers, and says why once', async () => {
    let calls = 0;
    const h = harness(async () => { calls++; return { available: false, reason: '/nope not found' }; });
    expect(await runBench(['--quick', '--schedules', 'baseline', '--loads', 'tma', '--peers', '--rounds', '3'], h.deps)).toBe(0);
    expect(calls).toBe(1);
    expect(h.err.filter((l) => l.startsWith('peers: unavailable'))).toEqual(['peers: unavailable: round 1/1: /nope not found'.replace('round 1/1: ', '')]);
  });
});

describe('--cooldown: the same idle before every timed burst, ours and the peers\'', () => {
  it('parses, defaults to 0, and reaches the peers\' spec only when set', () => {
    expect(parseBenchArgs(['--quick']).cooldownMs).toBe(0);
    expect(parseBenchArgs(['--quick', '--cooldown', '250']).cooldownMs).toBe(250);
    // With peers (and so the gate) 500 ms unless said: the peers' later rounds lost 6-13% without it.
    expect(parseBenchArgs(['--quick', '--peers']).cooldownMs).toBe(500);
    expect(parseBenchArgs(['--preset', 'ci']).cooldownMs).toBe(500);
    expect(parseBenchArgs(['--preset', 'ci', '--cooldown', '0']).cooldownMs).toBe(0);
    expect(JSON.parse(peersSpec([headline], { warmup: 1, iterations: 20, cooldownMs: 500 })).cooldown_ms).toBe(500);
    expect(JSON.parse(peersSpec([headline], { warmup: 1, iterations: 20 }))).not.toHaveProperty('cooldown_ms');
    const llama = { batch: 4, headsQ: 32, headsKV: 8, seqQ: 8192, seqK: 8192, headDim: 128, dtype: 'f16' as const, causal: true, layout: 'bnhd' as const, softcap: 0, window: null };
    expect(JSON.parse(problemPeersSpec([llama], { warmup: 1, iterations: 20, cooldownMs: 250 })).cooldown_ms).toBe(250);
  });

  it('measure idles between the check and the timed burst (and not without it)', async () => {
    const stamps: Record<string, number> = {};
    const prepared = () => Promise.resolve({
      check: async () => { stamps.check = performance.now(); return { ok: true, relL2: 1e-3, maxAbs: 1e-3, lseMaxErr: 0, nan: false, unwritten: 0 }; },
      time: async ({ iterations }: { iterations: number }) => { stamps.time = performance.now(); return Array(iterations).fill(1); },
      dispose: () => {},
    } as never);
    await measure('c', 1e12, prepared, { warmup: 1, iterations: 20, cooldownMs: 120 });
    expect(stamps.time - stamps.check).toBeGreaterThanOrEqual(110);
    await measure('c', 1e12, prepared, { warmup: 1, iterations: 20 });
    expect(stamps.time - stamps.check).toBeLessThan(100);
  });

  it.runIf(hasPython())('bench/peers.py refuses a cooldown outside 0..10000 ms before anything runs', () => {
    const out = execFileSync('python3', ['-B', '-c', `import peers
for c in (-1, 20000, 250):
    try:
        print(peers.run_spec({"configs": [], "cooldown_ms": c}))
    except ValueError as e:
        print("rejected", e)`], { cwd: path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bench'), encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual(['rejected cooldown_ms must be in 0..10000, got -1.0', 'rejected cooldown_ms must be in 0..10000, got 20000.0', '[]']);
  });
});
