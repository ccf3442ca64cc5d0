// The --preset tables: one per preset, a row per shape, a column per schedule, best, and with --peers
// a column per torch SDPA peer and best/peer ratios, or why a preset has no torch number.
import { PROBLEM_PEERS, peerCellText, sdpaGap, type PeerCell, type PeersReport } from './peers.js';
import type { PresetResult } from './preset_runner.js';
import { findPreset, presetShapeKey, type PresetConfig, type PresetShape } from './presets.js';
import { renderGrid } from './table.js';

export interface PresetPeerRow {
  /** presetShapeKey: '32x1024 Hq32/Hkv8 D128'. */
  shape: string;
  /** Best stagewise TFLOP/s over the schedules; null when none was timed. */
  best: number | null;
  /** One cell per peer, in PresetPeerStatus.peers order; a torch peer that ran says which backend. */
  peers: Record<string, PeerCell>;
  /** best / peer TFLOP/s, for each peer with a number. */
  ratios: Record<string, number>;
}

/** The torch side of one preset: numbers per shape, or why there are none. Never a number from a different problem. */
export interface PresetPeerStatus {
  preset: string;
  /**
   * 'timed': peers.py ran this preset's shapes (a cell may still be unsup, FAIL or ERR, with its reason);
   * 'n/a': torch SDPA cannot pose the problem (softcap, window), so nothing was sent;
   * 'unavailable': peers.py gave no numbers at all (no python, no torch, no GPU, a crash).
   */
  status: 'timed' | 'n/a' | 'unavailable';
  /** Why no cell has a number ('n/a', 'unavailable'). */
  reason?: string;
  /** The peer columns. */
  peers: string[];
  /** One per shape when 'timed'; empty otherwise. */
  rows: PresetPeerRow[];
  /** peers.py's versions and card, when it ran. */
  versions?: Record<string, string | null>;
  device?: string;
}

/** The best timed schedule of one shape, or undefined when none was timed. */
export function bestOfShape(results: readonly PresetResult[], preset: string, shape: string): number | undefined {
  let best: number | undefined;
  for (const r of results) {
    if (r.status !== 'ok' || r.config.preset !== preset || presetShapeKey(r.config) !== shape) continue;
    if (best === undefined || r.tflops > best) best = r.tflops;
  }
  return best;
}

/**
 * One status per preset from what peers.py returned for the runnable problems (undefined when none was
 * sent). A preset whose problem SDPA cannot pose is 'n/a' whatever the report holds.
 */
export function presetPeerStatuses(
  presets: readonly string[],
  results: readonly PresetResult[],
  report: PeersReport<PresetShape> | undefined,
): PresetPeerStatus[] {
  return presets.map((preset): PresetPeerStatus => {
    const model = findPreset(preset);
    const gap = model ? sdpaGap(model) : `unknown preset '${preset}'`;
    if (gap) return { preset, status: 'n/a', reason: gap, peers: [], rows: [] };
    const peers = [...PROBLEM_PEERS];
    if (report === undefined) return { preset, status: 'unavailable', reason: 'peers.py was not run', peers, rows: [] };
    if (!report.available) return { preset, status: 'unavailable', reason: report.reason, peers, rows: [] };
    const rows = report.rows.filter((r) => r.shape.preset === preset).map((r): PresetPeerRow => {
      const shape = presetShapeKey(r.shape);
      const best = bestOfShape(results, preset, shape);
      const ratios: Record<string, number> = {};
      for (const p of peers) {
        const cell = r.peers[p];
        if (best !== undefined && cell?.status === 'ok') ratios[p] = best / cell.tflops;
      }
      return { shape, best: best ?? null, peers: r.peers, ratios };
    });
    return { preset, status: 'timed', peers, rows, versions: report.versions, ...(report.device ? { device: report.device } : {}) };
  });
}

export interface PresetTableContext {
  card: string;
  warmup: number;
  iterations: number;
  rounds?: number;
  /** Present when --peers was given. */
  peers?: readonly PresetPeerStatus[];
}

function cell(r: PresetResult | undefined): string {
  if (r === undefined) return '-';
  switch (r.status) {
    case 'ok': return r.tflops.toFixed(1);
    case 'fail': return 'FAIL';
    case 'error': return 'ERR';
  }
}

function modelTitle(c: PresetConfig): string {
  const model = findPreset(c.preset);
  return `preset ${c.preset} (${model?.summary ?? '?'}), ${c.dtype}, ${c.layout}`;
}

/** --peers gives every preset a status; one missing is a caller's bug, shown as such rather than as blanks. */
function missingStatus(preset: string): PresetPeerStatus {
  return { preset, status: 'unavailable', reason: 'no peer status for this preset', peers: [], rows: [] };
}

