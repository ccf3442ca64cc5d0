// Runs --preset configs: per shape and schedule, check one attentionTensors call against the GPU
// reference, then time its launch config; rounds interleaved and pooled as in runSweep (runRounds). With --peers,
// torch SDPA on the same problems through bench/peers.py.
import { PROBLEM_PEERS, sdpaGap, type PeerSession, type PeersReport, type ProblemPeersOptions } from './peers.js';
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
  /** bench --cooldown, for the peers' bursts too. */
  cooldownMs?: number;
  /** The peers to time (--peer-list); default PROBLEM_PEERS. */
  peers?: readonly string[];
  timeoutMs?: number;
  log: (line: string) => void;
  /** The run's peers.py --serve child (bench --rounds: one request per round). */
  session?: PeerSession;
}

/**
 * Every problem torch SDPA can pose goes to one peers.py request (schedules collapse); a preset
 * with softcap or a window is never sent. Undefined when no problem can be sent. TFLOP/s by
 * presetFlops, as ours.
 */
export async function timePresetProblems(configs: readonly PresetConfig[], opts: PresetPeersOptions): Promise<PeersReport<PresetShape> | undefined> {
  const runnable = presetProblems(configs).filter((p) => sdpaGap(p) === undefined);
  if (runnable.length === 0) return undefined;
  opts.log(`timing torch SDPA (cuDNN, flash, torch's own pick) on ${runnable.length} preset shapes with ${opts.python}`);
  return opts.run(runnable, {
    python: opts.python, warmup: opts.warmup, iterations: opts.iterations, peers: opts.peers ?? PROBLEM_PEERS,
    ...(opts.cooldownMs ? { cooldownMs: opts.cooldownMs } : {}),
    ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
    onStderr: opts.log,
    flops: presetFlops,
    ...(opts.session ? { session: opts.session } : {}),
  });
}

/** Each preset's peer status from the run's (merged) report; a preset SDPA cannot pose says why. */
export function presetPeerReport(configs: readonly PresetConfig[], results: readonly PresetResult[], report: PeersReport<PresetShape> | undefined,
  log: (line: string) => void): PresetPeerStatus[] {
  const presets = [...new Set(configs.map((c) => c.preset))];
  const statuses = presetPeerStatuses(presets, results, report);
  for (const s of statuses) if (s.status === 'n/a') log(`peers: ${s.preset}: torch SDPA n/a: ${s.reason}`);
  return statuses;
}

/**
 * --preset --peers in one call (one round): timePresetProblems, then presetPeerReport. The bench
 * itself times the problems after each of its rounds (PeerRounds) and reports once at the end.
 */
export async function timePresetPeers(configs: readonly PresetConfig[], results: readonly PresetResult[], opts: PresetPeersOptions): Promise<PresetPeerStatus[]> {
  const report = await timePresetProblems(configs, { ...opts, log: (line) => opts.log(`peers: ${line}`) });
  if (report && !report.available) opts.log(`peers: unavailable: ${report.reason}`);
  return presetPeerReport(configs, results, report, opts.log);
}
