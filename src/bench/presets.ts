// Model presets for `stagewise bench --preset`: the attention shapes of real models, run through the
// tensor API (GQA, BNHD layout, windows, softcap) rather than the buffer-level MHA kernel.
import { visibleKeys } from '../api/reference.js';
import type { Knobs } from '../codegen/index.js';
import type { Dtype, HeadDim } from './types.js';

export interface PresetModel {
  name: string;
  /** One line for --help and table titles. */
  summary: string;
  headsQ: number;
  headsKV: number;
  headDim: HeadDim;
  causal: boolean;
  /** [left, right] keys around the diagonal, -1 = unbounded (FlashAttention's convention); null = none. */
  window: [number, number] | null;
  /** 0 = none. */
  softcap: number;
  dtype: Dtype;
}

/** One problem a preset times: Nq = Nkv for the presets (K and V are made Nkv long), [B, N, H, D] (bnhd) tensors. */
export interface PresetShape {
  preset: string;
  batch: number;
  headsQ: number;
  headsKV: number;
  seqQ: number;
  seqK: number;
  headDim: HeadDim;
  dtype: Dtype;
  causal: boolean;
  window: [number, number] | null;
  softcap: number;
  layout: 'bnhd';
}

export interface PresetConfig extends PresetShape {
  schedule: string;
  /** Kernel knobs for the tensor API (bench --knobs, bench/dev/problem_sweep.mjs); the presets give none. */
  knobs?: PresetKnobs;
}

export const PRESET_SEQ_LENS = [1024, 2048, 4096, 8192, 16384] as const;
/** Batch x seqlen held at 32k tokens, so every length does the same work per token (without a mask). */
export const PRESET_TOKENS = 32 * 1024;

export const PRESETS: readonly PresetModel[] = [
  {
    name: 'llama3-8b', summary: 'Hq 32, Hkv 8, D 128, causal', headsQ: 32, headsKV: 8, headDim: 128,
    causal: true, window: null, softcap: 0, dtype: 'f16',
  },
  {
    name: 'gemma2-9b', summary: 'Hq 16, Hkv 8, D 256, causal, window [4096, 0], softcap 50', headsQ: 16, headsKV: 8, headDim: 256,
    causal: true, window: [4096, 0], softcap: 50, dtype: 'f16',
  },
];

export const PRESET_NAMES: readonly string[] = PRESETS.map((p) => p.name);

export function findPreset(name: string): PresetModel | undefined {
  return PRESETS.find((p) => p.name === name);
}

/** The shapes of one preset, shortest sequence first: B = PRESET_TOKENS / N. */
export function presetShapes(model: PresetModel): PresetShape[] {
  return PRESET_SEQ_LENS.map((n) => ({
    preset: model.name, batch: PRESET_TOKENS / n, headsQ: model.headsQ, headsKV: model.headsKV, seqQ: n, seqK: n,
    headDim: model.headDim, dtype: model.dtype, causal: model.causal, window: model.window, softcap: model.softcap, layout: 'bnhd',
  }));
}

/** Every config: preset, then shape, then schedule innermost so one table row fills in together. */
/** Kernel knobs a preset config may carry (every knob but load: presets load by TMA). */
export type PresetKnobs = Omit<Knobs, 'load'>;

export function buildPresetSweep(names: readonly string[], schedules: readonly string[], knobs?: PresetKnobs): PresetConfig[] {
  return names.flatMap((name) => presetShapes(findPreset(name)!).flatMap((s) => schedules.map((schedule) => ({ ...s, schedule, ...(knobs ? { knobs } : {}) }))));
}

/**
 * (query, key) pairs one head computes: the sum over query rows of the keys it sees, with the
 * masking rule of the kernel and its references (visibleKeys: bottom-right aligned causal, then the
 * window around the same diagonal). Nq = Nk causal gives N(N+1)/2.
 */
export function visiblePairs(seqQ: number, seqK: number, causal: boolean, window: readonly [number, number] | null): number {
  let pairs = 0;
  for (let row = 0; row < seqQ; row++) {
    const { lo, hi } = visibleKeys(row, seqQ, seqK, { causal, window });
    if (hi >= lo) pairs += hi - lo + 1;
  }
  return pairs;
}

/** 4 * B * Hq * D * visible pairs: two matmuls of 2 FLOPs per multiply-add, masked pairs not counted. */
export function presetFlops(s: Pick<PresetShape, 'batch' | 'headsQ' | 'headDim' | 'seqQ' | 'seqK' | 'causal' | 'window'>): number {
  return 4 * s.batch * s.headsQ * s.headDim * visiblePairs(s.seqQ, s.seqK, s.causal, s.window);
}

/** '32x1024 Hq32/Hkv8 D128': batch x seqlen, heads, head dim. */
export function presetShapeKey(s: PresetShape): string {
  const n = s.seqQ === s.seqK ? `${s.seqQ}` : `${s.seqQ}/${s.seqK}`;
  return `${s.batch}x${n} Hq${s.headsQ}/Hkv${s.headsKV} D${s.headDim}`;
}

/** 'llama3-8b secondDot 32x1024 Hq32/Hkv8 D128': one config in a progress or error line. */
export function describePreset(c: PresetConfig): string {
  return `${c.preset} ${c.schedule} ${presetShapeKey(c)}${c.knobs ? ` ${JSON.stringify(c.knobs)}` : ''}`;
}

/** The distinct problems of a preset sweep (schedules collapse), in sweep order: what peers are asked. */
export function presetProblems(configs: readonly PresetConfig[]): PresetShape[] {
  const seen = new Map<string, PresetShape>();
  for (const { schedule: _, knobs: _k, ...shape } of configs) {
    const key = `${shape.preset} ${presetShapeKey(shape)}`;
    if (!seen.has(key)) seen.set(key, shape);
  }
  return [...seen.values()];
}

/**
 * Query rows (of every sequence, batch and head) the check compares: both ends, the middle, the
 * rows on either side of the window's edge (where masking changes), and `extra` seeded random ones.
 */
export function checkRows(seqQ: number, window: readonly [number, number] | null, seed: number, extra = 8): number[] {
  const rows = new Set<number>([0, 1, seqQ >> 1, seqQ - 2, seqQ - 1]);
  if (window && window[0] >= 0) for (const r of [window[0] - 1, window[0], window[0] + 1]) rows.add(r);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < extra; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; // xorshift32
    rows.add(x % seqQ);
  }
  return [...rows].filter((r) => r >= 0 && r < seqQ).sort((a, b) => a - b);
}
