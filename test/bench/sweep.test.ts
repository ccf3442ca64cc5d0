import { describe, expect, it } from 'vitest';
import { buildPresetSweep, describePreset, presetProblems } from '../../src/bench/presets.js';
import {
  buildSweep, DEFAULT_ITERATIONS, defaultShapes, describeConfig, HEADLINE, parseBenchArgs, shapeKey, UsageError,
} from '../../src/bench/sweep.js';

describe('default sweep', () => {
  it('starts with the headline shape and lists each shape once', () => {
    const shapes = defaultShapes();
    expect(shapes[0]).toEqual({ batch: 8, heads: 16, seqLen: 8192, headDim: 128 });
    expect(new Set(shapes.map(shapeKey)).size).toBe(shapes.length);
  });

  it('sweeps seqlen 1k..16k at head dim 128 with 64k tokens and 16 heads', () => {
    const d128 = defaultShapes().filter((s) => s.headDim === 128);
    expect(d128.map((s) => s.seqLen).sort((a, b) => a - b)).toEqual([1024, 2048, 4096, 8192, 16384]);
    for (const s of d128) {
      expect(s.batch * s.seqLen).toBe(65536);
      expect(s.heads).toBe(16);
    }
  });

  it('covers head dims 64 and 256 at 4k and 8k', () => {
    for (const d of [64, 256]) {
      expect(defaultShapes().filter((s) => s.headDim === d).map((s) => s.seqLen)).toEqual([4096, 8192]);
    }
  });

  it('times every schedule x load x dtype x causal per shape, headline configs first', () => {
    const opts = parseBenchArgs([]);
    const configs = buildSweep(opts);
    expect(configs.length).toBe(defaultShapes().length * 2 * 2 * 3 * 2);
    const headline = configs.slice(0, 2 * 2 * 3 * 2);
    expect(headline.every((c) => shapeKey(c) === shapeKey(HEADLINE))).toBe(true);
    expect(configs.slice(0, 6).map((c) => `${c.schedule}/${c.load}`)).toEqual([
      'baseline/tma', 'baseline/cp.async', 'firstDot/tma', 'firstDot/cp.async', 'secondDot/tma', 'secondDot/cp.async',
    ]);
    expect(new Set(configs.map(describeConfig)).size).toBe(configs.length);
  });
});

