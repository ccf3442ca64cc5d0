import { describe, expect, it } from 'vitest';
import {
  buildFloor, compareWithFloor, FLOOR_TOLERANCE, formatFloor, formatGate, gatePassed, noFloorLine, parseFloor, runRatios,
  UPDATE_FLOOR_COMMAND, type FloorFile, type RunRatio,
} from '../../src/bench/floor.js';
import type { PeerCell, PeersReport, PeerShape } from '../../src/bench/peers.js';
import type { BenchResult } from '../../src/bench/runner.js';
import type { AttentionConfig } from '../../src/bench/types.js';

const SHAPE: PeerShape = { batch: 8, heads: 16, seqLen: 8192, headDim: 128, dtype: 'f16', causal: false };
const KEY = 'f16 non-causal 8x16x8192x128';
const CHECK = { ok: true, relL2: 1e-3, maxAbs: 1e-3, nan: false, unwritten: 0 };

function ok(schedule: string, tflops: number, shape: PeerShape = SHAPE): BenchResult {
  const config: AttentionConfig = { ...shape, schedule, load: 'tma' };
  return { config, flops: 1, status: 'ok', check: CHECK, tflops, timing: { samplesMs: [1], medianMs: 1, minMs: 1, maxMs: 1 } };
}

function failed(schedule: string, shape: PeerShape = SHAPE): BenchResult {
  return { config: { ...shape, schedule, load: 'tma' }, flops: 1, status: 'fail', check: { ...CHECK, ok: false }, reason: 'check not ok' };
}

function cudnn(tflops: number): PeerCell {
  return { status: 'ok', medianMs: 1, minMs: 1, maxMs: 1, tflops };
}

function peersWith(cells: Array<[PeerShape, PeerCell | undefined]>): PeersReport {
  return { available: true, versions: {}, rows: cells.map(([shape, cell]) => ({ shape, peers: (cell ? { 'torch-cudnn': cell } : {}) as Record<string, PeerCell> })) };
}

function floorOf(configs: Record<string, number>): FloorFile {
  return {
    version: 1, card: 'Fake H100', date: '2026-01-01T00:00:00.000Z', commit: 'abc', dirty: false, command: UPDATE_FLOOR_COMMAND,
    configs: Object.fromEntries(Object.entries(configs).map(([k, ratio]) => [k, { ratio }])),
  };
}

describe('runRatios', () => {
  it("divides the best schedule's TFLOP/s by torch-cudnn's from the same run", () => {
    const run = runRatios([ok('baseline', 500), ok('secondDot', 600), ok('firstDot', 550)], peersWith([[SHAPE, cudnn(400)]]));
    expect(run).toEqual([{ key: KEY, ratio: 1.5, best: 600, peer: 400 }]);
  });

  it('a FAIL or ERR series never counts as the best', () => {
    const run = runRatios([ok('baseline', 500), failed('secondDot')], peersWith([[SHAPE, cudnn(500)]]));
    expect(run).toEqual([{ key: KEY, ratio: 1, best: 500, peer: 500 }]);
  });

  it('gives a reason, never a number, when cuDNN or stagewise has none', () => {
    const results = [ok('baseline', 500)];
    expect(runRatios(results, undefined)).toEqual([{ key: KEY, missing: 'no torch-cudnn number: peers were not run' }]);
    expect(runRatios(results, { available: false, reason: 'python3 not found' }))
      .toEqual([{ key: KEY, missing: 'no torch-cudnn number: peers unavailable: python3 not found' }]);
    expect(runRatios(results, peersWith([[SHAPE, { status: 'unsupported', reason: 'head dim 256' }]])))
      .toEqual([{ key: KEY, missing: 'no torch-cudnn number: unsupported: head dim 256' }]);
    expect(runRatios(results, peersWith([[SHAPE, undefined]])))
      .toEqual([{ key: KEY, missing: 'no torch-cudnn number: peers.py gave none for this config' }]);
    expect(runRatios([failed('baseline'), failed('secondDot')], peersWith([[SHAPE, cudnn(500)]])))
      .toEqual([{ key: KEY, missing: 'no stagewise number: none of 2 series timed (2 FAIL, 0 ERR)' }]);
  });
});

