// `stagewise schedules`: list the named schedules, check a custom one, count the legal ones,
// draw one as an SVG timeline. CPU only: never touches the native addon. Ring depths and shared
// memory are the default kernel's, read from its plan (choose()), never from a second formula.
import { writeFile } from 'node:fs/promises';
import { choose, type KernelPlan } from '../codegen/index.js';
import {
  NAMED, ScheduleError, describe, enumerate, fromJSON, lastStage, loopNest, resources,
  scheduleSvg, toCompact, validate, type Schedule,
} from '../schedule/index.js';

const HELP = `usage: stagewise schedules [options]

  (no options)               list the named schedules: body, S, buffers, register tiles
  --check '<json>'           validate a schedule, e.g. '{"loadK":[0,4],"loadV":[1,5],"MMA0":[2,0],
                             "Softmax":[3,1],"MUL":[3,2],"MMA1":[3,3]}' (op: [stage, cluster]);
                             exit 0 legal, 1 illegal (the message names the op and rule), 2 not JSON
  --all [--max-stages N]     count the legal schedules with stages 0..N-1 (default N = 4, at most 6)
    --verbose, -v            ... and list them
  --svg FILE                 write an SVG timeline of the expanded loop to FILE
    --schedule NAME|JSON     which schedule (default firstDot; names: ${Object.keys(NAMED).join(', ')})
    --trips T                trip count, the number of KV tiles (default max(6, 2S + 2))
  --help, -h                 this text

A schedule gives every op a stage and a cluster. With S the largest stage, an op in stage s
runs iteration i + (S - s) in the steady-state body; ascending cluster orders the body.`;

const VALUE_FLAGS = new Set(['--check', '--max-stages', '--svg', '--schedule', '--trips']);
const BOOLEAN_FLAGS = new Set(['--all', '--verbose', '-v', '--help', '-h']);

class UsageError extends Error {}

export async function run(argv: string[]): Promise<number> {
  try {
    const flags = parse(argv);
    if (flags.has('--help') || flags.has('-h')) return print(HELP);
    const modes = ['--check', '--all', '--svg'].filter((m) => flags.has(m));
    if (modes.length > 1) throw new UsageError(`${modes.join(' and ')} cannot be combined: pick one`);
    requireMode(flags, '--max-stages', '--all');
    requireMode(flags, '--schedule', '--svg');
    requireMode(flags, '--trips', '--svg');
    if (flags.has('--check')) return check(flags.get('--check')!);
    if (flags.has('--all')) return all(flags);
    if (flags.has('--svg')) return await svg(flags);
    return list();
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`stagewise schedules: ${err.message}\nrun 'stagewise schedules --help' for the options`);
      return 2;
    }
    throw err;
  }
}

function parse(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=')
      ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)]
      : [argv[i], undefined];
    if (VALUE_FLAGS.has(flag)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`${flag} needs a value`);
      flags.set(flag, value);
    } else if (BOOLEAN_FLAGS.has(flag) && inline === undefined) {
      flags.set(flag, '');
    } else {
      throw new UsageError(BOOLEAN_FLAGS.has(flag) ? `${flag} takes no value` : `unknown option '${argv[i]}'`);
    }
  }
  return flags;
}

function requireMode(flags: Map<string, string>, flag: string, mode: string): void {
  if (flags.has(flag) && !flags.has(mode)) throw new UsageError(`${flag} only applies with ${mode}`);
}

function integerFlag(flags: Map<string, string>, flag: string, fallback: number, min: number, max: number): number {
  const text = flags.get(flag);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new UsageError(`${flag} must be an integer in ${min}..${max}, got '${text}'`);
  return n;
}