function shapesText(shapes: readonly string[]): string {
  return shapes.length === 1 ? shapes[0] : `${shapes.length} shapes`;
}

/** Columns a status adds, after 'best'. */
function peerHeader(status: PresetPeerStatus): string[] {
  if (status.status === 'n/a') return ['torch SDPA'];
  return [...status.peers, ...(status.status === 'timed' ? status.peers.map((p) => `best/${p}`) : [])];
}

function peerCells(status: PresetPeerStatus, shape: string): string[] {
  if (status.status === 'n/a') return ['n/a'];
  if (status.status === 'unavailable') return status.peers.map(() => 'n/a');
  const row = status.rows.find((r) => r.shape === shape);
  return [
    ...status.peers.map((p) => peerCellText(row?.peers[p])),
    ...status.peers.map((p) => (row?.ratios[p] === undefined ? '-' : `${row.ratios[p].toFixed(2)}x`)),
  ];
}

/**
 * Under a preset's table: which backend each torch peer ran (torch-default: what torch picked), and
 * each reason a cell has no number, once per peer and reason.
 */
export function presetPeerNotes(status: PresetPeerStatus): string[] {
  if (status.status === 'n/a') return [`torch SDPA n/a: ${status.reason}`];
  if (status.status === 'unavailable') return [`peers: n/a: ${status.reason}`];
  const notes = ['torch SDPA: GQA through enable_gqa on [B, H, N, D] views (transposes, no copy) of the same [B, N, H, D] tensors; each peer checked against fp32 math SDPA before timing'];
  for (const p of status.peers) {
    const backends = new Map<string, string[]>();
    const reasons = new Map<string, string[]>();
    for (const row of status.rows) {
      const c = row.peers[p];
      if (c?.status === 'ok') backends.set(c.backend ?? 'unknown', [...(backends.get(c.backend ?? 'unknown') ?? []), row.shape]);
      else {
        const why = c === undefined ? '-: peers.py gave no entry' : `${peerCellText(c)}: ${c.reason}`;
        reasons.set(why, [...(reasons.get(why) ?? []), row.shape]);
      }
    }
    if (backends.size > 0) {
      const ran = [...backends].map(([b, shapes]) => `${b} (${shapesText(shapes)})`).join(', ');
      notes.push(p === 'torch-default' ? `${p}: torch picked ${ran}` : `${p} ran ${ran}`);
    }
    for (const [why, shapes] of reasons) notes.push(`${p} ${why} (${shapesText(shapes)})`);
  }
  return notes;
}

export function formatPresetTables(results: readonly PresetResult[], ctx: PresetTableContext): string {
  const rounds = (ctx.rounds ?? 1) > 1 ? `${ctx.rounds} rounds x ` : '';
  const out: string[] = [
    `stagewise attention forward (tensor API) on ${ctx.card}: TFLOP/s, median of ${rounds}${ctx.iterations} launches after ${ctx.warmup} warm-up`,
    'FLOPs = 4 * B * Hq * D * visible (query, key) pairs (causal and window masks counted exactly)',
  ];
  const presets = [...new Set(results.map((r) => r.config.preset))];
  for (const preset of presets) {
    const mine = results.filter((r) => r.config.preset === preset);
    const schedules = [...new Set(mine.map((r) => r.config.schedule))];
    const shapes = [...new Map(mine.map((r) => [presetShapeKey(r.config), r.config])).values()];
    const peer = ctx.peers ? ctx.peers.find((p) => p.preset === preset) ?? missingStatus(preset) : undefined;
    const header = ['Batch', 'SeqLen', 'Hq', 'Hkv', 'Dhead', ...schedules, 'best', ...(peer ? peerHeader(peer) : [])];
    const rows = shapes.map((shape) => {
      const key = presetShapeKey(shape);
      const cells = schedules.map((s) => mine.find((r) => r.config.schedule === s && presetShapeKey(r.config) === key));
      const best = bestOfShape(mine, preset, key);
      return [
        String(shape.batch), shape.seqQ === shape.seqK ? String(shape.seqQ) : `${shape.seqQ}/${shape.seqK}`,
        String(shape.headsQ), String(shape.headsKV), String(shape.headDim),
        ...cells.map(cell), best === undefined ? '-' : best.toFixed(1),
        ...(peer ? peerCells(peer, key) : []),
      ];
    });
    out.push('', `${modelTitle(shapes[0])} (TFLOP/s):`, renderGrid(header, rows));
    if (peer) out.push(...presetPeerNotes(peer));
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  const errored = results.filter((r) => r.status === 'error').length;
  out.push('', `${results.length} configs: ${results.length - failed - errored} timed, ${failed} FAIL (check failed, not timed), ${errored} ERR`);
  return out.join('\n');
}
