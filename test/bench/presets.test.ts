import { describe, expect, it } from 'vitest';
import { runBench, type BenchDeps } from '../../src/bench/cli.js';
import { parsePeersOutput, runProblemPeers, type PeersReport } from '../../src/bench/peers.js';
import { formatPresetTables, presetPeerStatuses } from '../../src/bench/preset_table.js';
import { timePresetPeers, type PresetResult } from '../../src/bench/preset_runner.js';
import {
  buildPresetSweep, checkRows, findPreset, presetFlops, presetProblems, presetShapes, PRESET_NAMES, visiblePairs,
  type PresetConfig, type PresetShape,
} from '../../src/bench/presets.js';
import { parseBenchArgs, USAGE } from '../../src/bench/sweep.js';
import type { CheckResult } from '../../src/bench/types.js';
import type { Readiness } from '../../src/runtime/devices.js';
import { fakeProvider } from './fake.js';

/** The definition, pair by pair: key j is visible to row i when j <= i + Nk - Nq (causal) and within [diag - left, diag + right]. */
function brutePairs(nq: number, nk: number, causal: boolean, window: [number, number] | null): number {
  let n = 0;
  for (let i = 0; i < nq; i++) {
    const diag = i + nk - nq;
    for (let j = 0; j < nk; j++) {
      if (causal && j > diag) continue;
      if (window && window[0] >= 0 && j < diag - window[0]) continue;
      if (window && window[1] >= 0 && j > diag + window[1]) continue;
      n++;
    }
  }
  return n;
}

describe('preset FLOPs', () => {
  it('counts visible pairs exactly: causal, windows, Nq != Nk both ways, against brute force', () => {
    const windows: Array<[number, number] | null> = [null, [0, 0], [2, 0], [3, 1], [-1, 2], [1, -1], [5, 5]];
    for (const [nq, nk] of [[1, 1], [1, 7], [7, 1], [5, 5], [4, 9], [9, 4], [16, 16]]) {
      for (const causal of [false, true]) {
        for (const w of windows) expect(visiblePairs(nq, nk, causal, w), `${nq}x${nk} causal ${causal} window ${w}`).toBe(brutePairs(nq, nk, causal, w));
      }
    }
  });

  it('Nq = Nk causal is N(N+1)/2 per head; a window [L, 0] caps each row at L + 1 keys', () => {
    for (const n of [1, 2, 1024, 16384]) expect(visiblePairs(n, n, true, null)).toBe((n * (n + 1)) / 2);
    const n = 16384, l = 4096;
    expect(visiblePairs(n, n, true, [l, 0])).toBe(((l + 1) * (l + 2)) / 2 - (l + 1) + (n - l) * (l + 1));
    expect(visiblePairs(4, 2, true, null)).toBe(0 + 0 + 1 + 2); // bottom-right: the first two rows see nothing
  });

  it('is 4 * B * Hq * D * pairs', () => {
    const s = presetShapes(findPreset('llama3-8b')!)[0];
    expect(presetFlops(s)).toBe(4 * 32 * 32 * 128 * ((1024 * 1025) / 2));
    const g = presetShapes(findPreset('gemma2-9b')!)[4];
    expect(presetFlops(g)).toBe(4 * 2 * 16 * 256 * visiblePairs(16384, 16384, true, [4096, 0]));
  });
});

describe('preset shapes', () => {
  it('llama3-8b and gemma2-9b: heads, head dim, mask, BNHD, N 1k..16k with 32k tokens', () => {
    expect(presetShapes(findPreset('llama3-8b')!).map((s) => [s.batch, s.seqQ, s.seqK])).toEqual([
      [32, 1024, 1024], [16, 2048, 2048], [8, 4096, 4096], [4, 8192, 8192], [2, 16384, 16384],
    ]);
    expect(presetShapes(findPreset('llama3-8b')!)[0]).toMatchObject({ headsQ: 32, headsKV: 8, headDim: 128, causal: true, window: null, softcap: 0, dtype: 'f16', layout: 'bnhd' });
    expect(presetShapes(findPreset('gemma2-9b')!)[0]).toMatchObject({ headsQ: 16, headsKV: 8, headDim: 256, causal: true, window: [4096, 0], softcap: 50, dtype: 'f16', layout: 'bnhd' });
    expect(buildPresetSweep(['gemma2-9b'], ['baseline', 'secondDot']).map((c) => `${c.seqQ} ${c.schedule}`).slice(0, 3))
      .toEqual(['1024 baseline', '1024 secondDot', '2048 baseline']);
  });

  it('check rows: both ends, the middle, the window edge, all in range', () => {
    const rows = checkRows(8192, [4096, 0], 7);
    for (const r of [0, 1, 4095, 4096, 4097, 8190, 8191]) expect(rows).toContain(r);
    expect(rows.every((r) => r >= 0 && r < 8192)).toBe(true);
    expect(checkRows(2, null, 1)).toEqual([0, 1]);
  });
});

