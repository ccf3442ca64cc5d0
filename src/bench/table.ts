// Text tables in the shape Triton's perf_report prints: a title per group, an index column,
// one row per shape and one right-aligned column per series.
import { PEERS, peerCellText, peerShapeKey, type PeerCell, type PeersReport } from './peers.js';
import type { BenchResult } from './runner.js';
import { groupName, seriesName, shapeKey } from './sweep.js';

export interface TableContext {
  card: string;
  warmup: number;
  iterations: number;
  /** Interleaved rounds pooled per config (1 when absent). */
  rounds?: number;
  /** Absent when --peers was not given: no peer columns at all. */
  peers?: PeersReport;
}

export const SHAPE_COLUMNS = ['Batch', 'Heads', 'SeqLen', 'Dhead'] as const;

function stagewiseCell(r: BenchResult | undefined): string {
  if (r === undefined) return '-';
  switch (r.status) {
    case 'ok': return r.tflops.toFixed(1);
    case 'fail': return 'FAIL';
    case 'error': return 'ERR';
  }
}

const peerCell = peerCellText;

/** Columns right-aligned to their widest cell; the index column left-aligned, as pandas prints. */
export function renderGrid(header: readonly string[], rows: readonly string[][]): string {
  const indexWidth = String(Math.max(rows.length - 1, 0)).length;
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: readonly string[], index: string) =>
    [index.padEnd(indexWidth), ...cells.map((cell, c) => cell.padStart(widths[c]))].join('  ');
  return [line(header, ''), ...rows.map((r, i) => line(r, String(i)))].join('\n');
}

function bestOf(results: readonly (BenchResult | undefined)[]): number | undefined {
  let best: number | undefined;
  for (const r of results) if (r?.status === 'ok' && (best === undefined || r.tflops > best)) best = r.tflops;
  return best;
}

function firstSeen<T>(items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}

/**
 * Rows grouped by head dim (in the order the sweep first used each, so the headline's comes
 * first) and by ascending seqlen within one, as a reader scans a seqlen sweep.
 */
function sortRows<T extends { batch: number; heads: number; seqLen: number; headDim: number }>(shapes: T[]): T[] {
  const dimRank = new Map<number, number>();
  for (const s of shapes) if (!dimRank.has(s.headDim)) dimRank.set(s.headDim, dimRank.size);
  return [...shapes].sort((a, b) =>
    dimRank.get(a.headDim)! - dimRank.get(b.headDim)! || a.seqLen - b.seqLen || a.batch - b.batch || a.heads - b.heads);
}

/** Peer failures, said once per peer and reason rather than once per cell. */
function peerNotes(peers: PeersReport): string[] {
  if (!peers.available) return [`peers: n/a: ${peers.reason}`];
  const notes: string[] = [];
  for (const name of PEERS) {
    const reasons = new Map<string, string[]>();
    for (const row of peers.rows) {
      const cell = row.peers[name];
      if (cell === undefined || cell.status === 'ok') continue;
      const key = `${peerCell(cell)}: ${cell.reason}`;
      reasons.set(key, [...(reasons.get(key) ?? []), peerShapeKey(row.shape)]);
    }
    for (const [reason, shapes] of reasons) {
      notes.push(`${name} ${reason} (${shapes.length === 1 ? shapes[0] : `${shapes.length} shapes`})`);
    }
  }
  return notes;
}

export function formatTables(results: readonly BenchResult[], ctx: TableContext): string {
  const out: string[] = [
    `stagewise attention forward on ${ctx.card}: TFLOP/s, median of ${(ctx.rounds ?? 1) > 1 ? `${ctx.rounds} rounds x ` : ''}${ctx.iterations} launches after ${ctx.warmup} warm-up`,
  ];
  const series = firstSeen(results.map((r) => r.config), seriesName).map(seriesName);
  const peerNames = ctx.peers ? [...PEERS] : [];
  // Without peer numbers the ratio columns would be all '-': the note under the tables says why.
  const ratioNames = ctx.peers?.available ? peerNames : [];
  const showBest = series.length > 1 || peerNames.length > 0;

  const bySeries = new Map<string, BenchResult>();
  for (const r of results) bySeries.set(`${groupName(r.config)}|${shapeKey(r.config)}|${seriesName(r.config)}`, r);
  const peerRows = new Map<string, Record<string, PeerCell>>();
  if (ctx.peers?.available) for (const row of ctx.peers.rows) peerRows.set(peerShapeKey(row.shape), row.peers);

  for (const group of firstSeen(results.map((r) => r.config), groupName)) {
    const gname = groupName(group);
    const shapes = sortRows(firstSeen(results.filter((r) => groupName(r.config) === gname).map((r) => r.config), shapeKey));
    const header = [...SHAPE_COLUMNS, ...series, ...(showBest ? ['best'] : []), ...peerNames, ...ratioNames.map((p) => `best/${p}`)];
    const rows = shapes.map((shape) => {
      const cells = series.map((s) => bySeries.get(`${gname}|${shapeKey(shape)}|${s}`));
      const best = bestOf(cells);
      const peerCells = ctx.peers?.available ? peerRows.get(peerShapeKey(shape)) ?? {} : undefined;
      const peerText = peerNames.map((p) => (peerCells ? peerCell(peerCells[p]) : 'n/a'));
      const ratios = ratioNames.map((p) => {
        const cell = peerCells?.[p];
        return best !== undefined && cell?.status === 'ok' ? `${(best / cell.tflops).toFixed(2)}x` : '-';
      });
      return [
        String(shape.batch), String(shape.heads), String(shape.seqLen), String(shape.headDim),
        ...cells.map(stagewiseCell),
        ...(showBest ? [best === undefined ? '-' : best.toFixed(1)] : []),
        ...peerText,
        ...ratios,
      ];
    });
    out.push('', `attention-fwd ${gname} (TFLOP/s):`, renderGrid(header, rows));
  }

  if (ctx.peers) {
    const notes = peerNotes(ctx.peers);
    if (notes.length > 0) out.push('', ...notes);
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  const errored = results.filter((r) => r.status === 'error').length;
  out.push('', `${results.length} configs: ${results.length - failed - errored} timed, ${failed} FAIL (check failed, not timed), ${errored} ERR`);
  return out.join('\n');
}
