// Runs --preset configs: per shape and schedule, check one attentionTensors call against the GPU
// reference, then time its launch config; rounds interleaved and pooled as in runSweep.
import { describePreset, presetFlops, type PresetConfig } from './presets.js';
import { measure, mergeRounds, outcomeLine, type Outcome, type SweepOptions } from './runner.js';
import type { BenchProvider } from './types.js';

export type PresetResult = Outcome<PresetConfig>;

export async function runPresets(provider: BenchProvider, configs: readonly PresetConfig[], opts: SweepOptions): Promise<PresetResult[]> {
  const rounds = opts.rounds ?? 1;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a whole number >= 1, got ${String(rounds)}`);
  const prepare = provider.preparePreset?.bind(provider);
  const perConfig: PresetResult[][] = configs.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, config] of configs.entries()) {
      const result = await measure(config, presetFlops(config), async () => {
        if (!prepare) throw new Error('the stagewise api loaded has no tensor entry point for presets (preparePreset)');
        return prepare(config);
      }, opts);
      perConfig[i].push(result);
      const line = outcomeLine(i + 1, configs.length, result, describePreset);
      opts.progress?.(rounds > 1 ? `round ${round + 1}/${rounds} ${line}` : line);
    }
  }
  return perConfig.map((r) => mergeRounds(r));
}
