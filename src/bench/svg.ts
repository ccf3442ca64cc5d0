// TFLOP/s against seqlen as an SVG: one panel per (dtype, causal, head dim, ...) group, one
// line per schedule/load (and per peer), a shared legend. Pure: data in, markup out.

export interface PlotPoint {
  /** Panel title; points with the same panel share axes. */
  panel: string;
  /** Legend entry, e.g. 'firstDot/tma' or 'torch-cudnn'. */
  series: string;
  x: number;
  y: number;
}

export interface SeriesStyle {
  color: string;
  /** SVG stroke-dasharray, '' for a solid line. */
  dash: string;
}

export interface SvgOptions {
  title: string;
  subtitle?: string;
  xLabel?: string;
  yLabel?: string;
  /** How each series is drawn; the default keys colour on the schedule and dash on the load kind. */
  style?: (series: string, index: number) => SeriesStyle;
}

const PANEL_W = 440;
const PANEL_H = 300;
const MARGIN = { left: 64, right: 16, top: 34, bottom: 50 };
const LEGEND_ITEM_W = 170;
const LEGEND_ROW_H = 20;
const MAX_COLUMNS = 2;

const SCHEDULE_COLORS: Record<string, string> = {
  baseline: '#1f77b4', firstDot: '#ff7f0e', secondDot: '#2ca02c', auto: '#9467bd',
};
const PEER_STYLES: Record<string, SeriesStyle> = {
  'torch-cudnn': { color: '#d62728', dash: '2 3' },
  'torch-flash': { color: '#8c564b', dash: '2 3' },
  triton: { color: '#e377c2', dash: '2 3' },
};
const FALLBACK_COLORS = ['#17becf', '#bcbd22', '#7f7f7f', '#393b79', '#637939', '#8c6d31'];

/** Colour says which schedule, dash says which load kind (cp.async dashed), peers dotted. */
export function defaultSeriesStyle(series: string, index: number): SeriesStyle {
  if (PEER_STYLES[series]) return PEER_STYLES[series];
  const [schedule, load] = series.split('/');
  const color = SCHEDULE_COLORS[schedule] ?? FALLBACK_COLORS[index % FALLBACK_COLORS.length];
  return { color, dash: load === 'cp.async' ? '7 4' : '' };
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** 1024 -> '1k', 16384 -> '16k', 1536 -> '1536'. */
export function formatSeqLen(n: number): string {
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024}k` : String(n);
}

/** A 1/2/5 x 10^k step giving about `target` intervals up to `max`. */
export function niceStep(max: number, target = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const m = raw / pow;
  return (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * pow;
}

function num(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/\.?0+$/, '');
}

function firstSeen(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function renderPanel(panel: string, points: readonly PlotPoint[], seriesOrder: readonly string[], styles: Map<string, SeriesStyle>,
  ox: number, oy: number, opts: SvgOptions): string[] {
  const plotW = PANEL_W - MARGIN.left - MARGIN.right;
  const plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
  const x0 = ox + MARGIN.left;
  const y0 = oy + MARGIN.top;
  const xs = [...new Set(points.map((p) => p.x))].sort((a, b) => a - b);
  // Seqlens double from point to point, so a log axis spaces them evenly; one point sits centred.
  const lo = Math.log2(xs[0]);
  const hi = Math.log2(xs[xs.length - 1]);
  // Inset so the end points and their tick labels clear the axes and the neighbouring panel.
  const inset = 14;
  const sx = (x: number) => (hi === lo ? x0 + plotW / 2 : x0 + inset + ((Math.log2(x) - lo) / (hi - lo)) * (plotW - 2 * inset));
  const yMaxData = Math.max(...points.map((p) => p.y));
  const step = niceStep(yMaxData * 1.05);
  const yMax = Math.max(step, Math.ceil((yMaxData * 1.05) / step) * step);
  const sy = (y: number) => y0 + plotH - (y / yMax) * plotH;

  const out: string[] = [`<g class="panel" data-panel="${escapeXml(panel)}">`];
  out.push(`<text x="${x0 + plotW / 2}" y="${oy + 20}" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(panel)}</text>`);
  for (let y = 0; y <= yMax + step / 2; y += step) {
    const py = sy(y).toFixed(1);
    out.push(`<line x1="${x0}" y1="${py}" x2="${x0 + plotW}" y2="${py}" stroke="#e5e5e5"/>`);
    out.push(`<text class="ytick" x="${x0 - 6}" y="${py}" text-anchor="end" dominant-baseline="middle" font-size="11">${num(y)}</text>`);
  }
  for (const x of xs) {
    const px = sx(x).toFixed(1);
    out.push(`<line x1="${px}" y1="${y0 + plotH}" x2="${px}" y2="${y0 + plotH + 5}" stroke="#333"/>`);
    out.push(`<text class="xtick" x="${px}" y="${y0 + plotH + 18}" text-anchor="middle" font-size="11">${formatSeqLen(x)}</text>`);
  }
  out.push(`<line x1="${x0}" y1="${y0 + plotH}" x2="${x0 + plotW}" y2="${y0 + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y0 + plotH}" stroke="#333"/>`);
  out.push(`<text x="${x0 + plotW / 2}" y="${y0 + plotH + 38}" text-anchor="middle" font-size="12">${escapeXml(opts.xLabel ?? 'sequence length')}</text>`);
  const ly = y0 + plotH / 2;
  out.push(`<text x="${ox + 16}" y="${ly}" text-anchor="middle" font-size="12" transform="rotate(-90 ${ox + 16} ${ly})">${escapeXml(opts.yLabel ?? 'TFLOP/s')}</text>`);

  for (const series of seriesOrder) {
    const byX = new Map<number, number>();
    for (const p of points) if (p.series === series) byX.set(p.x, p.y);
    if (byX.size === 0) continue;
    const style = styles.get(series)!;
    const coords = [...byX.entries()].sort((a, b) => a[0] - b[0]).map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
    const dash = style.dash ? ` stroke-dasharray="${style.dash}"` : '';
    out.push(`<g class="series" data-series="${escapeXml(series)}">`);
    out.push(`<polyline points="${coords.join(' ')}" fill="none" stroke="${style.color}" stroke-width="2"${dash}/>`);
    for (const c of coords) {
      const [cx, cy] = c.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${style.color}"/>`);
    }
    out.push('</g>');
  }
  out.push('</g>');
  return out;
}

