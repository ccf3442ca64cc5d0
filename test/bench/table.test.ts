import { describe, expect, it } from 'vitest';
import type { PeersReport } from '../../src/bench/peers.js';
import { runSweep } from '../../src/bench/runner.js';
import { buildSweep, parseBenchArgs } from '../../src/bench/sweep.js';
import { formatTables, renderGrid } from '../../src/bench/table.js';
import { fakeProvider } from './fake.js';

const ctx = { card: 'NVIDIA H100 80GB HBM3', warmup: 10, iterations: 30 };

async function sweep(argv: string[], provider = fakeProvider()) {
  return runSweep(provider, buildSweep(parseBenchArgs(argv)), { warmup: 1, iterations: 20 });
}

function rowOf(text: string, title: string, seqLen: number): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(title);
  const row = lines.slice(start + 2).find((l) => l.trim().split(/\s+/)[3] === String(seqLen));
  if (!row) throw new Error(`no row for ${seqLen} under ${title}`);
  return row.trim().split(/\s+/);
}

describe('renderGrid', () => {
  it('right-aligns columns under an index column, as pandas prints', () => {
    expect(renderGrid(['N', 'TFLOP/s'], [['1024', '5.0'], ['16384', '512.3']])).toBe(
      ['       N  TFLOP/s', '0   1024      5.0', '1  16384    512.3'].join('\n'));
  });
});

describe('formatTables', () => {
  it('names the card, then one table per dtype/causal with a column per schedule/load', async () => {
    const results = await sweep(['--shape', '8,16,8192,128', '--shape', '64,16,1024,128', '--causal', 'both', '--dtype', 'f16']);
    const text = formatTables(results, ctx);
    const lines = text.split('\n');
    expect(lines[0]).toBe('stagewise attention forward on NVIDIA H100 80GB HBM3: TFLOP/s, median of 30 launches after 10 warm-up');
    expect(lines.filter((l) => l.startsWith('attention-fwd'))).toEqual(['attention-fwd f16 non-causal (TFLOP/s):', 'attention-fwd f16 causal (TFLOP/s):']);
    const header = lines[lines.indexOf('attention-fwd f16 non-causal (TFLOP/s):') + 1].trim().split(/\s+/);
    expect(header).toEqual(['Batch', 'Heads', 'SeqLen', 'Dhead', 'baseline/tma', 'baseline/cp.async', 'firstDot/tma',
      'firstDot/cp.async', 'secondDot/tma', 'secondDot/cp.async', 'best']);
    // Rows ascend in seqlen within a head dim, whatever order the sweep ran them in.
    expect(rowOf(text, 'attention-fwd f16 causal (TFLOP/s):', 1024)[0]).toBe('0');
    expect(rowOf(text, 'attention-fwd f16 causal (TFLOP/s):', 8192).slice(0, 6)).toEqual(['1', '8', '16', '8192', '128', '500.0']);
    expect(lines.at(-1)).toBe('24 configs: 24 timed, 0 FAIL (check failed, not timed), 0 ERR');
    expect(text).not.toMatch(/peers/);
  });

  it('shows FAIL and ERR cells, and best ignores them', async () => {
    const provider = fakeProvider(
      (c) => (c.schedule === 'baseline' ? { check: { ok: false } } : c.schedule === 'secondDot' ? { prepareError: 'too much smem' } : {}),
      (c) => (c.load === 'tma' ? 600 : 450),
    );
    const text = formatTables(await sweep(['--quick'], provider), ctx);
    expect(rowOf(text, 'attention-fwd f16 non-causal (TFLOP/s):', 8192).slice(5)).toEqual(['FAIL', 'FAIL', '600.0', '450.0', 'ERR', 'ERR', '600.0']);
    expect(text).toContain('6 configs: 2 timed, 2 FAIL (check failed, not timed), 2 ERR');
  });

  it('adds peer columns and best/peer ratios, and says each peer problem once', async () => {
    const results = await sweep(['--quick', '--schedules', 'firstDot'], fakeProvider(() => ({}), (c) => (c.load === 'tma' ? 660 : 500)));
    const shape = { batch: 8, heads: 16, seqLen: 8192, headDim: 128 as const, dtype: 'f16' as const, causal: false };
    const peers: PeersReport = {
      available: true,
      versions: { torch: '2.5.1' },
      rows: [{
        shape,
        peers: {
          'torch-cudnn': { status: 'ok', medianMs: 1, minMs: 1, maxMs: 1, tflops: 600 },
          'torch-flash': { status: 'ok', medianMs: 1, minMs: 1, maxMs: 1, tflops: 440 },
          triton: { status: 'unsupported', reason: 'triton not importable: No module named triton' },
        },
      }],
    };
    const text = formatTables(results, { ...ctx, peers });
    const header = text.split('\n')[3].trim().split(/\s+/);
    expect(header.slice(4)).toEqual(['firstDot/tma', 'firstDot/cp.async', 'best', 'torch-cudnn', 'torch-flash', 'triton',
      'best/torch-cudnn', 'best/torch-flash', 'best/triton']);
    expect(rowOf(text, 'attention-fwd f16 non-causal (TFLOP/s):', 8192).slice(5)).toEqual(['660.0', '500.0', '660.0', '600.0', '440.0', 'unsup', '1.10x', '1.50x', '-']);
    expect(text.match(/triton not importable/g)).toHaveLength(1);
    expect(text).toContain('triton unsup: triton not importable: No module named triton (f16 non-causal 8x16x8192x128)');
  });

  it('marks peers n/a and gives the reason once when they could not run', async () => {
    const results = await sweep(['--quick', '--causal', 'both']);
    const text = formatTables(results, { ...ctx, peers: { available: false, reason: '/nope/python3 not found' } });
    expect(text.match(/not found/g)).toHaveLength(1);
    expect(text).toContain('peers: n/a: /nope/python3 not found');
    const row = rowOf(text, 'attention-fwd f16 causal (TFLOP/s):', 8192);
    expect(row.slice(-3)).toEqual(['n/a', 'n/a', 'n/a']);
    expect(text).not.toContain('best/torch-cudnn');
  });
});