describe('--preset flags', () => {
  it('parses names (repeatable, comma-separated) and keeps the sweep flags that apply', () => {
    const o = parseBenchArgs(['--preset', 'llama3-8b,gemma2-9b', '--preset=llama3-8b', '--schedules', 'secondDot', '--rounds', '3']);
    expect(o.presets).toEqual(['llama3-8b', 'gemma2-9b']);
    expect(o.schedules).toEqual(['secondDot']);
    expect(parseBenchArgs([]).presets).toEqual([]);
  });

  it('an unknown preset names the known ones', () => {
    expect(() => parseBenchArgs(['--preset', 'mistral-7b'])).toThrow(`--preset: unknown 'mistral-7b'; expected a comma-separated list from ${PRESET_NAMES.join(', ')}`);
  });

  it('--shape, --quick, --dtype, --causal, --loads and --svg are errors with --preset', () => {
    expect(() => parseBenchArgs(['--preset', 'llama3-8b', '--shape', '1,1,128,128'])).toThrow('--preset fixes shapes, dtype, mask and load kind: --shape cannot be combined with it');
    expect(() => parseBenchArgs(['--quick', '--dtype', 'f16', '--preset', 'gemma2-9b'])).toThrow(/--quick, --dtype cannot/);
    expect(() => parseBenchArgs(['--preset', 'gemma2-9b', '--svg', 'x.svg'])).toThrow(/--svg/);
  });

  it('--help describes the presets', () => {
    expect(USAGE).toContain('--preset NAME');
    expect(USAGE).toContain('llama3-8b  Hq 32, Hkv 8, D 128, causal, f16, layout BNHD');
    expect(USAGE).toContain('gemma2-9b  Hq 16, Hkv 8, D 256, causal, window [4096, 0], softcap 50');
    expect(USAGE).toContain('batch B = 32768 / N');
  });
});

const CHECK_OK: CheckResult = { ok: true, relL2: 1e-3, maxAbs: 1e-3, nan: false, unwritten: 0 };

function ok(config: PresetConfig, tflops: number): PresetResult {
  const flops = presetFlops(config);
  const ms = flops / (tflops * 1e9);
  return { config, flops, status: 'ok', check: CHECK_OK, timing: { medianMs: ms, minMs: ms, maxMs: ms, samplesMs: [ms] }, tflops };
}

const llama = presetShapes(findPreset('llama3-8b')!);

/** peers.py's problem-mode answer for llama3-8b's shapes: cuDNN at 500, flash refused (GQA), torch's pick varies. */
function peersOutput(problems: readonly PresetShape[], defaultFor: (p: PresetShape, i: number) => object = (p) => ({ median_ms: msAt(p, 400), backend: 'cudnn' })): string {
  return JSON.stringify({
    versions: { torch: '2.6.0' }, device: 'NVIDIA H100 80GB HBM3',
    results: problems.map((p, i) => ({ config: {}, peers: {
      'torch-cudnn': { median_ms: msAt(p, 500), backend: 'cudnn' },
      'torch-flash': { error: 'torch-flash cannot run it: enable_gqa unsupported by this backend', kind: 'unsupported' },
      'torch-default': defaultFor(p, i),
    } })),
  });
}
const msAt = (p: PresetShape, tflops: number) => presetFlops(p) / (tflops * 1e9);