describe('compareWithFloor', () => {
  const floor = floorOf({ [KEY]: 1.0 });
  const at = (ratio: number): RunRatio[] => [{ key: KEY, ratio, best: ratio * 500, peer: 500 }];

  it('passes at the floor and above it', () => {
    expect(compareWithFloor(floor, at(1.0))).toEqual([{ key: KEY, floor: 1.0, now: 1.0, verdict: 'PASS' }]);
    expect(gatePassed(compareWithFloor(floor, at(1.2)))).toBe(true);
  });

  it('fails just over 5% below the floor and passes just under', () => {
    expect(FLOOR_TOLERANCE).toBe(0.05);
    const over = compareWithFloor(floor, at(0.9499));
    expect(over[0]).toMatchObject({ verdict: 'FAIL', reason: 'more than 5% below the floor' });
    expect(gatePassed(over)).toBe(false);
    expect(compareWithFloor(floor, at(0.9501))[0].verdict).toBe('PASS');
    expect(gatePassed(compareWithFloor(floor, at(0.9501)))).toBe(true);
  });

  it('fails a floor config missing from the run', () => {
    const lines = compareWithFloor(floorOf({ [KEY]: 1.0, 'f16 causal 8x16x8192x128': 1.1 }), at(1.0));
    expect(lines[1]).toEqual({ key: 'f16 causal 8x16x8192x128', floor: 1.1, verdict: 'FAIL', reason: 'in the floor but not in this run' });
    expect(gatePassed(lines)).toBe(false);
  });

  it('fails a config whose peer gave no number', () => {
    const lines = compareWithFloor(floor, [{ key: KEY, missing: 'no torch-cudnn number: peers unavailable: no torch' }]);
    expect(lines).toEqual([{ key: KEY, floor: 1.0, verdict: 'FAIL', reason: 'no torch-cudnn number: peers unavailable: no torch' }]);
    expect(gatePassed(lines)).toBe(false);
  });

  it('reports a run config the floor lacks without gating it', () => {
    const lines = compareWithFloor(floor, [...at(1.0), { key: 'f16 causal 1x1x1024x64', ratio: 0.5, best: 1, peer: 2 }]);
    expect(lines[1]).toEqual({ key: 'f16 causal 1x1x1024x64', now: 0.5, verdict: 'NEW', reason: 'not in the floor' });
    expect(gatePassed(lines)).toBe(true);
  });
});

describe('formatGate', () => {
  it('one line per config (config, floor, now, change, verdict) and a summary naming the failures', () => {
    const floor = floorOf({ [KEY]: 1.0, 'f16 causal 8x16x8192x128': 1.0 });
    const lines = compareWithFloor(floor, [
      { key: KEY, ratio: 1.02, best: 510, peer: 500 },
      { key: 'f16 causal 8x16x8192x128', ratio: 0.9, best: 450, peer: 500 },
    ]);
    const text = formatGate(lines, { floor, file: 'bench/floor.json', card: 'Fake H100' }).split('\n');
    expect(text).toHaveLength(5);
    expect(text[1].split(/\s+/)).toEqual(['config', 'floor', 'now', 'change', 'verdict']);
    expect(text[2].split(/\s{2,}/)).toEqual([KEY, '1.000x', '1.020x', '+2.0%', 'PASS']);
    expect(text[3].split(/\s{2,}/)).toEqual(['f16 causal 8x16x8192x128', '1.000x', '0.900x', '-10.0%', 'FAIL', 'more than 5% below the floor']);
    expect(text[4]).toBe('gate: FAIL: 1 of 2 configs: f16 causal 8x16x8192x128');
  });

  it('says when the floor came from another card', () => {
    const floor = floorOf({ [KEY]: 1.0 });
    const text = formatGate(compareWithFloor(floor, [{ key: KEY, ratio: 1, best: 1, peer: 1 }]), { floor, file: 'f', card: 'NVIDIA H200' });
    expect(text).toContain('gate: note: the floor was made on Fake H100, this run is on NVIDIA H200');
    expect(text.split('\n').at(-1)).toBe('gate: PASS: 1 configs within 5% of the floor');
  });

  it('the no-floor line names the command that makes one', () => {
    expect(noFloorLine('bench/floor.json')).toBe('gate: FAIL: no floor (bench/floor.json): run `npm run bench -- --preset ci --peers --rounds 3 --update-floor` on the runner');
  });
});

