// What to time: the default sweep, the flags that narrow it, and the config list they give.
import { CI_PRESET, FLOOR_TOLERANCE, GATE_PEER } from './floor.js';
import { PEERS, PROBLEM_PEERS } from './peers.js';
import { buildPresetSweep, describePreset, PRESET_NAMES, PRESET_SEQ_LENS, PRESET_TOKENS, PRESETS, type PresetKnobs } from './presets.js';
import { chooseFrom, isKnobName, KNOB_NAMES, schedulerLength } from '../codegen/index.js';
import { NAMED } from '../schedule/index.js';
import type { AttentionConfig, Dtype, HeadDim, LoadKind } from './types.js';

/** The named schedules of the default sweep, in column order. */
export const DEFAULT_SCHEDULES = ['baseline', 'firstDot', 'secondDot'] as const;
/** Every name `--schedules` accepts; 'auto' (the API's default: codegen chooseAuto picks baseline or secondDot per kernel) is opt-in, as it times one of the others again. */
export const KNOWN_SCHEDULES: readonly string[] = [...DEFAULT_SCHEDULES, 'auto'];
export const LOADS: readonly LoadKind[] = ['tma', 'cp.async'];
/** --preset ci's load kinds unless --loads is given. */
export const CI_LOADS: readonly LoadKind[] = ['tma'];
export const DTYPES: readonly Dtype[] = ['f16', 'bf16'];
export const HEAD_DIMS: readonly HeadDim[] = [64, 128, 256];

export const DEFAULT_ITERATIONS = 30;
/** A median of fewer runs is too easy to flatter with one lucky launch. */
export const MIN_ITERATIONS = 20;
/** --cooldown with --peers unless given (measured: bench/NOTES.md session 10). */
export const DEFAULT_PEERS_COOLDOWN_MS = 500;
/** --cooldown's ceiling: beyond 10 s per burst a sweep takes hours. */
export const MAX_COOLDOWN_MS = 10_000;
export const DEFAULT_WARMUP = 10;

export interface Shape {
  batch: number;
  heads: number;
  seqLen: number;
  headDim: HeadDim;
}

export const HEADLINE: Shape = { batch: 8, heads: 16, seqLen: 8192, headDim: 128 };

/** Batch x seqLen is held at 64k tokens so every point of the seqlen sweep does the same work per token. */
const TOKENS = 64 * 1024;

/**
 * The headline shape first, then seqlen 1k..16k at head dim 128 (16 heads), then head dims
 * 64 and 256 at 4k and 8k. Those keep heads x headDim = 2048, as FlashAttention's own
 * benchmarks do, so the FLOP count per token matches the head-dim-128 rows.
 */
export function defaultShapes(): Shape[] {
  const shapes: Shape[] = [HEADLINE];
  for (const seqLen of [1024, 2048, 4096, 8192, 16384]) {
    shapes.push({ batch: TOKENS / seqLen, heads: 16, seqLen, headDim: 128 });
  }
  for (const headDim of [64, 256] as const) {
    for (const seqLen of [4096, 8192]) {
      shapes.push({ batch: TOKENS / seqLen, heads: 2048 / headDim, seqLen, headDim });
    }
  }
  return dedupeShapes(shapes);
}

/**
 * The gate's shapes, f16, non-causal and causal (14 configs): seqlen 1k..16k at head dim 128 with
 * batch x seqlen held at 64k tokens up to 8k, then the 32k-token 16k point, and head dims 64 and 256
 * at 8k. Each is timed through the buffer-level kernels with every named schedule, and its best
 * divided by torch SDPA's cuDNN backend from the same run.
 */