describe('preset peers', () => {
  it('asks once per preset shape (schedules collapse), in sweep order', () => {
    const problems = presetProblems(buildPresetSweep(['llama3-8b', 'gemma2-9b'], ['baseline', 'firstDot', 'secondDot']));
    expect(problems.map((p) => `${p.preset} ${p.seqQ}`)).toEqual([...llama.map((p) => `llama3-8b ${p.seqQ}`), ...llama.map((p) => `gemma2-9b ${p.seqQ}`)]);
    expect(problems[0]).toEqual(llama[0]);
  });

  it('sends only what SDPA can pose: gemma2-9b (softcap, window) never reaches peers.py and says why', async () => {
    const configs = buildPresetSweep(['gemma2-9b', 'llama3-8b'], ['secondDot']);
    const sent: PresetShape[][] = [];
    const log: string[] = [];
    const statuses = await timePresetPeers(configs, configs.map((c) => ok(c, 600)), {
      run: async (problems, opts) => {
        sent.push([...problems]);
        expect(opts).toMatchObject({ python: 'py', warmup: 3, iterations: 21, peers: ['torch-cudnn', 'torch-flash', 'torch-default'] });
        return parsePeersOutput(peersOutput(problems), problems, opts.flops);
      },
      python: 'py', warmup: 3, iterations: 21, log: (l) => log.push(l),
    });
    expect(sent).toEqual([llama]);
    expect(sent.flat().every((p) => p.softcap === 0 && p.window === null)).toBe(true);
    expect(statuses.map((s) => [s.preset, s.status])).toEqual([['gemma2-9b', 'n/a'], ['llama3-8b', 'timed']]);
    expect(statuses[0].reason).toBe('torch SDPA has no softcap or sliding window (this problem has softcap 50, window [4096, 0])');
    expect(log).toEqual([
      'peers: timing torch SDPA (cuDNN, flash, torch\'s own pick) on 5 preset shapes with py',
      `peers: gemma2-9b: torch SDPA n/a: ${statuses[0].reason}`,
    ]);
    // best / peer from our FLOPs: 600 against cuDNN at 500 and torch's pick at 400.
    expect(statuses[1].rows[0]).toMatchObject({ shape: '32x1024 Hq32/Hkv8 D128', best: 600 });
    expect(statuses[1].rows[0].ratios['torch-cudnn']).toBeCloseTo(1.2, 9);
    expect(statuses[1].rows[0].ratios['torch-default']).toBeCloseTo(1.5, 9);
    expect(statuses[1].rows[0].ratios).not.toHaveProperty('torch-flash');
  });

  it('a gemma2-9b-only run starts no child at all', async () => {
    const configs = buildPresetSweep(['gemma2-9b'], ['secondDot']);
    const statuses = await timePresetPeers(configs, [], {
      run: async () => { throw new Error('peers.py must not run for softcap/window problems'); },
      python: 'py', warmup: 1, iterations: 20, log: () => {},
    });
    expect(statuses).toEqual([{ preset: 'gemma2-9b', status: 'n/a', reason: expect.stringContaining('softcap 50'), peers: [], rows: [] }]);
  });
});

