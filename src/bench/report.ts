// The --json document: every number with the config, card, date and commit it came from.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeersReport } from './peers.js';
import type { BenchResult, Outcome } from './runner.js';
import type { PresetPeerStatus } from './preset_table.js';
import type { PresetResult } from './preset_runner.js';
import type { BenchOptions } from './sweep.js';

export const REPORT_SCHEMA = 1;

export interface SourceState {
  commit: string | null;
  /** Tracked files differ from the commit: the numbers may not be reproducible from it. */
  dirty: boolean | null;
}

export interface BenchReport {
  tool: 'stagewise bench';
  schema: typeof REPORT_SCHEMA;
  card: string;
  date: string;
  commit: string | null;
  dirty: boolean | null;
  argv: string[];
  options: Pick<BenchOptions, 'shapes' | 'schedules' | 'loads' | 'dtypes' | 'causal' | 'warmup' | 'iterations' | 'rounds' | 'cooldownMs' | 'peers' | 'presets' | 'knobs'>;
  /** One per config in sweep order; 'ok' entries carry timing (every sample, median/min/max) and TFLOP/s. */
  results: BenchResult[];
  /** The 'fail' and 'error' results again, reason first, so a reader need not scan every entry. */
  failures: Array<{ config: BenchResult['config']; status: 'fail' | 'error'; stage?: string; reason: string }>;
  /** null when --peers was not given. */
  peers: PeersReport | null;
  /** --preset runs (then `results` is empty): one entry per preset config, and why torch has no number. */
  presets: null | {
    results: PresetResult[];
    failures: Array<{ config: PresetResult['config']; status: 'fail' | 'error'; stage?: string; reason: string }>;
    /** null when --peers was not given. */
    peers: PresetPeerStatus[] | null;
  };
}

/** The commit of the stagewise checkout (not of the caller's cwd); nulls outside a git tree. */
export function sourceState(dir = path.dirname(fileURLToPath(import.meta.url))): SourceState {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', 'HEAD');
    let dirty: boolean | null = null;
    try {
      dirty = git('status', '--porcelain', '--untracked-files=no').length > 0;
    } catch {
      dirty = null;
    }
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

export function buildReport(input: {
  card: string;
  date: Date;
  source: SourceState;
  argv: readonly string[];
  options: BenchOptions;
  results: readonly BenchResult[];
  peers?: PeersReport;
  presets?: { results: readonly PresetResult[]; peers: readonly PresetPeerStatus[] | null };
}): BenchReport {
  const { options } = input;
  return {
    tool: 'stagewise bench',
    schema: REPORT_SCHEMA,
    card: input.card,
    date: input.date.toISOString(),
    commit: input.source.commit,
    dirty: input.source.dirty,
    argv: [...input.argv],
    options: {
      shapes: options.shapes, schedules: options.schedules, loads: options.loads, dtypes: options.dtypes,
      causal: options.causal, warmup: options.warmup, iterations: options.iterations, rounds: options.rounds, cooldownMs: options.cooldownMs, peers: options.peers,
      presets: options.presets,
      ...(options.knobs !== undefined ? { knobs: options.knobs } : {}),
    },
    results: [...input.results],
    failures: failuresOf(input.results),
    peers: input.peers ?? null,
    presets: input.presets
      ? { results: [...input.presets.results], failures: failuresOf(input.presets.results), peers: input.presets.peers ? [...input.presets.peers] : null }
      : null,
  };
}

function failuresOf<C>(results: readonly Outcome<C>[]): Array<{ config: C; status: 'fail' | 'error'; stage?: string; reason: string }> {
  return results.flatMap((r) =>
    r.status === 'ok' ? [] : [{ config: r.config, status: r.status, ...(r.status === 'error' ? { stage: r.stage } : {}), reason: r.reason }]);
}
