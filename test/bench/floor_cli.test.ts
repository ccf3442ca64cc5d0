import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBench, type BenchDeps } from '../../src/bench/cli.js';
import { defaultFloorPath, noFloorLine } from '../../src/bench/floor.js';
import { peerShapeKey, peerShapes, type PeerCell, type PeersReport, type PeerShape } from '../../src/bench/peers.js';
import { buildSweep, DEFAULT_SCHEDULES, LOADS, parseBenchArgs, USAGE } from '../../src/bench/sweep.js';
import type { AttentionConfig } from '../../src/bench/types.js';
import { fakeProvider } from './fake.js';

const CI_KEYS = [
  '64x16x1024x128', '32x16x2048x128', '16x16x4096x128', '8x16x8192x128', '2x16x16384x128', '8x32x8192x64', '4x16x8192x256',
].flatMap((s) => [`f16 non-causal ${s}`, `f16 causal ${s}`]);

describe('--preset ci', () => {
  it("is the issue's 14 configs: 7 shapes, f16, non-causal and causal, every named schedule on TMA loads, peers on", () => {
    const options = parseBenchArgs(['--preset', 'ci']);
    expect(options).toMatchObject({ ci: true, peers: true, presets: [], dtypes: ['f16'], causal: [false, true], updateFloor: false, floor: undefined, loads: ['tma'] });
    const configs = buildSweep(options);
    expect(peerShapes(configs).map(peerShapeKey).sort()).toEqual([...CI_KEYS].sort());
    expect(configs).toHaveLength(14 * DEFAULT_SCHEDULES.length);
    expect(new Set(configs.map((c) => c.schedule))).toEqual(new Set(DEFAULT_SCHEDULES));
    expect(new Set(configs.map((c) => c.load))).toEqual(new Set(['tma']));
  });

  it('times every load kind when --loads asks (the sweep without the preset still times both by default)', () => {
    const all = buildSweep(parseBenchArgs(['--preset', 'ci', '--loads', LOADS.join(',')]));
    expect(all).toHaveLength(14 * DEFAULT_SCHEDULES.length * LOADS.length);
    expect(parseBenchArgs(['--quick']).loads).toEqual([...LOADS]);
  });

  it('parses --update-floor, --floor and the sweep flags it leaves open', () => {
    const options = parseBenchArgs(['--preset=ci', '--peers', '--rounds', '3', '--update-floor', '--floor', 'x/floor.json', '--loads', 'tma']);
    expect(options).toMatchObject({ ci: true, updateFloor: true, floor: 'x/floor.json', rounds: 3, loads: ['tma'] });
  });

  it('rejects flags that would change its configs, and floor flags without it, naming each', () => {
    expect(() => parseBenchArgs(['--preset', 'ci', '--shape', '1,1,1024,64'])).toThrow('--preset ci fixes shapes, dtype and mask: --shape cannot be combined with it');
    expect(() => parseBenchArgs(['--preset', 'ci', '--quick', '--causal', 'no'])).toThrow('--quick, --causal cannot be combined');
    expect(() => parseBenchArgs(['--preset', 'ci,llama3-8b'])).toThrow('--preset ci runs the MHA sweep and cannot be combined with model presets (llama3-8b)');
    expect(() => parseBenchArgs(['--update-floor'])).toThrow('--update-floor needs --preset ci');
    expect(() => parseBenchArgs(['--quick', '--floor', 'f.json'])).toThrow('--floor needs --preset ci');
    expect(() => parseBenchArgs(['--preset', 'ci', '--update-floor=yes'])).toThrow("--update-floor takes no value");
  });

  it('--help documents the gate and its flags', () => {
    for (const text of ['--preset ci', '--update-floor', '--floor FILE', 'within 5% of the floor file']) expect(USAGE).toContain(text);
  });
});

/** torch-cudnn at `tflops(shape)` for every shape asked (undefined: no cell for it). */
function fakePeers(tflops: (s: PeerShape) => number | undefined): BenchDeps['runPeers'] {
  return async (shapes) => ({
    available: true, versions: {},
    rows: shapes.map((shape) => {
      const t = tflops(shape);
      const peers: Record<string, PeerCell> = t === undefined ? {} : { 'torch-cudnn': { status: 'ok', medianMs: 1, minMs: 1, maxMs: 1, tflops: t } };
      return { shape, peers };
    }),
  });
}

function harness(opts: { stagewise?: (c: AttentionConfig) => number; runPeers?: BenchDeps['runPeers']; floors?: Map<string, string> } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const files = opts.floors ?? new Map<string, string>();
  const deps: Partial<BenchDeps> = {
    loadProvider: async () => fakeProvider(undefined, opts.stagewise),
    runPeers: opts.runPeers ?? fakePeers(() => 500),
    stdout: (t) => out.push(t),
    stderr: (l) => err.push(l),
    now: () => new Date('2026-03-01T00:00:00Z'),
    source: () => ({ commit: 'f100r', dirty: false }),
    writeFile: async (f, t) => { files.set(f, t); },
    readFile: async (f) => {
      const text = files.get(f);
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${f}'`), { code: 'ENOENT' });
      return text;
    },
  };
  return { out, err, files, deps };
}