describe('preset tables', () => {
  const configs = buildPresetSweep(['llama3-8b', 'gemma2-9b'], ['baseline', 'secondDot']).filter((c) => c.seqQ <= 2048);
  const results = configs.map((c, i): PresetResult =>
    c.preset === 'gemma2-9b' && c.seqQ === 2048 && c.schedule === 'baseline'
      ? { config: c, flops: presetFlops(c), status: 'fail', check: { ...CHECK_OK, ok: false }, reason: 'check not ok' }
      : ok(c, 400 + i));

  it('a row per shape, a column per schedule, best, each torch peer and best/peer; n/a with the reason once', () => {
    const problems = llama.slice(0, 2);
    const peers = parsePeersOutput(peersOutput(problems, (p, i) => (i === 0
      ? { median_ms: msAt(p, 250), backend: 'cudnn' }
      : { error: 'RuntimeError: CUDA out of memory', kind: 'error' })), problems, presetFlops);
    const text = formatPresetTables(results, { card: 'Fake', warmup: 10, iterations: 30, peers: presetPeerStatuses(['llama3-8b', 'gemma2-9b'], results, peers) });
    expect(text).toContain('preset llama3-8b (Hq 32, Hkv 8, D 128, causal), f16, bnhd (TFLOP/s):');
    expect(text).toContain('preset gemma2-9b (Hq 16, Hkv 8, D 256, causal, window [4096, 0], softcap 50), f16, bnhd (TFLOP/s):');
    const lines = text.split('\n');
    const headers = lines.filter((l) => l.includes('SeqLen')).map((l) => l.trim().split(/\s{2,}/));
    expect(headers[0]).toEqual([
      'Batch', 'SeqLen', 'Hq', 'Hkv', 'Dhead', 'baseline', 'secondDot', 'best',
      'torch-cudnn', 'torch-flash', 'torch-default', 'best/torch-cudnn', 'best/torch-flash', 'best/torch-default',
    ]);
    expect(headers[1]).toEqual(['Batch', 'SeqLen', 'Hq', 'Hkv', 'Dhead', 'baseline', 'secondDot', 'best', 'torch SDPA']);
    const row = (i: number) => lines.find((l) => l.startsWith(`${i} `) && l.includes(' 128 '))!.trim().split(/\s+/);
    expect(row(0)).toEqual(['0', '32', '1024', '32', '8', '128', '400.0', '401.0', '401.0', '500.0', 'unsup', '250.0', '0.80x', '-', '1.60x']);
    expect(row(1)).toEqual(['1', '16', '2048', '32', '8', '128', '402.0', '403.0', '403.0', '500.0', 'unsup', 'ERR', '0.81x', '-', '-']);
    expect(text).toMatch(/1\s+16\s+2048\s+16\s+8\s+256\s+FAIL\s+407\.0\s+407\.0\s+n\/a\n/);
    expect(text).toContain('torch SDPA n/a: torch SDPA has no softcap or sliding window (this problem has softcap 50, window [4096, 0])');
    // Which backend each peer ran, and each reason once, not once per cell.
    expect(lines).toContain('torch-cudnn ran cudnn (2 shapes)');
    expect(lines).toContain('torch-default: torch picked cudnn (32x1024 Hq32/Hkv8 D128)');
    expect(lines).toContain('torch-default ERR: RuntimeError: CUDA out of memory (16x2048 Hq32/Hkv8 D128)');
    expect(lines.filter((l) => l.includes('enable_gqa unsupported'))).toEqual(['torch-flash unsup: torch-flash cannot run it: enable_gqa unsupported by this backend (2 shapes)']);
    expect(text).toContain('GQA through enable_gqa on [B, H, N, D] views (transposes, no copy)');
    expect(text).toContain('8 configs: 7 timed, 1 FAIL (check failed, not timed), 0 ERR');
  });

  it('torch picking different backends per shape is said per backend', () => {
    const problems = llama.slice(0, 3);
    const peers = parsePeersOutput(peersOutput(problems, (p, i) => ({ median_ms: msAt(p, 300), backend: i === 2 ? 'flash' : 'cudnn' })), problems, presetFlops);
    const text = formatPresetTables(results, { card: 'Fake', warmup: 10, iterations: 30, peers: presetPeerStatuses(['llama3-8b', 'gemma2-9b'], results, peers) });
    expect(text).toContain('torch-default: torch picked cudnn (2 shapes), flash (8x4096 Hq32/Hkv8 D128)');
  });

  it('peers.py unavailable: n/a in every peer column, no ratios, the reason once', () => {
    const peers: PeersReport<PresetShape> = { available: false, reason: "torch not importable with python3: No module named 'torch'" };
    const text = formatPresetTables(results, { card: 'Fake', warmup: 10, iterations: 30, peers: presetPeerStatuses(['llama3-8b', 'gemma2-9b'], results, peers) });
    const lines = text.split('\n');
    expect(lines.find((l) => l.includes('SeqLen'))!.trim().split(/\s{2,}/).slice(-4)).toEqual(['best', 'torch-cudnn', 'torch-flash', 'torch-default']);
    expect(text).toMatch(/0\s+32\s+1024\s+32\s+8\s+128\s+400\.0\s+401\.0\s+401\.0\s+n\/a\s+n\/a\s+n\/a\n/);
    expect(lines.filter((l) => l.startsWith('peers: n/a'))).toEqual(["peers: n/a: torch not importable with python3: No module named 'torch'"]);
  });

  it('no torch column without --peers', () => {
    const text = formatPresetTables(buildPresetSweep(['llama3-8b'], ['secondDot']).map((c) => ok(c, 500)), { card: 'Fake', warmup: 10, iterations: 30 });
    expect(text).not.toContain('torch');
    expect(text).toContain('FLOPs = 4 * B * Hq * D * visible (query, key) pairs');
  });
});

