// stagewise emit: print the generated CUDA source for a schedule and config, or write it with its
// headers into a directory that nvcc compiles as it is.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chooseFrom, generate, isKnobName, KNOB_NAMES, type KernelConfigInput } from '../codegen/index.js';
import { resolveSchedule } from '../api/attention.js';
import { fromJSON } from '../schedule/index.js';

const HELP = `usage: stagewise emit --schedule NAME|JSON --head-dim 64|128|256 [options]

options:
  --schedule NAME|JSON   auto, baseline, firstDot, secondDot, or a schedule as JSON ({"loadK":[0,0],...});
                         auto: the named schedule measured fastest for the kernel (see README)
  --head-dim D           64, 128 or 256
  --dtype f16|bf16       default f16
  --load tma|cp.async    default tma
  --causal               causal masking
  --block-m 64|128|192   query rows per CTA, 64 per consumer warpgroup (default: 192 at head
                         dim 64 and 128 with --seq-q past the persistent kernel's length where
                         three consumer warpgroups fit, else 128; 192 needs the producer warpgroup)
  --block-n N            KV rows per tile (default: the largest that fits)
  --pingpong, --no-pingpong
                         the consumer warpgroups take turns at their matmuls (default: where it
                         pays, see README)
  --warp-specialized, --no-warp-specialized
                         a producer warpgroup issues the loads (default: TMA, head dim <= 128)
  --p-shared, --no-p-shared
                         P reaches the P V product through shared memory (default: two S tiles)
  --peel-masks, --no-peel-masks
                         split the steady loop so trips that need no mask run without mask code
                         (default off: measured no gain, bench/NOTES.md session 7)
  --scheduler grid|static|dynamic
                         one CTA per tile, or a persistent grid (default: from --seq-q)
  --o-store registers|tma
                         how O leaves: st.global from registers, or shared memory and a TMA
                         store (default: TMA at head dim 128 with a producer warpgroup; with
                         one CTA per tile O's tiles take Q's place)
  --knobs JSON           any kernel knob as JSON over the flags, e.g. '{"lazyRescale":true,"kvShare":2}'
                         (the tensor API's knobs; choose() checks each value)
  --seq-q N              the query length the kernel is for (picks the default scheduler:
                         persistent with a producer warpgroup up to a length per head dim and
                         mask (2048; 5120 causal at hd128; hd256 4096, causal every length);
                         without it, grid; and the default blockM: 192 beyond, where it applies)
  --hang-trap            compile with the bounded mbarrier wait (traps instead of hanging)
  --plan                 print the kernel plan (JSON) instead of the source: every size, offset,
                         ring depth, wait count and variant the source is emitted from
  --headers              also print the generated and static headers
  --out DIR              write DIR/kernel.cu and every header it includes instead of printing;
                         nvcc -arch=sm_90a -cubin DIR/kernel.cu then compiles it as it is

Knobs left out take the library's defaults, so with --seq-q set to the call's query length the
output is the kernel attention() would run (without it: the kernel for an unknown length).`;

type Flags = Record<string, string | true>;

const VALUED = new Set(['--schedule', '--head-dim', '--dtype', '--load', '--block-m', '--block-n', '--out', '--scheduler', '--seq-q', '--o-store', '--knobs']);
const KNOBS = { pingpong: '--pingpong', warpSpecialized: '--warp-specialized', pShared: '--p-shared', peelMasks: '--peel-masks' } as const;
const SWITCHES = new Set([
  '--causal', '--headers', '--plan', '--hang-trap', '--help', '-h',
  ...Object.values(KNOBS).flatMap((f) => [f, f.replace('--', '--no-')]),
]);

function parse(argv: string[]): Flags {
  const flags: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (SWITCHES.has(a)) flags[a] = true;
    else if (VALUED.has(a)) {
      const v = argv[++i];
      if (v === undefined) throw new RangeError(`${a} needs a value`);
      flags[a] = v;
    } else throw new RangeError(`unknown option '${a}'`);
  }
  return flags;
}

function num(flags: Flags, name: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new RangeError(`${name} must be an integer, got '${String(v)}'`);
  return n;
}