describe('parseBenchArgs', () => {
  it('has the documented defaults', () => {
    const o = parseBenchArgs([]);
    expect(o.iterations).toBe(DEFAULT_ITERATIONS);
    expect(o.iterations).toBeGreaterThanOrEqual(20);
    expect(o.schedules).toEqual(['baseline', 'firstDot', 'secondDot']);
    expect(o.loads).toEqual(['tma', 'cp.async']);
    expect(o.dtypes).toEqual(['f16', 'bf16']);
    expect(o.causal).toEqual([false, true]);
    expect(o.peers).toBe(false);
    expect(o.python).toBe('python3');
  });

  it('--peer-list narrows the peers, per mode, and the gate keeps its divisor', () => {
    expect(parseBenchArgs(['--peers', '--peer-list', 'torch-cudnn,triton']).peerList).toEqual(['torch-cudnn', 'triton']);
    expect(parseBenchArgs(['--preset', 'ci', '--peer-list', 'torch-cudnn']).peerList).toEqual(['torch-cudnn']);
    expect(parseBenchArgs(['--preset', 'llama3-8b', '--peers', '--peer-list', 'torch-default']).peerList).toEqual(['torch-default']);
    expect(parseBenchArgs(['--peers']).peerList).toBeUndefined();
    expect(() => parseBenchArgs(['--peer-list', 'torch-cudnn'])).toThrow(/--peer-list needs --peers/);
    expect(() => parseBenchArgs(['--peers', '--peer-list', 'fa3'])).toThrow(/--peer-list/);
    expect(() => parseBenchArgs(['--peers', '--peer-list', 'torch-default'])).toThrow(/torch-default cannot run the sweep/);
    expect(() => parseBenchArgs(['--preset', 'llama3-8b', '--peers', '--peer-list', 'triton'])).toThrow(/triton cannot run a model preset/);
    expect(() => parseBenchArgs(['--preset', 'ci', '--peer-list', 'torch-flash'])).toThrow(/must include torch-cudnn/);
  });

  it('--quick is the headline shape, f16, non-causal, all schedules x loads', () => {
    const o = parseBenchArgs(['--quick']);
    expect(buildSweep(o).map(describeConfig)).toEqual([
      'baseline/tma f16 8x16x8192x128', 'baseline/cp.async f16 8x16x8192x128',
      'firstDot/tma f16 8x16x8192x128', 'firstDot/cp.async f16 8x16x8192x128',
      'secondDot/tma f16 8x16x8192x128', 'secondDot/cp.async f16 8x16x8192x128',
    ]);
  });

  it('lets explicit flags override --quick', () => {
    const o = parseBenchArgs(['--quick', '--dtype', 'bf16', '--causal=yes']);
    expect(o.dtypes).toEqual(['bf16']);
    expect(o.causal).toEqual([true]);
    expect(o.shapes).toEqual([HEADLINE]);
  });

  it('takes repeated --shape, deduplicated, and narrowing lists', () => {
    const o = parseBenchArgs([
      '--shape', '4,16,16384,128', '--shape=1,8,1024,64', '--shape', '4,16,16384,128',
      '--schedules', 'firstDot,auto', '--loads', 'cp.async', '--dtype', 'both', '--causal', 'no',
      '--iterations', '20', '--warmup', '3', '--rounds', '3', '--json', 'out.json', '--svg', 'out.svg', '--peers', '--python', '/opt/py',
    ]);
    expect(o.shapes).toEqual([{ batch: 4, heads: 16, seqLen: 16384, headDim: 128 }, { batch: 1, heads: 8, seqLen: 1024, headDim: 64 }]);
    expect(o.schedules).toEqual(['firstDot', 'auto']);
    expect(o.loads).toEqual(['cp.async']);
    expect(o.causal).toEqual([false]);
    expect(o).toMatchObject({ iterations: 20, warmup: 3, rounds: 3, json: 'out.json', svg: 'out.svg', peers: true, python: '/opt/py' });
    expect(buildSweep(o)).toHaveLength(2 * 2 * 1 * 2 * 1);
  });

  it('recognises --help and -h', () => {
    expect(parseBenchArgs(['--help']).help).toBe(true);
    expect(parseBenchArgs(['-h']).help).toBe(true);
  });

  it('--knobs carries kernel knobs to every config of a model preset, checked against each first', () => {
    const o = parseBenchArgs(['--preset', 'gemma2-9b', '--knobs', '{"softcapTanh":"approx"}']);
    expect(o.knobs).toEqual({ softcapTanh: 'approx' });
    const configs = buildPresetSweep(o.presets, o.schedules, o.knobs);
    expect(configs.length).toBeGreaterThan(0);
    for (const c of configs) {
      expect(c.knobs).toEqual({ softcapTanh: 'approx' });
      expect(describePreset(c)).toMatch(/ \{"softcapTanh":"approx"\}$/);
    }
    // Without --knobs the configs carry none, and the peers' problems never do.
    expect(buildPresetSweep(['llama3-8b'], ['secondDot']).every((c) => c.knobs === undefined)).toBe(true);
    expect(presetProblems(configs).every((p) => !('knobs' in p))).toBe(true);
    expect(parseBenchArgs(['--preset', 'llama3-8b', '--knobs={"oStore":"registers","scheduler":"grid"}']).knobs).toEqual({ oStore: 'registers', scheduler: 'grid' });
  });

  const bad: Array<[string[], RegExp]> = [
    [['--knobs', '{}'], /--knobs needs a model --preset/],
    [['--preset', 'ci', '--knobs', '{}'], /--knobs needs a model --preset/],
    [['--preset', 'gemma2-9b', '--knobs', 'nope'], /--knobs expects a JSON object of kernel knobs/],
    [['--preset', 'gemma2-9b', '--knobs', '[1]'], /--knobs expects a JSON object/],
    [['--preset', 'gemma2-9b', '--knobs', '{"load":"tma"}'], /--knobs: 'load' is not a knob here/],
    [['--preset', 'gemma2-9b', '--knobs', '{"tanh":"approx"}'], /--knobs: 'tanh' is not a knob here \(known: .*softcapTanh/],
    [['--preset', 'gemma2-9b', '--knobs', '{"softcapTanh":"fast"}'], /cannot run gemma2-9b baseline 32x1024 .*softcapTanh must be one of 'tanhf', 'exp2', 'approx', got fast/],
    [['--preset', 'llama3-8b', '--schedules', 'secondDot', '--knobs', '{"softcapTanh":"approx"}'], /cannot run llama3-8b secondDot 32x1024 .*softcapTanh 'approx' needs softcap/],
    [['--preset', 'llama3-8b', '--knobs', '{"kvShare":2}'], /cannot run llama3-8b .*kvShare 2 needs scheduler 'static'/],
    [['--bogus'], /unknown flag '--bogus'/],
    [['extra'], /unexpected argument 'extra'/],
    [['--iterations', '19'], /--iterations must be at least 20, got 19/],
    [['--iterations', '3.5'], /--iterations expects a whole number, got '3.5'/],
    [['--iterations'], /--iterations needs a value/],
    [['--iterations', '--quick'], /--iterations needs a value/],
    [['--warmup', '0'], /--warmup must be at least 1/],
    [['--warmup', '-1'], /--warmup expects a whole number/],
    [['--rounds', '0'], /--rounds must be at least 1/],
    [['--cooldown', '-5'], /--cooldown expects a whole number, got '-5'/],
    [['--cooldown', '10001'], /--cooldown must be at most 10000 ms, got 10001/],
    [['--shape', '8,16,8192'], /--shape expects B,H,N,D as four positive whole numbers/],
    [['--shape', '8,16,0,128'], /--shape expects B,H,N,D/],
    [['--shape', '8,16,8192,96'], /--shape head dim D must be one of 64, 128, 256, got 96/],
    [['--schedules', 'firstDot,fastest'], /--schedules: unknown 'fastest'/],
    [['--schedules', ','], /--schedules expects a comma-separated list/],
    [['--loads', 'ldg'], /--loads: unknown 'ldg'; expected a comma-separated list from tma, cp.async/],
    [['--dtype', 'f32'], /--dtype expects f16, bf16 or both, got 'f32'/],
    [['--causal', 'true'], /--causal expects yes, no or both, got 'true'/],
    [['--peers=yes'], /--peers takes no value/],
    [['--json', 'a', '--svg', 'a'], /--json and --svg must name different files/],
    [['--json='], /--json needs a non-empty value/],
  ];
  for (const [argv, message] of bad) {
    it(`rejects ${argv.join(' ')}`, () => {
      expect(() => parseBenchArgs(argv)).toThrow(UsageError);
      expect(() => parseBenchArgs(argv)).toThrow(message);
    });
  }
});
