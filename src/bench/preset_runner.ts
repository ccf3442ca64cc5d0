// Runs --preset configs: per shape and schedule, check one attentionTensors call against the GPU
// reference, then time its launch config; rounds interleaved and pooled as in runSweep (runRounds). With --peers,
// torch SDPA on the same problems through bench/peers.py.
import { PROBLEM_PEERS, sdpaGap, type PeersReport, type ProblemPeersOptions } from './peers.js';
import { presetPeerStatuses, type PresetPeerStatus } from './preset_table.js';
import { describePreset, presetFlops, presetProblems, type PresetConfig, type PresetShape } from './presets.js';
import { runRounds, type Outcome, type SweepOptions } from './runner.js';
import type { BenchProvider } from './types.js';

export type PresetResult = Outcome<PresetConfig>;

export async function runPresets(provider: BenchProvider, configs: readonly PresetConfig[], opts: SweepOptions): Promise<PresetResult[]> {
  const prepare = provider.preparePreset?.bind(provider);
  return runRounds(configs, presetFlops, async (config) => {
    if (!prepare) throw new Error('the stagewise api loaded has no tensor entry point for presets (preparePreset)');
    return prepare(config);
  }, describePreset, opts);
}

export interface PresetPeersOptions {
  /** runProblemPeers, or a fake. */
  run: (problems: readonly PresetShape[], opts: ProblemPeersOptions<PresetShape>) => Promise<PeersReport<PresetShape>>;
  python: string;
  warmup: number;
  iterations: number;
  /** The peers to time (--peer-list); default PROBLEM_PEERS. */
  peers?: readonly string[];
  timeoutMs?: number;
  log: (line: string) => void;
}

/**
 * --preset --peers: every problem torch SDPA can pose goes to one peers.py child (schedules collapse);
 * a preset with softcap or a window is never sent and says why. TFLOP/s by presetFlops, as ours.
 */
export async function timePresetPeers(configs: readonly PresetConfig[], results: readonly PresetResult[], opts: PresetPeersOptions): Promise<PresetPeerStatus[]> {
  const problems = presetProblems(configs);
  const runnable = problems.filter((p) => sdpaGap(p) === undefined);
  const presets = [...new Set(configs.map((c) => c.preset))];
  let report: PeersReport<PresetShape> | undefined;
  if (runnable.length > 0) {
    opts.log(`peers: timing torch SDPA (cuDNN, flash, torch's own pick) on ${runnable.length} preset shapes with ${opts.python}`);
    report = await opts.run(runnable, {
      python: opts.python, warmup: opts.warmup, iterations: opts.iterations, peers: opts.peers ?? PROBLEM_PEERS,
      ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
      onStderr: (line) => opts.log(`peers: ${line}`),
      flops: presetFlops,
    });
    if (!report.available) opts.log(`peers: unavailable: ${report.reason}`);
  }
  const statuses = presetPeerStatuses(presets, results, report);
  for (const s of statuses) if (s.status === 'n/a') opts.log(`peers: ${s.preset}: torch SDPA n/a: ${s.reason}`);
  return statuses;
}
