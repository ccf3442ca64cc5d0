// Bench results -> points for svg.ts. Points sharing dtype, causality, head dim, heads and
// tokens (batch x seqlen) share a panel, so each panel's x axis varies seqlen alone.
import type { PeersReport } from './peers.js';
import { PEERS } from './peers.js';
import type { BenchResult } from './runner.js';
import { formatSeqLen, renderSvg, type PlotPoint } from './svg.js';
import { seriesName } from './sweep.js';

interface PanelShape {
  batch: number;
  heads: number;
  seqLen: number;
  headDim: number;
  dtype: string;
  causal: boolean;
}

export function panelName(s: PanelShape): string {
  return `${s.dtype} ${s.causal ? 'causal' : 'non-causal'}, D=${s.headDim}, H=${s.heads}, B×N=${formatSeqLen(s.batch * s.seqLen)}`;
}

/** Only timed numbers are plotted: FAIL and ERR configs leave a gap, never a point. */
export function benchPlotPoints(results: readonly BenchResult[], peers?: PeersReport): PlotPoint[] {
  const points: PlotPoint[] = [];
  for (const r of results) {
    if (r.status === 'ok') points.push({ panel: panelName(r.config), series: seriesName(r.config), x: r.config.seqLen, y: r.tflops });
  }
  if (peers?.available) {
    for (const row of peers.rows) {
      for (const name of PEERS) {
        const cell = row.peers[name];
        if (cell?.status === 'ok') points.push({ panel: panelName(row.shape), series: name, x: row.shape.seqLen, y: cell.tflops });
      }
    }
  }
  return points;
}

/** The bench's SVG of a run: `npm run bench -- --svg`, and bench/dev/replot.mjs from a run's --json. */
export function benchSvg(results: readonly BenchResult[], peers: PeersReport | undefined, card: string, opts: { rounds: number; iterations: number }): string {
  return renderSvg(benchPlotPoints(results, peers), {
    title: `stagewise attention forward, ${card}`,
    subtitle: `TFLOP/s, median of ${opts.rounds > 1 ? `${opts.rounds} x ` : ''}${opts.iterations} launches; colour = schedule, dashed = cp.async, dotted = peers`,
  });
}