export function renderSvg(points: readonly PlotPoint[], opts: SvgOptions): string {
  const usable = points.filter((p) => Number.isFinite(p.x) && p.x > 0 && Number.isFinite(p.y) && p.y >= 0);
  const panels = firstSeen(usable.map((p) => p.panel));
  const seriesOrder = firstSeen(usable.map((p) => p.series));
  const style = opts.style ?? defaultSeriesStyle;
  const styles = new Map(seriesOrder.map((s, i) => [s, style(s, i)] as const));

  const columns = Math.max(1, Math.min(MAX_COLUMNS, panels.length));
  const width = columns * PANEL_W;
  const perRow = Math.max(1, Math.floor((width - 20) / LEGEND_ITEM_W));
  const legendRows = Math.ceil(seriesOrder.length / perRow);
  const headerH = (opts.subtitle ? 52 : 36) + legendRows * LEGEND_ROW_H + 8;
  const height = headerH + Math.max(1, Math.ceil(panels.length / columns)) * PANEL_H;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(opts.title)}</text>`,
  ];
  if (opts.subtitle) out.push(`<text x="${width / 2}" y="40" text-anchor="middle" font-size="12" fill="#555">${escapeXml(opts.subtitle)}</text>`);

  out.push('<g class="legend">');
  const legendTop = opts.subtitle ? 52 : 36;
  seriesOrder.forEach((series, i) => {
    const s = styles.get(series)!;
    const lx = 10 + (i % perRow) * LEGEND_ITEM_W;
    const ly = legendTop + Math.floor(i / perRow) * LEGEND_ROW_H + 10;
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text class="legend-label" x="${lx + 34}" y="${ly}" dominant-baseline="middle" font-size="12">${escapeXml(series)}</text>`);
  });
  out.push('</g>');

  if (panels.length === 0) {
    out.push(`<text x="${width / 2}" y="${headerH + PANEL_H / 2}" text-anchor="middle" font-size="13" fill="#555">no timed results to plot</text>`);
  }
  panels.forEach((panel, i) => {
    const ox = (i % columns) * PANEL_W;
    const oy = headerH + Math.floor(i / columns) * PANEL_H;
    out.push(...renderPanel(panel, usable.filter((p) => p.panel === panel), seriesOrder, styles, ox, oy, opts));
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
