// Runs a sweep: for each config prepare (compile via the cache), check, and only then time.
import { describeConfig } from './sweep.js';
import { summarize, tflops, type TimingSummary } from './stats.js';
import type { AttentionConfig, BenchProvider, CheckResult } from './types.js';

/** One measured config of any kind (a sweep's AttentionConfig, a preset's PresetConfig). */
export type Outcome<C> =
  | { config: C; flops: number; status: 'ok'; check: CheckResult; timing: TimingSummary; tflops: number; kernel?: string; phasesMs?: PhasesMs }
  /** The check said the output is wrong: never timed, so no fast wrong number reaches a table. */
  | { config: C; flops: number; status: 'fail'; check: CheckResult; reason: string }
  /** Something threw (compile failure, resource limit, launch error) in the named stage. */
  | { config: C; flops: number; status: 'error'; stage: ErrorStage; reason: string; check?: CheckResult };

export type BenchResult = Outcome<AttentionConfig>;

/** What measure() drives: check once, then time. */
export interface Measurable {
  /** The kernel in one line, when the provider knows it (recorded in the result). */
  kernel?: string;
  check(): Promise<CheckResult>;
  time(opts: { warmup: number; iterations: number }): Promise<number[]>;
  dispose(): void;
}

export type ErrorStage = 'prepare' | 'check' | 'time';

/** Host wall time of each stage of one measurement (where a bench round's minutes go), in the JSON only. */
export interface PhasesMs {
  prepare: number;
  check: number;
  time: number;
}