function presetHarness(missing?: () => Readiness, tflopsFor: (c: PresetConfig) => number = () => 450, checkFor: (c: PresetConfig) => Partial<CheckResult> = () => ({})) {
  const out: string[] = [];
  const err: string[] = [];
  const files = new Map<string, string>();
  const timed: string[] = [];
  const provider = {
    ...fakeProvider(undefined, undefined, missing),
    async preparePreset(config: PresetConfig) {
      return {
        config,
        async check() { return { ...CHECK_OK, ...checkFor(config) }; },
        async time({ iterations }: { iterations: number }) {
          timed.push(`${config.preset} ${config.seqQ} ${config.schedule}`);
          return Array.from({ length: iterations }, () => presetFlops(config) / (tflopsFor(config) * 1e9));
        },
        dispose() {},
      };
    },
  };
  const deps: Partial<BenchDeps> = {
    loadProvider: async () => provider,
    stdout: (t) => out.push(t),
    stderr: (l) => err.push(l),
    now: () => new Date('2025-06-01T12:00:00Z'),
    source: () => ({ commit: 'deadbeef', dirty: false }),
    writeFile: async (f, t) => { files.set(f, t); },
    runPeers: async () => { throw new Error('the sweep peers (MHA shapes) must not run for presets'); },
    runProblemPeers: async () => { throw new Error('peers not expected'); },
  };
  return { out, err, files, timed, provider, deps };
}

