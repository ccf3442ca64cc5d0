// The --preset tables: one per preset, a row per shape, a column per schedule, best, and the torch
// SDPA column when --peers was given (with why each cell has no number).
import type { PresetResult } from './preset_runner.js';
import { findPreset, presetShapeKey, sdpaGap, type PresetConfig } from './presets.js';
import { renderGrid } from './table.js';

/** Why a preset has no torch number. Never a number from a different problem. */
export interface PresetPeerStatus {
  preset: string;
  status: 'n/a' | 'not run';
  /** The table cell. */
  cell: string;
  reason: string;
}

/** bench/peers.py builds MHA inputs [B, H, N, D] only: it has no Hkv, so no enable_gqa problem to time. */
export const GQA_PEERS_NOT_RUN = 'bench/peers.py takes MHA configs only (no Hkv / enable_gqa), so torch SDPA was not run for this preset';

export function presetPeerStatus(preset: string): PresetPeerStatus {
  const model = findPreset(preset);
  const gap = model ? sdpaGap(model) : undefined;
  if (gap) return { preset, status: 'n/a', cell: gap, reason: 'torch SDPA has no softcap or sliding window' };
  return { preset, status: 'not run', cell: 'not run', reason: GQA_PEERS_NOT_RUN };
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
    const peer = ctx.peers?.find((p) => p.preset === preset);
    const header = ['Batch', 'SeqLen', 'Hq', 'Hkv', 'Dhead', ...schedules, 'best', ...(ctx.peers ? ['torch SDPA'] : [])];
    const rows = shapes.map((shape) => {
      const cells = schedules.map((s) => mine.find((r) => r.config.schedule === s && presetShapeKey(r.config) === presetShapeKey(shape)));
      const ok = cells.flatMap((r) => (r?.status === 'ok' ? [r.tflops] : []));
      return [
        String(shape.batch), shape.seqQ === shape.seqK ? String(shape.seqQ) : `${shape.seqQ}/${shape.seqK}`,
        String(shape.headsQ), String(shape.headsKV), String(shape.headDim),
        ...cells.map(cell), ok.length ? Math.max(...ok).toFixed(1) : '-',
        ...(ctx.peers ? [peer?.cell ?? '-'] : []),
      ];
    });
    out.push('', `${modelTitle(shapes[0])} (TFLOP/s):`, renderGrid(header, rows));
    if (peer) out.push(`torch SDPA ${peer.cell}: ${peer.reason}`);
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  const errored = results.filter((r) => r.status === 'error').length;
  out.push('', `${results.length} configs: ${results.length - failed - errored} timed, ${failed} FAIL (check failed, not timed), ${errored} ERR`);
  return out.join('\n');
}