export const CI_SHAPES: readonly Shape[] = [
  { batch: 64, heads: 16, seqLen: 1024, headDim: 128 },
  { batch: 32, heads: 16, seqLen: 2048, headDim: 128 },
  { batch: 16, heads: 16, seqLen: 4096, headDim: 128 },
  { batch: 8, heads: 16, seqLen: 8192, headDim: 128 },
  { batch: 2, heads: 16, seqLen: 16384, headDim: 128 },
  { batch: 8, heads: 32, seqLen: 8192, headDim: 64 },
  { batch: 4, heads: 16, seqLen: 8192, headDim: 256 },
];

export function shapeKey(s: Shape): string {
  return `${s.batch}x${s.heads}x${s.seqLen}x${s.headDim}`;
}

function dedupeShapes(shapes: Shape[]): Shape[] {
  const seen = new Set<string>();
  return shapes.filter((s) => {
    const key = shapeKey(s);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export interface BenchOptions {
  shapes: Shape[];
  schedules: string[];
  loads: LoadKind[];
  dtypes: Dtype[];
  causal: boolean[];
  warmup: number;
  iterations: number;
  /** Interleaved passes over the config list, samples pooled (runner.ts SweepOptions.rounds). */
  rounds: number;
  /** --cooldown: ms the card idles before each timed burst, ours and the peers' alike (default 500 with peers, else 0). */
  cooldownMs: number;
  json?: string;
  svg?: string;
  peers: boolean;
  /** The interpreter that runs bench/peers.py. */
  python: string;
  /** --peer-list: the peers to time (default: every peer of the mode). */
  peerList?: string[];
  /** --preset: model presets to run through the tensor API instead of the sweep (empty: the sweep). */
  presets: string[];
  /** --knobs: kernel knobs for every preset config (the tensor API's `knobs`); checked against each. */
  knobs?: PresetKnobs;
  /** --preset ci: the sweep over CI_SHAPES with peers, then the gate against the floor file. */
  ci: boolean;
  /** --update-floor: write the floor file from this run instead of comparing with it. */
  updateFloor: boolean;
  /** --floor: the floor file; undefined = bench/floor.json of the package (floor.ts defaultFloorPath). */
  floor?: string;
  help: boolean;
}

export class UsageError extends Error {}

export const USAGE = `usage: stagewise bench [options]

Times every schedule x load kind on each shape (compile via the cache, check against an
fp32 reference, then time), and prints TFLOP/s tables grouped by dtype and causality.
A config whose check fails shows FAIL and is never timed; one that throws shows ERR.

The default sweep (${defaultShapes().length} shapes x 2 dtypes x 2 causal x ${DEFAULT_SCHEDULES.length} schedules x ${LOADS.length} loads)
takes a while; narrow it with the flags below.

options:
  --quick               headline shape ${shapeKey(HEADLINE)} only, f16, non-causal, every schedule x load
                        (explicit --shape/--dtype/--causal still win)
  --shape B,H,N,D       a shape to time instead of the default sweep (repeatable; D is 64, 128 or 256)
  --schedules a,b       schedules to time (default ${DEFAULT_SCHEDULES.join(',')}; known: ${KNOWN_SCHEDULES.join(', ')})
  --loads tma,cp.async  load kinds to time (default both; tma with --preset ci)
  --dtype f16|bf16|both (default both)
  --causal yes|no|both  (default both)
  --iterations N        timed launches per config, median reported (default ${DEFAULT_ITERATIONS}, minimum ${MIN_ITERATIONS})
  --warmup N            untimed launches before timing (default ${DEFAULT_WARMUP}, minimum 1)
  --rounds N            passes over the whole config list, samples pooled per config (default 1):
                        spreads clock and temperature drift over every config; use it to compare
                        configs within a few percent of each other
  --cooldown MS         idle the card MS milliseconds before each timed burst, ours and the
                        peers' alike (default 500 with --peers or --preset ci, else 0): under its
                        power cap the clock a burst gets depends on what ran just before
                        (bench/NOTES.md session 10)
  --json FILE           write every number with its config, card, date and commit
  --svg FILE            draw TFLOP/s against seqlen per schedule
  --peers               also time torch SDPA (cuDNN, flash) and a Triton kernel via bench/peers.py
  --python PATH         interpreter for --peers (default python3)
  --peer-list a,b       with --peers: only these peers (sweep: torch-cudnn, torch-flash, triton;
                        presets: torch-cudnn, torch-flash, torch-default); --preset ci needs torch-cudnn
  --preset NAME         time a model's attention through the tensor API instead of the sweep
                        (repeatable or comma-separated; known: ${PRESET_NAMES.join(', ')}):
${PRESETS.map((p) => `                          ${p.name.padEnd(10)} ${p.summary}, ${p.dtype}, layout BNHD`).join('\n')}
                        each at Nq = Nkv = ${PRESET_SEQ_LENS.join(', ')} with batch B = ${PRESET_TOKENS} / N
                        (${PRESET_TOKENS / 1024}k tokens per launch); window [left, right] as FlashAttention
                        (-1 = unbounded), causal bottom-right aligned. Each config is checked once
                        against the GPU reference on sampled rows, then its launch timed with CUDA
                        events; FLOPs count only visible (query, key) pairs. --schedules, --iterations,
                        --warmup, --rounds, --json and --peers apply; --shape, --quick, --loads, --dtype,
                        --causal and --svg are errors with --preset (a preset fixes them). With
                        --peers, torch SDPA cannot run softcap/window presets (shown n/a)
  --knobs JSON          with a model --preset: kernel knobs for every config, as the tensor API's
                        \`knobs\` (e.g. '{"softcapTanh":"approx"}' or '{"oStore":"registers"}'; not
                        load); each is checked against every config before anything runs
  --preset ${CI_PRESET}           the performance gate: B x H x N x D = ${CI_SHAPES.slice(0, 2).map(shapeKey).join(', ')},
                        ${CI_SHAPES.slice(2).map(shapeKey).join(', ')};
                        f16, non-causal and causal (${CI_SHAPES.length * 2} configs), through the sweep (every schedule on
                        ${CI_LOADS.join(', ')} loads unless --loads says more, best per config), --peers implied. Each config's best/torch-cudnn ratio
                        must stay within ${FLOOR_TOLERANCE * 100}% of the floor file; a config without both numbers fails.
                        --shape, --quick, --dtype and --causal are errors with it
  --update-floor        with --preset ${CI_PRESET}: write the floor file from this run instead of comparing
  --floor FILE          with --preset ${CI_PRESET}: the floor file (default bench/floor.json of the package)
  --help                this text

exit status: 0 when the sweep ran, 1 when any check failed, the gate failed or the api could not load, 2 for bad
flags or a machine without a usable GPU or NVRTC (said in one line before anything starts).`;

const FLAGS_WITH_VALUE = new Set([
  '--shape', '--schedules', '--loads', '--dtype', '--causal', '--iterations', '--warmup', '--rounds', '--cooldown', '--json', '--svg', '--python', '--preset',
  '--floor', '--peer-list', '--knobs',
]);
/** Flags that choose or draw the MHA sweep; a preset fixes its own shapes, dtype, mask and load. */
const SWEEP_ONLY_FLAGS = ['--shape', '--quick', '--loads', '--dtype', '--causal', '--svg'] as const;
/** Flags that choose the sweep's shapes, dtype and mask, which `--preset ci` fixes (schedules and loads it leaves open). */
const CI_FIXED_FLAGS = ['--shape', '--quick', '--dtype', '--causal'] as const;
const BOOLEAN_FLAGS = new Set(['--quick', '--peers', '--update-floor', '--help', '-h']);

function parseIntFlag(flag: string, value: string, min: number): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} expects a whole number, got '${value}'`);
  const n = Number(value);
  if (n < min) throw new UsageError(`${flag} must be at least ${min}, got ${n}`);
  return n;
}

/** --knobs: a JSON object whose keys are kernel knobs (codegen KNOB_NAMES) other than load. */
function parseKnobs(value: string): PresetKnobs {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new UsageError(`--knobs expects a JSON object of kernel knobs (e.g. '{"softcapTanh":"approx"}'), got '${value}'`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--knobs expects a JSON object of kernel knobs (e.g. '{"softcapTanh":"approx"}'), got '${value}'`);
  }
  for (const key of Object.keys(parsed)) {
    if (key === 'load' || !isKnobName(key)) {
      throw new UsageError(`--knobs: '${key}' is not a knob here (known: ${KNOB_NAMES.filter((k) => k !== 'load').join(', ')}; presets load by TMA)`);
    }
  }
  return parsed as PresetKnobs;
}

