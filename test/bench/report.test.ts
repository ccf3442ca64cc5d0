import { describe, expect, it } from 'vitest';
import { buildReport, sourceState } from '../../src/bench/report.js';
import { runSweep } from '../../src/bench/runner.js';
import { buildSweep, parseBenchArgs } from '../../src/bench/sweep.js';
import { fakeProvider } from './fake.js';

describe('buildReport', () => {
  it('records card, date, commit, options, every result and the failures', async () => {
    const argv = ['--quick', '--iterations', '20'];
    const options = parseBenchArgs(argv);
    const provider = fakeProvider((c) =>
      c.schedule === 'baseline' && c.load === 'tma' ? { check: { ok: false, relL2: 0.5 } }
        : c.schedule === 'secondDot' && c.load === 'cp.async' ? { prepareError: 'ptxas: too many registers' } : {});
    const results = await runSweep(provider, buildSweep(options), { warmup: 1, iterations: 20 });
    const report = buildReport({
      card: 'NVIDIA H100 80GB HBM3', date: new Date('2025-01-02T03:04:05Z'), source: { commit: 'abc123', dirty: false },
      argv, options, results,
    });
    // Round-trip: everything in it is plain JSON.
    const doc = JSON.parse(JSON.stringify(report));
    expect(doc).toMatchObject({
      tool: 'stagewise bench', schema: 1, card: 'NVIDIA H100 80GB HBM3', date: '2025-01-02T03:04:05.000Z',
      commit: 'abc123', dirty: false, argv, peers: null,
      options: { warmup: 10, iterations: 20, dtypes: ['f16'], causal: [false], shapes: [{ batch: 8, heads: 16, seqLen: 8192, headDim: 128 }] },
    });
    expect(doc.results).toHaveLength(6);
    const ok = doc.results[1];
    expect(ok).toMatchObject({ status: 'ok', config: { schedule: 'baseline', load: 'cp.async', dtype: 'f16', causal: false }, check: { ok: true } });
    expect(ok.flops).toBe(4 * 8 * 16 * 8192 * 8192 * 128);
    expect(ok.timing.samplesMs).toHaveLength(20);
    expect(Object.keys(ok.timing).sort()).toEqual(['maxMs', 'medianMs', 'minMs', 'samplesMs']);
    expect(ok.tflops).toBeCloseTo(ok.flops / (ok.timing.medianMs * 1e9), 9);
    expect(doc.results[0]).toMatchObject({ status: 'fail', check: { ok: false, relL2: 0.5 } });
    expect(doc.results[0].timing).toBeUndefined();
    expect(doc.failures).toEqual([
      { config: doc.results[0].config, status: 'fail', reason: expect.stringMatching(/relL2 0\.500/) },
      { config: doc.results[5].config, status: 'error', stage: 'prepare', reason: 'ptxas: too many registers' },
    ]);
  });

  it('finds the commit of this checkout, or nulls outside git', () => {
    const here = sourceState();
    expect(here.commit === null || /^[0-9a-f]{40}$/.test(here.commit)).toBe(true);
    expect(sourceState('/')).toEqual({ commit: null, dirty: null });
  });
});
