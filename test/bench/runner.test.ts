import { describe, expect, it } from 'vitest';
import { checkFailure, progressLine, runSweep } from '../../src/bench/runner.js';
import { buildSweep, parseBenchArgs } from '../../src/bench/sweep.js';
import { configId, fakeProvider, msAt } from './fake.js';

const quick = buildSweep(parseBenchArgs(['--quick']));
const opts = { warmup: 2, iterations: 20 };

describe('runSweep with rounds', () => {
  it('interleaves the passes, pools the samples and keeps the median of each round', async () => {
    // Drift: every launch in round 2 is 10% slower than in round 1.
    let round = 0;
    const seen = new Set<string>();
    const p = fakeProvider((c) => {
      const id = configId(c);
      if (seen.has(id)) round = 1;
      seen.add(id);
      const ms = msAt(c, 500) * (round === 1 ? 1.1 : 1);
      return { samples: Array.from({ length: 20 }, () => ms) };
    });
    const lines: string[] = [];
    const results = await runSweep(p, quick, { ...opts, rounds: 2, progress: (l) => lines.push(l) });
    expect(results).toHaveLength(quick.length);
    // Round-robin order: the whole list, then the whole list again.
    expect(p.calls.timed).toEqual([...quick.map(configId), ...quick.map(configId)]);
    expect(lines[0]).toMatch(/^round 1\/2 \[1\/6\]/);
    expect(lines[quick.length]).toMatch(/^round 2\/2 \[1\/6\]/);
    for (const r of results) {
      expect(r.status).toBe('ok');
      if (r.status !== 'ok') continue;
      expect(r.timing.samplesMs).toHaveLength(40);
      expect(r.timing.roundMediansMs).toEqual([msAt(r.config, 500), msAt(r.config, 500) * 1.1]);
      // The pooled median sits between the rounds: 500 and 500/1.1 TFLOP/s.
      expect(r.tflops).toBeLessThan(500);
      expect(r.tflops).toBeGreaterThan(500 / 1.1);
    }
  });
  it('reports a config as failed when its check fails, runs it no more, and rejects a bad round count', async () => {
    const p = fakeProvider((c) => (c.schedule === 'baseline' && c.load === 'tma' ? { check: { ok: false } } : {}));
    const results = await runSweep(p, quick, { ...opts, rounds: 2 });
    expect(results[0].status).toBe('fail');
    expect(results.slice(1).every((r) => r.status === 'ok')).toBe(true);
    const failed = configId(quick[0]);
    expect(p.calls.prepared.filter((id) => id === failed)).toHaveLength(1);
    expect(p.calls.timed).not.toContain(failed);
    await expect(runSweep(p, quick, { ...opts, rounds: 0 })).rejects.toThrow(/rounds must be a whole number >= 1/);
  });
  it('checks each config in every round (the host time of the check is part of the conditions the floor was measured in)', async () => {
    const p = fakeProvider();
    const results = await runSweep(p, quick, { ...opts, rounds: 3 });
    const ids = quick.map(configId);
    expect(p.calls.checked).toEqual([...ids, ...ids, ...ids]);
    expect(p.calls.prepared).toEqual([...ids, ...ids, ...ids]);
    expect(p.calls.timed).toHaveLength(3 * quick.length);
    expect(p.calls.disposed).toHaveLength(3 * quick.length);
    for (const r of results) expect(r.status === 'ok' && r.check.ok).toBe(true);
  });
  it('an error in a later round fails the config (the first failure wins) and ends its rounds', async () => {
    let n = 0;
    const p = fakeProvider((c) => (c.schedule === 'baseline' && c.load === 'tma' && n++ === 1 ? { timeError: 'launch failed' } : {}));
    const results = await runSweep(p, quick, { ...opts, rounds: 3 });
    expect(results[0].status).toBe('error');
    expect(results.slice(1).every((r) => r.status === 'ok')).toBe(true);
    // Rounds 1 and 2 prepared it; round 3 did not.
    expect(p.calls.prepared.filter((id) => id === configId(quick[0]))).toHaveLength(2);
  });
});