function print(text: string): number {
  console.log(text);
  return 0;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

function list(): number {
  const rows = [['name', 'S', 'K bufs', 'V bufs', 'S tiles', 'P tiles', 'steady-state body']];
  for (const [name, s] of Object.entries(NAMED)) {
    const p = choose(s, { headDim: 128 }).pipeline;
    rows.push([name, String(p.numStages), String(p.kBuffers), String(p.vBuffers), String(p.sTiles), String(p.pTiles), describe(s)]);
  }
  return print(
    `${table(rows)}\n\nS = the last stage (prologue and epilogue are S steps); K/V bufs = the shared-memory ring slots of ` +
      `the default head-dim-128 kernel (its plan; other head dims and knobs may differ: see --check)`,
  );
}

function check(text: string): number {
  let s: Schedule;
  try {
    s = fromJSON(text);
  } catch (err) {
    if (err instanceof SyntaxError) {
      console.error(`stagewise schedules: --check needs a schedule as JSON, e.g. '{"loadK":[0,0],...}': ${err.message}`);
      return 2;
    }
    if (err instanceof ScheduleError) return illegal(err);
    throw err;
  }
  try {
    validate(s);
  } catch (err) {
    if (err instanceof ScheduleError) return illegal(err);
    throw err;
  }
  const r = resources(s);
  const nest = loopNest(s);
  const lines = [
    `legal: ${describe(s)}`,
    `S = ${r.numStages}; the schedule alone needs K ${r.kBuffers} and V ${r.vBuffers} ring slots (the kernel plans below size their own); S tiles ${r.sTiles}, P tiles ${r.pTiles}`,
    `body: ${nest.body.map((b) => `${b.op}[stage ${b.stage}]`).join(' ')}`,
    `default kernel per head dim (f16; from its plan):`,
    ...([64, 128, 256] as const).map((headDim) => `  headDim ${headDim}: ${planSummary(s, headDim)}`),
  ];
  return print(lines.join('\n'));
}

/** The default kernel's tile, rings and shared memory, or why no kernel can be made. */
function planSummary(s: Schedule, headDim: 64 | 128 | 256): string {
  let plan: KernelPlan;
  try {
    plan = choose(s, { headDim });
  } catch (err) {
    if (err instanceof Error) return `no kernel: ${err.message}`;
    throw err;
  }
  const p = plan.pipeline;
  return (
    `${plan.blockM}x${plan.blockN} tiles, rings K ${p.kBuffers} / V ${p.vBuffers}, loads ${plan.loads}, P in ${plan.pOperand}, ` +
    `turn ${plan.turn}: ${plan.smem.launchBytes} B of shared memory`
  );
}

function illegal(err: ScheduleError): number {
  console.error(`illegal schedule: ${err.message} [op ${err.op ?? '-'}, rule ${err.rule}]`);
  return 1;
}

function all(flags: Map<string, string>): number {
  const maxStages = integerFlag(flags, '--max-stages', 4, 1, 6);
  const verbose = flags.has('--verbose') || flags.has('-v');
  let count = 0;
  for (const s of enumerate({ maxStages })) {
    count++;
    if (verbose) console.log(`${describe(s).padEnd(64)} ${JSON.stringify(toCompact(s))}`);
  }
  return print(`${count} legal schedules with stages 0..${maxStages - 1} (one per body order and stage assignment)`);
}

async function svg(flags: Map<string, string>): Promise<number> {
  const file = flags.get('--svg')!;
  const which = flags.get('--schedule') ?? 'firstDot';
  let s: Schedule;
  if (which.trim().startsWith('{')) {
    try {
      s = fromJSON(which);
    } catch (err) {
      if (err instanceof SyntaxError) throw new UsageError(`--schedule: not valid JSON: ${err.message}`);
      throw err;
    }
  } else if (Object.hasOwn(NAMED, which)) {
    s = NAMED[which as keyof typeof NAMED];
  } else {
    throw new UsageError(`--schedule: unknown schedule '${which}' (named: ${Object.keys(NAMED).join(', ')}; or pass JSON)`);
  }
  try {
    validate(s);
  } catch (err) {
    if (err instanceof ScheduleError) return illegal(err);
    throw err;
  }
  const S = lastStage(s);
  const trips = integerFlag(flags, '--trips', Math.max(6, 2 * S + 2), 1, 64);
  let rings: { kBuffers: number; vBuffers: number; note: string } | undefined;
  try {
    const p = choose(s, { headDim: 128 }).pipeline;
    rings = { kBuffers: p.kBuffers, vBuffers: p.vBuffers, note: 'default hd128 kernel' };
  } catch {
    rings = undefined; // no kernel for this schedule: the picture shows the schedule alone
  }
  await writeFile(file, scheduleSvg(s, trips, rings ? { rings } : {}));
  return print(`wrote ${file}: ${s.name ?? 'custom schedule'}, T = ${trips}, S = ${S}`);
}