/** The kernel as kernel.cu, headers beside it (nvcc finds quoted includes next to the includer). */
function writeKernelDir(dir: string, source: string, headers: Record<string, string>): string[] {
  const nvcc = '// nvcc -arch=sm_90a -cubin -o kernel.cubin kernel.cu   (written by stagewise emit --out; the headers it includes are beside it)';
  const files = [['kernel.cu', `${nvcc}\n${source}`], ...Object.entries(headers)];
  mkdirSync(dir, { recursive: true });
  return files.map(([name, text]) => {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  });
}

export async function run(argv: string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parse(argv);
  } catch (e) {
    console.error(`stagewise emit: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (flags['--help'] || flags['-h']) {
    console.log(HELP);
    return 0;
  }
  try {
    const spec = flags['--schedule'];
    if (typeof spec !== 'string') throw new RangeError('--schedule is required');
    const schedule = spec.trim().startsWith('{') ? fromJSON(JSON.parse(spec)) : resolveSchedule(spec);
    const headDim = num(flags, '--head-dim');
    if (headDim === undefined) throw new RangeError('--head-dim is required');
    const input: KernelConfigInput = {
      headDim: headDim as KernelConfigInput['headDim'],
      dtype: (flags['--dtype'] ?? 'f16') as KernelConfigInput['dtype'],
      load: (flags['--load'] ?? 'tma') as KernelConfigInput['load'],
      causal: flags['--causal'] === true,
      ...(flags['--hang-trap'] === true ? { hangTrap: true } : {}),
    };
    for (const [key, flag] of Object.entries(KNOBS) as Array<[keyof typeof KNOBS, string]>) {
      const on = flags[flag] === true;
      const off = flags[flag.replace('--', '--no-')] === true;
      if (on && off) throw new RangeError(`${flag} and ${flag.replace('--', '--no-')} contradict each other`);
      if (on || off) input[key] = on;
    }
    const blockM = num(flags, '--block-m');
    const blockN = num(flags, '--block-n');
    if (blockM !== undefined) input.blockM = blockM as KernelConfigInput['blockM'];
    if (blockN !== undefined) input.blockN = blockN;
    const seqQ = num(flags, '--seq-q');
    if (seqQ !== undefined) input.seqQ = seqQ;
    if (typeof flags['--scheduler'] === 'string') input.scheduler = flags['--scheduler'] as KernelConfigInput['scheduler'];
    if (typeof flags['--o-store'] === 'string') input.oStore = flags['--o-store'] as KernelConfigInput['oStore'];
    if (typeof flags['--knobs'] === 'string') {
      // Any kernel knob (codegen KNOB_NAMES) as JSON, over the flags above; choose() checks the values.
      let knobs: unknown;
      try {
        knobs = JSON.parse(flags['--knobs']);
      } catch {
        knobs = undefined;
      }
      if (typeof knobs !== 'object' || knobs === null || Array.isArray(knobs)) throw new RangeError(`--knobs expects a JSON object of kernel knobs (e.g. '{"lazyRescale":true}'), got '${flags['--knobs']}'`);
      for (const key of Object.keys(knobs)) {
        if (!isKnobName(key)) throw new RangeError(`--knobs: '${key}' is not a kernel knob (known: ${KNOB_NAMES.join(', ')})`);
      }
      Object.assign(input, knobs);
    }
    if (flags['--plan']) {
      console.log(JSON.stringify(chooseFrom(schedule, input), null, 2));
      return 0;
    }
    const g = generate(schedule, input);
    if (typeof flags['--out'] === 'string') {
      const files = writeKernelDir(flags['--out'], g.source, g.headers);
      console.log(`wrote ${files.join(', ')}`);
      return 0;
    }
    if (flags['--headers']) {
      for (const [name, text] of Object.entries(g.headers)) console.log(`// ===== ${name} =====\n${text}`);
      console.log('// ===== kernel.cu =====');
    }
    process.stdout.write(g.source);
    return 0;
  } catch (e) {
    console.error(`stagewise emit: ${(e as Error).message}`);
    return 1;
  }
}