describe('runSweep', () => {
  it('records the kernel each config ran (the default scheduler depends on the length), across rounds', async () => {
    const p = fakeProvider((c) => (c.schedule === 'baseline' ? { kernel: `tma-producer n128 K2/V2 turn none P registers ${c.load === 'tma' ? 'static' : 'grid'}` } : {}));
    const results = await runSweep(p, quick, { ...opts, rounds: 2 });
    const base = results.filter((r) => r.config.schedule === 'baseline');
    expect(base.map((r) => r.status === 'ok' && r.kernel)).toEqual(['tma-producer n128 K2/V2 turn none P registers static', 'tma-producer n128 K2/V2 turn none P registers grid']);
    expect(results.filter((r) => r.config.schedule !== 'baseline').every((r) => r.status === 'ok' && r.kernel === undefined)).toBe(true);
  });

  it('prepares, checks and times every config, and disposes each', async () => {
    const p = fakeProvider(() => ({}), (c) => (c.schedule === 'firstDot' ? 600 : 400));
    const results = await runSweep(p, quick, opts);
    expect(results.map((r) => r.status)).toEqual(Array(6).fill('ok'));
    expect(p.calls.timed).toEqual(quick.map(configId));
    expect(p.calls.disposed).toEqual(quick.map(configId));
    const r = results[2];
    expect(r.status === 'ok' && r.tflops).toBeCloseTo(600, 6);
    if (r.status !== 'ok') throw new Error('expected ok');
    expect(r.timing.samplesMs).toHaveLength(20);
    expect(r.timing.minMs).toBeLessThan(r.timing.medianMs);
    expect(r.timing.maxMs).toBeGreaterThan(r.timing.medianMs);
  });

  it('never times a config whose check fails, and keeps the reason', async () => {
    const p = fakeProvider((c) => (c.schedule === 'secondDot' ? { check: { ok: false, relL2: 0.4, message: 'rows 0..63 wrong' } } : {}));
    const results = await runSweep(p, quick, opts);
    const failed = results.filter((r) => r.status === 'fail');
    expect(failed.map((r) => configId(r.config))).toEqual(['secondDot/tma f16 8x16x8192x128', 'secondDot/cp.async f16 8x16x8192x128']);
    expect(p.calls.timed.some((id) => id.startsWith('secondDot'))).toBe(false);
    expect(p.calls.checked).toHaveLength(6);
    expect(p.calls.disposed).toHaveLength(6);
    const f = failed[0];
    expect(f.status === 'fail' && f.reason).toMatch(/check not ok \(relL2 0\.400, maxAbs .*\): rows 0\.\.63 wrong/);
    expect('tflops' in f).toBe(false);
  });

  it('treats NaN or unwritten output as a failure even when ok is true', async () => {
    for (const check of [{ nan: true }, { unwritten: 64 }, { relL2: Number.NaN }]) {
      const p = fakeProvider(() => ({ check }));
      const [r] = await runSweep(p, quick.slice(0, 1), opts);
      expect(r.status).toBe('fail');
      expect(p.calls.timed).toEqual([]);
    }
  });

  it('turns a throw in any stage into an error result and carries on', async () => {
    const p = fakeProvider((c) => {
      if (c.schedule === 'baseline' && c.load === 'tma') return { prepareError: 'NVRTC: too many resources requested for launch' };
      if (c.schedule === 'baseline') return { checkError: 'CUDA_ERROR_ILLEGAL_ADDRESS' };
      if (c.schedule === 'firstDot' && c.load === 'tma') return { timeError: 'launch timed out' };
      return {};
    });
    const results = await runSweep(p, quick, opts);
    expect(results.map((r) => (r.status === 'error' ? `${r.stage}: ${r.reason}` : r.status))).toEqual([
      'prepare: NVRTC: too many resources requested for launch',
      'check: CUDA_ERROR_ILLEGAL_ADDRESS',
      'time: launch timed out',
      'ok', 'ok', 'ok',
    ]);
    // Whatever was prepared is disposed, errors or not.
    expect(p.calls.disposed).toEqual(quick.slice(1).map(configId));
  });

  it('rejects timings that cannot make an honest median', async () => {
    const cases = [[1, 2, 3], [...Array(19).fill(1), 0], [...Array(19).fill(1), Number.NaN]];
    for (const samples of cases) {
      const [r] = await runSweep(fakeProvider(() => ({ samples })), quick.slice(0, 1), opts);
      expect(r.status).toBe('error');
      expect(r.status === 'error' && r.stage).toBe('time');
    }
  });

  it('writes one progress line per config', async () => {
    const lines: string[] = [];
    const p = fakeProvider((c) => (c.load === 'cp.async' ? { prepareError: 'smem 300 KB > 227 KB' } : {}), () => 512.34);
    await runSweep(p, quick.slice(2, 4), { ...opts, progress: (l) => lines.push(l) });
    expect(lines).toEqual([
      '[1/2] firstDot/tma f16 8x16x8192x128 ... 512.3 TFLOP/s',
      '[2/2] firstDot/cp.async f16 8x16x8192x128 ... ERR in prepare (smem 300 KB > 227 KB)',
    ]);
  });
});

describe('checkFailure / progressLine', () => {
  it('passes a clean check', () => {
    expect(checkFailure({ ok: true, relL2: 1e-3, maxAbs: 1e-3, nan: false, unwritten: 0 })).toBeUndefined();
  });
  it('says FAIL with the reason', () => {
    const config = quick[0];
    const line = progressLine(3, 48, { config, flops: 1, status: 'fail', check: { ok: false, relL2: 1, maxAbs: 1, nan: true, unwritten: 0 }, reason: 'NaN' });
    expect(line).toBe('[3/48] baseline/tma f16 8x16x8192x128 ... FAIL (NaN)');
  });
});