/** A real directory, since --update-floor checks it is writable before the sweep; the file itself stays in the fake. */
const FLOOR = path.join(mkdtempSync(path.join(tmpdir(), 'stagewise-floor-')), 'floor.json');
const ARGS = ['--preset', 'ci', '--iterations', '20', '--warmup', '1', '--floor', FLOOR, '--cooldown', '0']; // no idle between fake bursts

describe('the gate through stagewise bench', () => {
  it('without a floor: fails with the command that makes one', async () => {
    const h = harness();
    expect(await runBench(ARGS, h.deps)).toBe(1);
    expect(h.err).toContain(noFloorLine(FLOOR));
  });

  it('--update-floor writes a floor that the next identical run passes, and a 6% drop fails', async () => {
    const floors = new Map<string, string>();
    const first = harness({ floors });
    expect(await runBench([...ARGS, '--update-floor'], first.deps)).toBe(0);
    const floor = JSON.parse(floors.get(FLOOR)!);
    expect(floor).toMatchObject({ version: 1, card: 'Fake H100 <test>', commit: 'f100r', command: `npm run bench -- ${[...ARGS, '--update-floor'].join(' ')}` });
    expect(Object.keys(floor.configs).sort()).toEqual([...CI_KEYS].sort());
    for (const { ratio } of Object.values(floor.configs) as Array<{ ratio: number }>) expect(ratio).toBeCloseTo(1, 3);

    const again = harness({ floors });
    expect(await runBench(ARGS, again.deps)).toBe(0);
    const report = again.out.at(-1)!.split('\n');
    expect(report.filter((l) => / PASS$/.test(l))).toHaveLength(14);
    expect(report.at(-1)).toBe('gate: PASS: 14 configs within 5% of the floor');

    const slower = harness({ floors, stagewise: (c) => (c.causal && c.headDim === 256 ? 470 : 500) });
    expect(await runBench(ARGS, slower.deps)).toBe(1);
    expect(slower.out.at(-1)!.split('\n').at(-1)).toBe('gate: FAIL: 1 of 14 configs: f16 causal 4x16x8192x256');
  });

  it('peers unavailable: every config fails, named with the reason, and no floor is written', async () => {
    const floors = new Map<string, string>();
    const unavailable: BenchDeps['runPeers'] = async (): Promise<PeersReport> => ({ available: false, reason: 'python3 not found' });
    const update = harness({ floors, runPeers: unavailable });
    expect(await runBench([...ARGS, '--update-floor'], update.deps)).toBe(1);
    expect(floors.size).toBe(0);
    expect(update.err).toContain('gate: f16 non-causal 64x16x1024x128: no torch-cudnn number: peers unavailable: python3 not found');
    expect(update.err).toContain('gate: floor not written: 14 configs have no best/torch-cudnn ratio');

    expect(await runBench([...ARGS, '--update-floor'], harness({ floors }).deps)).toBe(0);
    const gate = harness({ floors, runPeers: unavailable });
    expect(await runBench(ARGS, gate.deps)).toBe(1);
    const lines = gate.out.at(-1)!.split('\n');
    expect(lines.filter((l) => l.includes('FAIL  no torch-cudnn number: peers unavailable: python3 not found'))).toHaveLength(14);
  });

  it('cuDNN without a number for one config fails that config', async () => {
    const floors = new Map<string, string>();
    expect(await runBench([...ARGS, '--update-floor'], harness({ floors }).deps)).toBe(0);
    const h = harness({ floors, runPeers: fakePeers((s) => (s.headDim === 64 && !s.causal ? undefined : 500)) });
    expect(await runBench(ARGS, h.deps)).toBe(1);
    const lines = h.out.at(-1)!.split('\n');
    expect(lines.find((l) => l.startsWith('f16 non-causal 8x32x8192x64'))).toMatch(/FAIL  no torch-cudnn number: peers.py gave none for this config$/);
    expect(lines.at(-1)).toBe('gate: FAIL: 1 of 14 configs: f16 non-causal 8x32x8192x64');
  });

  it('an unusable floor file fails and says why', async () => {
    const h = harness({ floors: new Map([[FLOOR, '{"version":1}']]) });
    expect(await runBench(ARGS, h.deps)).toBe(1);
    expect(h.err).toContain(`gate: FAIL: floor ${FLOOR} is not usable: 'card' is undefined, expected a string`);
  });

  it('the default floor is bench/floor.json of the package', () => {
    expect(defaultFloorPath().endsWith('/bench/floor.json')).toBe(true);
  });
});