export interface SweepOptions {
  warmup: number;
  iterations: number;
  /**
   * Passes over the whole config list (default 1). Each config is prepared, checked and timed
   * once per round (a config that fails or errs is not run again); its samples are pooled, so the
   * median is over rounds x iterations launches taken at different times, and slow drift (clocks,
   * temperature) spreads over every config instead of penalising whichever runs first or last.
   */
  rounds?: number;
  /**
   * ms the card idles between a config's check and its timed burst (default 0). Under the power cap
   * a burst's clock depends on what ran just before; the peers get the same idle (peers.py
   * cooldown_ms), so both sides start their bursts alike.
   */
  cooldownMs?: number;
  /** One line per finished config, e.g. "[3/48] firstDot/tma f16 8x16x8192x128 ... 512.3 TFLOP/s". */
  progress?: (line: string) => void;
  /**
   * Runs after each round (0-based), before the next: the bench times the peers there, so theirs
   * and ours are interleaved rounds of one run. A rejection ends the sweep.
   */
  afterRound?: (round: number, rounds: number) => Promise<void>;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * Why a check result must not be timed, or undefined when it passed. Stricter than `ok`
 * alone: NaN or rows the kernel never wrote mean wrong output whatever `ok` says.
 */
export function checkFailure(check: CheckResult): string | undefined {
  const problems: string[] = [];
  if (!check.ok) problems.push('check not ok');
  if (check.nan) problems.push('NaN in output');
  if (check.unwritten > 0) problems.push(`${check.unwritten} output elements unwritten`);
  if (!Number.isFinite(check.relL2)) problems.push(`relL2 ${check.relL2}`);
  if (problems.length === 0) return undefined;
  const numbers = `relL2 ${fmt(check.relL2)}, maxAbs ${fmt(check.maxAbs)}`;
  return `${problems.join(', ')} (${numbers})${check.message ? `: ${check.message}` : ''}`;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(3) : String(x);
}

/** Rejects timings that would make a meaningless median. */
function validateSamples(samples: unknown, iterations: number): number[] {
  if (!Array.isArray(samples)) throw new Error(`time() returned ${typeof samples}, not an array of ms`);
  if (samples.length < iterations) throw new Error(`time() returned ${samples.length} samples, asked for ${iterations}`);
  const bad = samples.find((s) => typeof s !== 'number' || !Number.isFinite(s) || s <= 0);
  if (bad !== undefined) throw new Error(`time() returned a non-positive or non-finite sample (${String(bad)} ms)`);
  return samples as number[];
}

/** Prepare, check, and only when the check passed, time; never throws. */
export async function measure<C>(config: C, flops: number, prepare: () => Promise<Measurable>, opts: Pick<SweepOptions, 'warmup' | 'iterations' | 'cooldownMs'>): Promise<Outcome<C>> {
  let prepared: Measurable;
  const t0 = performance.now();
  try {
    prepared = await prepare();
  } catch (err) {
    return { config, flops, status: 'error', stage: 'prepare', reason: errorMessage(err) };
  }
  try {
    let check: CheckResult;
    const t1 = performance.now();
    try {
      check = await prepared.check();
    } catch (err) {
      return { config, flops, status: 'error', stage: 'check', reason: errorMessage(err) };
    }
    const failure = checkFailure(check);
    if (failure !== undefined) return { config, flops, status: 'fail', check, reason: failure };
    // The check ended with its downloads: the card is idle through the cool-down.
    if (opts.cooldownMs) await new Promise((resolve) => setTimeout(resolve, opts.cooldownMs));
    const t2 = performance.now();
    try {
      const samples = validateSamples(await prepared.time({ warmup: opts.warmup, iterations: opts.iterations }), opts.iterations);
      const timing = summarize(samples);
      const phasesMs: PhasesMs = { prepare: t1 - t0, check: t2 - t1, time: performance.now() - t2 };
      return { config, flops, status: 'ok', check, timing, tflops: tflops(flops, timing.medianMs), ...(prepared.kernel ? { kernel: prepared.kernel } : {}), phasesMs };
    } catch (err) {
      return { config, flops, status: 'error', stage: 'time', reason: errorMessage(err), check };
    }
  } finally {
    try {
      prepared.dispose();
    } catch {
      // A failed free must not hide the result we already have; the next prepare will surface a broken context.
    }
  }
}

export function progressLine(index: number, total: number, result: BenchResult): string {
  return outcomeLine(index, total, result, describeConfig);
}

export function outcomeLine<C>(index: number, total: number, result: Outcome<C>, describe: (c: C) => string): string {
  const head = `[${index}/${total}] ${describe(result.config)} ...`;
  switch (result.status) {
    case 'ok': return `${head} ${result.tflops.toFixed(1)} TFLOP/s`;
    case 'fail': return `${head} FAIL (${result.reason})`;
    case 'error': return `${head} ERR in ${result.stage} (${result.reason})`;
  }
}

/** Pools one config's rounds: the first failure or error wins; otherwise the samples are merged. */
export function mergeRounds<C>(rounds: readonly Outcome<C>[]): Outcome<C> {
  const bad = rounds.find((r) => r.status !== 'ok');
  if (bad !== undefined || rounds.length === 1) return bad ?? rounds[0];
  const ok = rounds as Array<Extract<Outcome<C>, { status: 'ok' }>>;
  const timing: TimingSummary = {
    ...summarize(ok.flatMap((r) => r.timing.samplesMs)),
    roundMediansMs: ok.map((r) => r.timing.medianMs),
  };
  // The check of the last round stands for all (every round checked fresh random inputs).
  const last = ok[ok.length - 1];
  // Host time summed over the rounds.
  const sum = (k: keyof PhasesMs) => ok.reduce((t, r) => t + (r.phasesMs?.[k] ?? 0), 0);
  const phasesMs: PhasesMs | undefined = ok.some((r) => r.phasesMs) ? { prepare: sum('prepare'), check: sum('check'), time: sum('time') } : undefined;
  return { ...last, timing, tflops: tflops(last.flops, timing.medianMs), ...(phasesMs ? { phasesMs } : {}) };
}

/**
 * Runs every config in order, `rounds` times over; one config's failure or error never stops the
 * sweep. Returns one result per config (rounds pooled).
 */
export async function runSweep(provider: BenchProvider, configs: readonly AttentionConfig[], opts: SweepOptions): Promise<BenchResult[]> {
  return runRounds(configs, (c) => provider.flops(c), (c) => provider.prepareAttention(c), describeConfig, opts);
}

/**
 * The rounds of any sweep (configs or presets): every config in order, `rounds` times over, each
 * round preparing, checking and timing it again until it fails or errs.
 */
export async function runRounds<C>(
  configs: readonly C[], flopsOf: (c: C) => number, prepare: (c: C) => Promise<Measurable>, describe: (c: C) => string, opts: SweepOptions,
): Promise<Outcome<C>[]> {
  const rounds = opts.rounds ?? 1;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a whole number >= 1, got ${String(rounds)}`);
  const perConfig: Outcome<C>[][] = configs.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, config] of configs.entries()) {
      if (perConfig[i].some((r) => r.status !== 'ok')) continue; // it failed or erred: no more rounds
      // Every round checks again. Checking only the first round made later rounds' medians 4-5%
      // slower (up to 17-34% at 1k): without the check's host time between configs the card
      // never idles (bench/NOTES.md, session 7), and the floor was measured with it.
      const result = await measure(config, flopsOf(config), () => prepare(config), opts);
      perConfig[i].push(result);
      const line = outcomeLine(i + 1, configs.length, result, describe);
      opts.progress?.(rounds > 1 ? `round ${round + 1}/${rounds} ${line}` : line);
    }
    await opts.afterRound?.(round, rounds);
  }
  return perConfig.map(mergeRounds);
}