/** Every preset config with the knobs through choose(): a refused knob is a usage error naming the config and the rule. */
function checkKnobs(knobs: PresetKnobs, presets: readonly string[], schedules: readonly string[]): void {
  for (const c of buildPresetSweep(presets, schedules)) {
    const schedule = c.schedule === 'auto' ? 'auto' : (NAMED as Record<string, (typeof NAMED)[keyof typeof NAMED] | undefined>)[c.schedule];
    if (!schedule) continue; // not a schedule name: the run reports it
    try {
      chooseFrom(schedule, {
        headDim: c.headDim, dtype: c.dtype, causal: c.causal, window: c.window !== null, softcap: c.softcap > 0, load: 'tma',
        seqQ: schedulerLength(c.seqQ), ...knobs,
      });
    } catch (e) {
      throw new UsageError(`--knobs ${JSON.stringify(knobs)} cannot run ${describePreset(c)}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

function parseShape(value: string): Shape {
  const parts = value.split(',');
  if (parts.length !== 4 || parts.some((p) => !/^\d+$/.test(p.trim()) || Number(p) <= 0)) {
    throw new UsageError(`--shape expects B,H,N,D as four positive whole numbers (e.g. 8,16,8192,128), got '${value}'`);
  }
  const [batch, heads, seqLen, headDim] = parts.map(Number);
  if (!(HEAD_DIMS as readonly number[]).includes(headDim)) {
    throw new UsageError(`--shape head dim D must be one of ${HEAD_DIMS.join(', ')}, got ${headDim} in '${value}'`);
  }
  return { batch, heads, seqLen, headDim: headDim as HeadDim };
}

function parseList<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`${flag} expects a comma-separated list from ${allowed.join(', ')}`);
  for (const item of items) {
    if (!allowed.includes(item as T)) {
      throw new UsageError(`${flag}: unknown '${item}'; expected a comma-separated list from ${allowed.join(', ')}`);
    }
  }
  return [...new Set(items)] as T[];
}

function parseDtype(value: string): Dtype[] {
  if (value === 'both') return [...DTYPES];
  if ((DTYPES as readonly string[]).includes(value)) return [value as Dtype];
  throw new UsageError(`--dtype expects f16, bf16 or both, got '${value}'`);
}

function parseCausal(value: string): boolean[] {
  switch (value) {
    case 'yes': return [true];
    case 'no': return [false];
    case 'both': return [false, true];
    default: throw new UsageError(`--causal expects yes, no or both, got '${value}'`);
  }
}

/** Flags to options; throws UsageError naming the flag and the rule it broke. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const explicit: Partial<BenchOptions> = {};
  const shapes: Shape[] = [];
  const presets: string[] = [];
  const seen = new Set<string>();
  let quick = false;
  let peers = false;
  let updateFloor = false;
  let help = false;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    seen.add(flag);

    if (BOOLEAN_FLAGS.has(flag)) {
      if (eq >= 0) throw new UsageError(`${flag} takes no value, got '${arg}'`);
      if (flag === '--quick') quick = true;
      else if (flag === '--peers') peers = true;
      else if (flag === '--update-floor') updateFloor = true;
      else help = true;
      continue;
    }
    if (!FLAGS_WITH_VALUE.has(flag)) {
      throw new UsageError(arg.startsWith('-') ? `unknown flag '${flag}'` : `unexpected argument '${arg}' (bench takes only flags)`);
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      value = next;
      i++;
    }
    switch (flag) {
      case '--shape': shapes.push(parseShape(value)); break;
      case '--preset': presets.push(...parseList('--preset', value, [...PRESET_NAMES, CI_PRESET])); break;
      case '--schedules': explicit.schedules = parseList('--schedules', value, KNOWN_SCHEDULES); break;
      case '--loads': explicit.loads = parseList('--loads', value, LOADS); break;
      case '--dtype': explicit.dtypes = parseDtype(value); break;
      case '--causal': explicit.causal = parseCausal(value); break;
      case '--iterations': explicit.iterations = parseIntFlag(flag, value, MIN_ITERATIONS); break;
      case '--warmup': explicit.warmup = parseIntFlag(flag, value, 1); break;
      case '--rounds': explicit.rounds = parseIntFlag(flag, value, 1); break;
      case '--cooldown':
        explicit.cooldownMs = parseIntFlag(flag, value, 0);
        if (explicit.cooldownMs > MAX_COOLDOWN_MS) throw new UsageError(`--cooldown must be at most ${MAX_COOLDOWN_MS} ms, got ${explicit.cooldownMs}`);
        break;
      case '--knobs': explicit.knobs = parseKnobs(value); break;
      case '--peer-list': explicit.peerList = parseList('--peer-list', value, [...new Set<string>([...PEERS, ...PROBLEM_PEERS])]); break;
      case '--json': case '--svg': case '--python': case '--floor':
        if (value.length === 0) throw new UsageError(`${flag} needs a non-empty value`);
        explicit[flag.slice(2) as 'json' | 'svg' | 'python' | 'floor'] = value;
        break;
    }
  }

  const ci = presets.includes(CI_PRESET);
  if (ci) {
    if (presets.length > 1) {
      throw new UsageError(`--preset ${CI_PRESET} runs the MHA sweep and cannot be combined with model presets (${presets.filter((p) => p !== CI_PRESET).join(', ')})`);
    }
    const clash = CI_FIXED_FLAGS.filter((f) => seen.has(f));
    if (clash.length > 0) {
      throw new UsageError(`--preset ${CI_PRESET} fixes shapes, dtype and mask: ${clash.join(', ')} cannot be combined with it`);
    }
  } else {
    for (const f of ['--update-floor', '--floor']) {
      if (seen.has(f)) throw new UsageError(`${f} needs --preset ${CI_PRESET} (the floor holds the gate's configs only)`);
    }
  }
  if (presets.length > 0 && !ci) {
    const clash = SWEEP_ONLY_FLAGS.filter((f) => seen.has(f));
    if (clash.length > 0) {
      throw new UsageError(`--preset fixes shapes, dtype, mask and load kind: ${clash.join(', ')} cannot be combined with it`);
    }
  }
  if (explicit.peerList) {
    if (!peers && !ci) throw new UsageError('--peer-list needs --peers');
    const known: readonly string[] = presets.length > 0 && !ci ? PROBLEM_PEERS : PEERS;
    const other = explicit.peerList.filter((p) => !known.includes(p));
    if (other.length > 0) throw new UsageError(`--peer-list: ${other.join(', ')} cannot run ${presets.length > 0 && !ci ? 'a model preset' : 'the sweep'} (known here: ${known.join(', ')})`);
    if (ci && !explicit.peerList.includes(GATE_PEER)) throw new UsageError(`--peer-list must include ${GATE_PEER} with --preset ${CI_PRESET}: the gate divides by it`);
  }
  if (explicit.knobs !== undefined) {
    if (presets.length === 0 || ci) throw new UsageError('--knobs needs a model --preset (the tensor API takes the knobs; the MHA sweep and the gate time the defaults)');
    checkKnobs(explicit.knobs, [...new Set(presets)], explicit.schedules ?? [...DEFAULT_SCHEDULES]);
  }
  if (explicit.json !== undefined && explicit.json === explicit.svg) {
    throw new UsageError(`--json and --svg must name different files, both are '${explicit.json}'`);
  }

  return {
    shapes: ci ? [...CI_SHAPES] : shapes.length > 0 ? dedupeShapes(shapes) : quick ? [HEADLINE] : defaultShapes(),
    schedules: explicit.schedules ?? [...DEFAULT_SCHEDULES],
    // The gate times TMA loads unless --loads says otherwise: cp.async never leads at its shapes
    // (0.52-0.62 of TMA at all 14 on an H200, bench/NOTES.md session 19; every committed gate run and
    // the floor are TMA's), and timing it doubled the run, past a 600 s device call with --peers.
    loads: explicit.loads ?? (ci ? [...CI_LOADS] : [...LOADS]),
    dtypes: ci ? ['f16'] : explicit.dtypes ?? (quick ? ['f16'] : [...DTYPES]),
    causal: ci ? [false, true] : explicit.causal ?? (quick ? [false] : [false, true]),
    warmup: explicit.warmup ?? DEFAULT_WARMUP,
    rounds: explicit.rounds ?? 1,
    // With peers, 500 ms by default: without an idle before each burst, the peers timed right after
    // our rounds lost 6-13% in their later rounds, with it every round agreed (bench/NOTES.md session 10).
    cooldownMs: explicit.cooldownMs ?? (peers || ci ? DEFAULT_PEERS_COOLDOWN_MS : 0),
    iterations: explicit.iterations ?? DEFAULT_ITERATIONS,
    json: explicit.json,
    svg: explicit.svg,
    // The gate divides by cuDNN's number from the same run, so ci always times the peers.
    peers: peers || ci,
    python: explicit.python ?? 'python3',
    ...(explicit.peerList ? { peerList: explicit.peerList } : {}),
    presets: ci ? [] : [...new Set(presets)],
    ...(explicit.knobs !== undefined ? { knobs: explicit.knobs } : {}),
    ci,
    updateFloor,
    floor: explicit.floor,
    help,
  };
}

/**
 * Every config to time. Shapes are the outer loop so the headline numbers come first and a
 * long sweep that is interrupted still has them; schedule x load is innermost so one
 * table row fills in together.
 */
export function buildSweep(opts: Pick<BenchOptions, 'shapes' | 'schedules' | 'loads' | 'dtypes' | 'causal'>): AttentionConfig[] {
  const configs: AttentionConfig[] = [];
  for (const shape of opts.shapes) {
    for (const dtype of opts.dtypes) {
      for (const causal of opts.causal) {
        for (const schedule of opts.schedules) {
          for (const load of opts.loads) {
            configs.push({ ...shape, dtype, causal, schedule, load });
          }
        }
      }
    }
  }
  return configs;
}

/** 'firstDot/tma': the column a config's number goes in. */
export function seriesName(cfg: Pick<AttentionConfig, 'schedule' | 'load'>): string {
  return `${cfg.schedule}/${cfg.load}`;
}

/** 'f16 causal' / 'bf16 non-causal': the table a config's row goes in. */
export function groupName(cfg: Pick<AttentionConfig, 'dtype' | 'causal'>): string {
  return `${cfg.dtype} ${cfg.causal ? 'causal' : 'non-causal'}`;
}

/** 'firstDot/tma f16 8x16x8192x128 causal': one config in a progress or error line. */
export function describeConfig(cfg: AttentionConfig): string {
  return `${seriesName(cfg)} ${cfg.dtype} ${shapeKey(cfg)}${cfg.causal ? ' causal' : ''}`;
}
