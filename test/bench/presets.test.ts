import { describe, expect, it } from 'vitest';
import { runBench, type BenchDeps } from '../../src/bench/cli.js';
import { formatPresetTables, presetPeerStatus } from '../../src/bench/preset_table.js';
import type { PresetResult } from '../../src/bench/preset_runner.js';
import {
  buildPresetSweep, checkRows, findPreset, presetFlops, presetShapes, PRESET_NAMES, visiblePairs, type PresetConfig,
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

describe('preset tables', () => {
  it('a row per shape, a column per schedule, best, and the torch cell', () => {
    const configs = buildPresetSweep(['llama3-8b', 'gemma2-9b'], ['baseline', 'secondDot']).filter((c) => c.seqQ <= 2048);
    const results = configs.map((c, i): PresetResult =>
      c.preset === 'gemma2-9b' && c.seqQ === 2048 && c.schedule === 'baseline'
        ? { config: c, flops: presetFlops(c), status: 'fail', check: { ...CHECK_OK, ok: false }, reason: 'check not ok' }
        : ok(c, 400 + i));
    const text = formatPresetTables(results, { card: 'Fake', warmup: 10, iterations: 30, peers: ['llama3-8b', 'gemma2-9b'].map(presetPeerStatus) });
    expect(text).toContain('preset llama3-8b (Hq 32, Hkv 8, D 128, causal), f16, bnhd (TFLOP/s):');
    expect(text).toContain('preset gemma2-9b (Hq 16, Hkv 8, D 256, causal, window [4096, 0], softcap 50), f16, bnhd (TFLOP/s):');
    const lines = text.split('\n');
    const header = lines.find((l) => l.includes('SeqLen'))!;
    expect(header.trim().split(/\s{2,}/)).toEqual(['Batch', 'SeqLen', 'Hq', 'Hkv', 'Dhead', 'baseline', 'secondDot', 'best', 'torch SDPA']);
    expect(lines).toContain('0     32    1024  32    8    128     400.0      401.0  401.0     not run');
    expect(text).toMatch(/1\s+16\s+2048\s+16\s+8\s+256\s+FAIL\s+407\.0\s+407\.0\s+n\/a \(softcap\/window not in SDPA\)/);
    expect(text).toContain('torch SDPA not run: bench/peers.py takes MHA configs only');
    expect(text).toContain('8 configs: 7 timed, 1 FAIL (check failed, not timed), 0 ERR');
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
    runPeers: async () => { throw new Error('peers.py must not run for presets'); },
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

  it('runs every shape x schedule, prints the table, writes presets into --json, never fakes a peer', async () => {
    const h = presetHarness(undefined, (c) => (c.schedule === 'secondDot' ? 500 : 450));
    expect(await runBench(['--preset', 'llama3-8b', '--peers', '--json', '/tmp/p.json'], h.deps)).toBe(0);
    expect(h.err[0]).toBe('stagewise bench: presets llama3-8b: 15 configs on Fake H100 <test> (warm-up 10, 30 timed launches each)');
    expect(h.err[1]).toMatch(/^\[1\/15\] llama3-8b baseline 32x1024 Hq32\/Hkv8 D128 \.\.\. 450\.0 TFLOP\/s$/);
    expect(h.err).toContain(`peers: llama3-8b: torch SDPA not run: ${presetPeerStatus('llama3-8b').reason}`);
    expect(h.out[0]).toContain('preset llama3-8b');
    expect(h.out[0]).toMatch(/2\s+16384\s+32\s+8\s+128\s+450\.0\s+450\.0\s+500\.0\s+500\.0\s+not run/);
    const report = JSON.parse(h.files.get('/tmp/p.json')!);
    expect(report.results).toEqual([]);
    expect(report.options.presets).toEqual(['llama3-8b']);
    expect(report.presets.results).toHaveLength(15);
    expect(report.presets.results[0]).toMatchObject({ status: 'ok', config: { preset: 'llama3-8b', batch: 32, seqQ: 1024, schedule: 'baseline' } });
    expect(report.presets.peers).toEqual([presetPeerStatus('llama3-8b')]);
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
