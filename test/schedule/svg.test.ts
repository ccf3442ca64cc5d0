import { describe, it, expect } from 'vitest';
import { NAMED, OPS, expand, scheduleSvg, schedule, ScheduleError } from '../../src/schedule/index.js';

describe('scheduleSvg', () => {
  it('draws every expanded op as a cell labelled with its iteration', () => {
    const T = 5;
    const svg = scheduleSvg(NAMED.firstDot, T);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('firstDot: MMA0(i+1) Softmax(i) MUL(i) MMA1(i) loadK(i+3) loadV(i+2)');
    for (const op of OPS) expect(svg).toContain(`>${op} (stage ${NAMED.firstDot.ops[op].stage})</text>`);
    const cells = svg.match(/<rect [^>]*fill="#(dbeafe|dcfce7|fde68a)" stroke="#bbb"\/>/g) ?? [];
    expect(cells).toHaveLength(expand(NAMED.firstDot, T).length);
    for (const phase of ['prologue', 'steady', 'epilogue']) expect(svg).toContain(phase);
    expect(svg).toContain('S tiles 2, P tiles 1');
    expect(scheduleSvg(NAMED.firstDot, 6, { rings: { kBuffers: 2, vBuffers: 3, note: 'a plan' } })).toContain('K buffers 2, V buffers 3 (a plan), S tiles 2');
  });

  it('is well-formed enough: balanced tags and escaped text', () => {
    const svg = scheduleSvg(NAMED.baseline, 3, { title: 'a < b & "c"' });
    expect(svg).toContain('a &lt; b &amp; &quot;c&quot;');
    expect((svg.match(/<text /g) ?? []).length).toBe((svg.match(/<\/text>/g) ?? []).length);
  });

  it('refuses an illegal schedule or a bad trip count', () => {
    expect(() => scheduleSvg(schedule({ loadK: [0, 0] }), 3)).toThrow(ScheduleError);
    expect(() => scheduleSvg(NAMED.baseline, 0)).toThrow(RangeError);
  });
});
