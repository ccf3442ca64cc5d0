import { describe, expect, it } from 'vitest';
import { benchPlotPoints } from '../../src/bench/plot.js';
import { runSweep } from '../../src/bench/runner.js';
import { escapeXml, formatSeqLen, niceStep, renderSvg, type PlotPoint } from '../../src/bench/svg.js';
import { buildSweep, parseBenchArgs } from '../../src/bench/sweep.js';
import { fakeProvider } from './fake.js';

/** Tag balance and attribute quoting: enough of XML to catch markup an SVG viewer would reject. */
function assertWellFormed(xml: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const between = xml.slice(last, m.index);
    if (/[<>]/.test(between)) throw new Error(`stray markup before offset ${m.index}: ${between.slice(0, 60)}`);
    if (/&(?!(amp|lt|gt|quot|apos);)/.test(between)) throw new Error(`unescaped & in text: ${between.slice(0, 60)}`);
    const [, closing, name, , selfClosing] = m;
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else if (!selfClosing) stack.push(name);
    last = tag.lastIndex;
  }
  if (/[<>]/.test(xml.slice(last))) throw new Error('stray markup at the end');
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
}

const attr = (xml: string, name: string) => [...xml.matchAll(new RegExp(`${name}="([^"]*)"`, 'g'))].map((m) => m[1]);

describe('renderSvg', () => {
  const points: PlotPoint[] = [1024, 2048, 4096].flatMap((x, i) => [
    { panel: 'f16 non-causal', series: 'firstDot/tma', x, y: 400 + 10 * i },
    { panel: 'f16 non-causal', series: 'firstDot/cp.async', x, y: 380 + 10 * i },
    { panel: 'f16 causal', series: 'firstDot/tma', x, y: 300 + 10 * i },
    { panel: 'f16 causal', series: 'torch-cudnn', x, y: 350 },
  ]);

  it('is a well-formed svg document', () => {
    const svg = renderSvg(points, { title: 'stagewise on <H100> & co', subtitle: 'TFLOP/s' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    assertWellFormed(svg);
    expect(svg).toContain('stagewise on &lt;H100&gt; &amp; co');
  });

  it('draws one line per series per panel, with a legend entry per series', () => {
    const svg = renderSvg(points, { title: 't' });
    expect(attr(svg, 'data-panel')).toEqual(['f16 non-causal', 'f16 causal']);
    expect(attr(svg, 'data-series')).toEqual(['firstDot/tma', 'firstDot/cp.async', 'firstDot/tma', 'torch-cudnn']);
    expect((svg.match(/<polyline /g) ?? []).length).toBe(4);
    expect((svg.match(/<circle /g) ?? []).length).toBe(12);
    const legend = [...svg.matchAll(/class="legend-label"[^>]*>([^<]*)</g)].map((m) => m[1]);
    expect(legend).toEqual(['firstDot/tma', 'firstDot/cp.async', 'torch-cudnn']);
  });

  it('labels both axes with ticks: seqlens on x, round TFLOP/s on y from 0', () => {
    const svg = renderSvg(points, { title: 't' });
    const xticks = [...svg.matchAll(/class="xtick"[^>]*>([^<]*)</g)].map((m) => m[1]);
    expect(xticks).toEqual(['1k', '2k', '4k', '1k', '2k', '4k']);
    const yticks = [...svg.matchAll(/class="ytick"[^>]*>([^<]*)</g)].map((m) => Number(m[1]));
    expect(yticks[0]).toBe(0);
    expect(Math.max(...yticks)).toBeGreaterThanOrEqual(420);
    expect(svg).toContain('>sequence length</text>');
    expect(svg).toContain('>TFLOP/s</text>');
  });

  it('keeps a series style consistent: same schedule same colour, cp.async dashed', () => {
    const svg = renderSvg(points, { title: 't' });
    const lines = [...svg.matchAll(/<polyline [^>]*stroke="(#[0-9a-f]+)"[^>]*?(stroke-dasharray="[^"]*")?\/>/g)];
    expect(lines[0][1]).toBe(lines[1][1]);
    expect(lines[0][2]).toBeUndefined();
    expect(lines[1][2]).toBeDefined();
  });

  it('copes with a single point and with nothing to plot', () => {
    const one = renderSvg([{ panel: 'p', series: 's', x: 8192, y: 512 }], { title: 't' });
    assertWellFormed(one);
    expect(one).not.toContain('NaN');
    const none = renderSvg([], { title: 't' });
    assertWellFormed(none);
    expect(none).toContain('no timed results to plot');
  });

  it('helpers', () => {
    expect(formatSeqLen(16384)).toBe('16k');
    expect(formatSeqLen(1000)).toBe('1000');
    expect(niceStep(560)).toBe(100);
    expect(niceStep(90)).toBe(20);
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
  });
});

describe('benchPlotPoints', () => {
  it('plots timed configs only, one panel per dtype/causal/head dim group', async () => {
    const provider = fakeProvider((c) => (c.load === 'cp.async' && c.seqLen === 2048 ? { check: { ok: false } } : {}));
    const argv = ['--shape', '64,16,1024,128', '--shape', '32,16,2048,128', '--shape', '16,32,4096,64', '--schedules', 'firstDot', '--dtype', 'f16', '--causal', 'no'];
    const results = await runSweep(provider, buildSweep(parseBenchArgs(argv)), { warmup: 1, iterations: 20 });
    const points = benchPlotPoints(results, {
      available: true, versions: {},
      rows: [{ shape: { batch: 64, heads: 16, seqLen: 1024, headDim: 128, dtype: 'f16', causal: false },
        peers: { 'torch-flash': { status: 'ok', medianMs: 1, minMs: 1, maxMs: 1, tflops: 321 }, triton: { status: 'error', reason: 'x' } } }],
    });
    expect(points.filter((p) => p.series === 'firstDot/cp.async').map((p) => p.x)).toEqual([1024, 4096]);
    expect(points.filter((p) => p.series === 'torch-flash')).toEqual([
      { panel: 'f16 non-causal, D=128, H=16, B×N=64k', series: 'torch-flash', x: 1024, y: 321 },
    ]);
    expect(new Set(points.map((p) => p.panel))).toEqual(new Set(['f16 non-causal, D=128, H=16, B×N=64k', 'f16 non-causal, D=64, H=32, B×N=64k']));
    assertWellFormed(renderSvg(points, { title: 't' }));
  });
});
