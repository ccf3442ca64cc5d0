// An SVG timeline of an expanded schedule: steps across, one row per op (body order), each
// cell labelled with the iteration the op runs at that step, phases shaded. Pure: returns text.
import { expand, phaseOf, type Phase } from './expand.js';
import { describe, lastStage, bodyOrder, type Schedule } from './schedule.js';
import { resources } from './resources.js';

export interface SvgOptions {
  /** Defaults to the schedule's name and its steady-state body. */
  title?: string;
  /**
   * The ring depths of a kernel built from this schedule (its plan's, which the schedule alone does
   * not determine); without them the picture shows only the schedule's register tiles.
   */
  rings?: { kBuffers: number; vBuffers: number; note: string };
}

const CELL_W = 44;
const CELL_H = 30;
const LABEL_W = 150;
const MARGIN = 16;
const TOP = 96; // title, subtitle and phase band
const PHASE_FILL: Record<Phase, string> = { prologue: '#dbeafe', steady: '#dcfce7', epilogue: '#fde68a' };
const PHASE_TEXT: Record<Phase, string> = {
  prologue: 'prologue: filling the pipeline',
  steady: 'steady state: every op each step',
  epilogue: 'epilogue: draining',
};

function ringText(rings: SvgOptions['rings']): string {
  return rings ? `K buffers ${rings.kBuffers}, V buffers ${rings.vBuffers} (${rings.note}), ` : '';
}

export function scheduleSvg(s: Schedule, T: number, options: SvgOptions = {}): string {
  const cells = expand(s, T); // validates s and T
  const S = lastStage(s);
  const r = resources(s);
  const ops = bodyOrder(s);
  const steps = T + S;
  const width = Math.max(LABEL_W + steps * CELL_W, 740) + 2 * MARGIN;
  const gridBottom = TOP + CELL_H * (ops.length + 1);
  const height = gridBottom + 60;
  const title = options.title ?? `${s.name ?? 'custom schedule'}: ${describe(s)}`;
  const x = (step: number) => MARGIN + LABEL_W + step * CELL_W;
  const y = (row: number) => TOP + CELL_H * (row + 1); // row -1 is the step header
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Menlo, Consolas, monospace" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    text(MARGIN, 26, title, 'font-size="16" font-weight="bold"'),
    text(MARGIN, 48, `T = ${T} KV tile${T === 1 ? '' : 's'}, S = ${S} (steps 0..${steps - 1}); ${ringText(options.rings)}S tiles ${r.sTiles}, P tiles ${r.pTiles}`, 'fill="#444"'),
  ];
  // Phase band: one labelled run per contiguous phase.
  for (let k = 0; k < steps; ) {
    const phase = phaseOf(k, S, T);
    let end = k;
    while (end + 1 < steps && phaseOf(end + 1, S, T) === phase) end++;
    out.push(`<rect x="${x(k)}" y="${TOP - 30}" width="${(end - k + 1) * CELL_W}" height="22" fill="${PHASE_FILL[phase]}" stroke="#888"/>`);
    out.push(text(x(k) + 4, TOP - 14, end - k >= 1 ? phase : phase[0].toUpperCase(), 'font-size="11"'));
    k = end + 1;
  }
  out.push(text(MARGIN, y(-1) + 20, 'step k', 'font-weight="bold"'));
  for (let k = 0; k < steps; k++) {
    out.push(`<rect x="${x(k)}" y="${y(-1)}" width="${CELL_W}" height="${CELL_H}" fill="#f3f4f6" stroke="#bbb"/>`);
    out.push(text(x(k) + CELL_W / 2, y(-1) + 20, String(k), 'text-anchor="middle" font-weight="bold"'));
  }
  ops.forEach((op, row) => {
    out.push(text(MARGIN, y(row) + 20, `${op} (stage ${s.ops[op].stage})`));
    for (let k = 0; k < steps; k++) {
      const cell = cells.find((c) => c.op === op && c.step === k);
      const fill = cell ? PHASE_FILL[cell.phase] : 'white';
      out.push(`<rect x="${x(k)}" y="${y(row)}" width="${CELL_W}" height="${CELL_H}" fill="${fill}" stroke="#bbb"/>`);
      const label = cell ? String(cell.iter) : '·';
      out.push(text(x(k) + CELL_W / 2, y(row) + 20, label, `text-anchor="middle"${cell ? '' : ' fill="#bbb"'}`));
    }
  });
  // Legend.
  const ly = gridBottom + 24;
  let lx = MARGIN;
  for (const phase of ['prologue', 'steady', 'epilogue'] as const) {
    out.push(`<rect x="${lx}" y="${ly - 12}" width="14" height="14" fill="${PHASE_FILL[phase]}" stroke="#888"/>`);
    out.push(text(lx + 20, ly, PHASE_TEXT[phase], 'font-size="12"'));
    lx += 20 + PHASE_TEXT[phase].length * 7.4 + 18;
  }
  out.push(text(MARGIN, ly + 22, 'cell = iteration j the op runs at step k (op of stage s runs j = k - s); · = idle', 'font-size="12" fill="#444"'));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${x}" y="${y}" ${attrs}>${escapeXml(content)}</text>`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
