// The slice of the stagewise API that the bench drives. src/api/index.ts is written in
// parallel; these declarations are the contract it conforms to, and keeping them here
// lets the bench (and its CPU tests) typecheck and run against a fake provider.
import type { Readiness } from '../runtime/devices.js';
import type { PresetConfig } from './presets.js';

export type HeadDim = 64 | 128 | 256;
export type Dtype = 'f16' | 'bf16';
export type LoadKind = 'tma' | 'cp.async';

export interface AttentionConfig {
  batch: number;
  heads: number;
  seqLen: number;
  headDim: HeadDim;
  dtype: Dtype;
  causal: boolean;
  /** 'baseline' | 'firstDot' | 'secondDot' | 'auto' */
  schedule: string;
  load: LoadKind;
}

export interface CheckResult {
  ok: boolean;
  relL2: number;
  maxAbs: number;
  nan: boolean;
  unwritten: number;
  message?: string;
}

export interface PreparedAttention {
  config: AttentionConfig;
  /** The kernel in one line (load path, tile, rings, turn, P operand, tile scheduler). */
  kernel?: string;
  /** One launch on fresh random inputs; a slice of output rows against an fp32 reference. */
  check(): Promise<CheckResult>;
  /** ms per launch for `iterations` launches after `warmup`, rotating input sets. */
  time(opts: { warmup: number; iterations: number }): Promise<number[]>;
  dispose(): void;
}

export interface FlopsShape {
  batch: number;
  heads: number;
  seqLen: number;
  headDim: number;
  causal: boolean;
}

/** One model-preset problem through the tensor API (src/bench/preset_gpu.ts). */
export interface PreparedPreset {
  config: PresetConfig;
  /** One attentionTensors call against the general GPU reference on sampled rows. */
  check(): Promise<CheckResult>;
  /** ms per launch with CUDA events, of the launch config attentionTensors builds. */
  time(opts: { warmup: number; iterations: number }): Promise<number[]>;
  dispose(): void;
}

/** What the bench needs from stagewise; the default is src/api/index.ts, tests pass fakes. */
export interface BenchProvider {
  /** Checked before the sweep starts: the bench needs a Hopper GPU and NVRTC. */
  missing(): Readiness;
  prepareAttention(cfg: AttentionConfig): Promise<PreparedAttention>;
  /** 4*B*H*N^2*D, halved for causal. */
  flops(cfg: FlopsShape): number;
  deviceName(): string;
  /** --preset: absent when the api has no tensor entry point to drive. */
  preparePreset?(cfg: PresetConfig): Promise<PreparedPreset>;
}