describe('parseFloor', () => {
  it('rejects a floor that could not gate anything, naming the field', () => {
    const good = floorOf({ [KEY]: 1.0 });
    expect(parseFloor('{')).toMatchObject({ error: expect.stringMatching(/^not JSON/) });
    expect(parseFloor(JSON.stringify({ ...good, version: 2 }))).toEqual({ error: 'version 2, expected 1' });
    expect(parseFloor(JSON.stringify({ ...good, configs: {} }))).toEqual({ error: "'configs' is empty" });
    expect(parseFloor(JSON.stringify({ ...good, configs: { [KEY]: { ratio: 0 } } }))).toEqual({ error: `config '${KEY}' has ratio 0, expected a positive number` });
    expect(parseFloor(JSON.stringify({ ...good, configs: { [KEY]: {} } }))).toEqual({ error: `config '${KEY}' has ratio undefined, expected a positive number` });
    expect(parseFloor(JSON.stringify({ ...good, card: 3 }))).toEqual({ error: "'card' is 3, expected a string" });
    expect(parseFloor(JSON.stringify(good))).toEqual({ floor: good });
  });
});

describe('buildFloor', () => {
  const meta = { card: 'Fake H100', date: new Date('2026-02-03T04:05:06Z'), source: { commit: 'c0ffee', dirty: false }, command: UPDATE_FLOOR_COMMAND };

  it('writes what a later compare of the same run accepts', () => {
    const causal: PeerShape = { ...SHAPE, causal: true };
    const run = runRatios([ok('baseline', 601.23456), ok('baseline', 555.5, causal)], peersWith([[SHAPE, cudnn(600)], [causal, cudnn(527.2)]]));
    const built = buildFloor(run, meta);
    if (!('floor' in built)) throw new Error('expected a floor');
    const parsed = parseFloor(formatFloor(built.floor));
    if (!('floor' in parsed)) throw new Error(parsed.error);
    expect(parsed.floor).toEqual({
      version: 1, card: 'Fake H100', date: '2026-02-03T04:05:06.000Z', commit: 'c0ffee', dirty: false, command: UPDATE_FLOOR_COMMAND,
      configs: { [KEY]: { ratio: 1.0021 }, 'f16 causal 8x16x8192x128': { ratio: 1.0537 } },
    });
    const lines = compareWithFloor(parsed.floor, run);
    expect(lines.map((l) => l.verdict)).toEqual(['PASS', 'PASS']);
  });

  it('refuses a run with a config that has no ratio', () => {
    const run: RunRatio[] = [{ key: KEY, ratio: 1, best: 1, peer: 1 }, { key: 'f16 causal 8x16x8192x128', missing: 'no torch-cudnn number: peers were not run' }];
    expect(buildFloor(run, meta)).toEqual({ missing: [run[1]] });
  });
});

describe('the committed floor (bench/floor.json)', () => {
  it('parses, names its card and command, and holds one sane ratio per config of the ci preset', async () => {
    const { readFileSync } = await import('node:fs');
    const { defaultFloorPath } = await import('../../src/bench/floor.js');
    const { CI_SHAPES } = await import('../../src/bench/sweep.js');
    const { peerShapeKey } = await import('../../src/bench/peers.js');
    const parsed = parseFloor(readFileSync(defaultFloorPath(), 'utf8'));
    if ('error' in parsed) throw new Error(`bench/floor.json: ${parsed.error}`);
    const { floor } = parsed;
    expect(floor.card).toMatch(/H100|H200/);
    expect(floor.command).toMatch(/--preset ci .*--update-floor/);
    const want = CI_SHAPES.flatMap((s) => [false, true].map((causal) => peerShapeKey({ ...s, dtype: 'f16', causal })));
    expect(Object.keys(floor.configs).sort()).toEqual([...want].sort());
    for (const [key, { ratio }] of Object.entries(floor.configs)) {
      expect(ratio, key).toBeGreaterThan(0.5);
      expect(ratio, key).toBeLessThan(2);
    }
  });
});