describe('stagewise bench --preset', () => {
  it('without a GPU: the same one line and exit 2, nothing prepared', async () => {
    const h = presetHarness(() => ({ gpu: 'no CUDA device' }));
    expect(await runBench(['--preset', 'llama3-8b'], h.deps)).toBe(2);
    expect(h.err).toHaveLength(1);
    expect(h.err[0]).toMatch(/^stagewise bench: no usable GPU \(no CUDA device\); /);
    expect(h.timed).toEqual([]);
  });

  it('runs every shape x schedule, prints the table, writes presets into --json', async () => {
    const h = presetHarness(undefined, (c) => (c.schedule === 'secondDot' ? 500 : 450));
    expect(await runBench(['--preset', 'llama3-8b', '--json', '/tmp/p.json'], h.deps)).toBe(0);
    expect(h.err[0]).toBe('stagewise bench: presets llama3-8b: 15 configs on Fake H100 <test> (warm-up 10, 30 timed launches each)');
    expect(h.err[1]).toMatch(/^\[1\/15\] llama3-8b baseline 32x1024 Hq32\/Hkv8 D128 \.\.\. 450\.0 TFLOP\/s$/);
    expect(h.out[0]).toContain('preset llama3-8b');
    expect(h.out[0]).not.toContain('torch');
    expect(h.out[0]).toMatch(/2\s+16384\s+32\s+8\s+128\s+450\.0\s+450\.0\s+500\.0\s+500\.0\n/);
    const report = JSON.parse(h.files.get('/tmp/p.json')!);
    expect(report.results).toEqual([]);
    expect(report.options.presets).toEqual(['llama3-8b']);
    expect(report.presets.results).toHaveLength(15);
    expect(report.presets.results[0]).toMatchObject({ status: 'ok', config: { preset: 'llama3-8b', batch: 32, seqQ: 1024, schedule: 'baseline' } });
    expect(report.presets.peers).toBeNull();
  });

  it('--peers: one peers.py child for llama3-8b\'s shapes, numbers and ratios in the table and --json, gemma2-9b n/a', async () => {
    const h = presetHarness(undefined, (c) => (c.schedule === 'secondDot' ? 500 : 450));
    const asked: Array<{ problems: PresetShape[]; python: string }> = [];
    h.deps.runProblemPeers = (async (problems: readonly PresetShape[], opts: Parameters<typeof runProblemPeers<PresetShape>>[1]) => {
      asked.push({ problems: [...problems], python: opts.python });
      opts.onStderr?.('[1/5] torch-cudnn f16 32x1024 Hq32/Hkv8 D128 bnhd causal ... 480.0 TFLOP/s (ran cudnn)');
      return parsePeersOutput(peersOutput(problems), problems, opts.flops);
    }) as typeof runProblemPeers;
    expect(await runBench(['--preset', 'llama3-8b,gemma2-9b', '--schedules', 'secondDot', '--peers', '--python', 'py3', '--json', '/tmp/p.json', '--cooldown', '0'], h.deps)).toBe(0);
    expect(asked).toEqual([{ problems: llama, python: 'py3' }]);
    expect(h.err).toContain('peers: [1/5] torch-cudnn f16 32x1024 Hq32/Hkv8 D128 bnhd causal ... 480.0 TFLOP/s (ran cudnn)');
    expect(h.err).toContain('peers: gemma2-9b: torch SDPA n/a: torch SDPA has no softcap or sliding window (this problem has softcap 50, window [4096, 0])');
    expect(h.out[0]).toMatch(/2\s+16384\s+32\s+8\s+128\s+500\.0\s+500\.0\s+500\.0\s+unsup\s+400\.0\s+1\.00x\s+-\s+1\.25x\n/);
    expect(h.out[0]).toMatch(/2\s+16384\s+16\s+8\s+256\s+500\.0\s+500\.0\s+n\/a\n/);
    expect(h.out[0]).toContain('torch-default: torch picked cudnn (5 shapes)');
    const report = JSON.parse(h.files.get('/tmp/p.json')!);
    const [llamaPeers, gemmaPeers] = report.presets.peers;
    expect(gemmaPeers).toEqual({ preset: 'gemma2-9b', status: 'n/a', reason: expect.stringContaining('softcap 50, window [4096, 0]'), peers: [], rows: [] });
    expect(llamaPeers).toMatchObject({ preset: 'llama3-8b', status: 'timed', device: 'NVIDIA H100 80GB HBM3', peers: ['torch-cudnn', 'torch-flash', 'torch-default'] });
    expect(llamaPeers.rows).toHaveLength(5);
    expect(llamaPeers.rows[4]).toMatchObject({
      shape: '2x16384 Hq32/Hkv8 D128',
      peers: { 'torch-cudnn': { status: 'ok', backend: 'cudnn' }, 'torch-flash': { status: 'unsupported', reason: expect.stringContaining('enable_gqa') } },
    });
    expect(llamaPeers.rows[4].best).toBeCloseTo(500, 9);
    expect(llamaPeers.rows[4].ratios['torch-default']).toBeCloseTo(1.25, 9);
  });

  it('--peers without python: the reason in the table and --json, no number', async () => {
    const h = presetHarness();
    h.deps.runProblemPeers = runProblemPeers;
    expect(await runBench(['--preset', 'llama3-8b', '--schedules', 'secondDot', '--peers', '--python', '/nonexistent/python3', '--json', '/tmp/p.json', '--cooldown', '0'], h.deps)).toBe(0);
    expect(h.err).toContain('peers: unavailable: /nonexistent/python3 not found');
    expect(h.out[0]).toContain('peers: n/a: /nonexistent/python3 not found');
    expect(JSON.parse(h.files.get('/tmp/p.json')!).presets.peers).toEqual([{
      preset: 'llama3-8b', status: 'unavailable', reason: '/nonexistent/python3 not found', peers: ['torch-cudnn', 'torch-flash', 'torch-default'], rows: [],
    }]);
  });

  it('a failing check shows FAIL, is never timed, and exits 1', async () => {
    const h = presetHarness(undefined, undefined, (c) => (c.seqQ === 4096 && c.schedule === 'firstDot' ? { ok: false, relL2: 0.3 } : {}));
    expect(await runBench(['--preset', 'gemma2-9b'], h.deps)).toBe(1);
    expect(h.timed).not.toContain('gemma2-9b 4096 firstDot');
    expect(h.timed).toHaveLength(14);
    expect(h.out[0]).toMatch(/8\s+4096\s+16\s+8\s+256\s+\S+\s+FAIL/);
  });

  it('a provider without preparePreset: every config ERR with the reason', async () => {
    const h = presetHarness();
    delete (h.provider as { preparePreset?: unknown }).preparePreset;
    expect(await runBench(['--preset', 'llama3-8b', '--schedules', 'secondDot'], h.deps)).toBe(0);
    expect(h.err[1]).toMatch(/ERR in prepare \(the stagewise api loaded has no tensor entry point for presets/);
  });
});
