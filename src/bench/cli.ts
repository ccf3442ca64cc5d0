// `stagewise bench`: parse flags, run the sweep (and peers), print tables, write JSON/SVG.
// Every effect goes through BenchDeps so the whole command runs in CPU tests with fakes.
import { access, readFile, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { GPU_FIX, NVRTC_FIX, type Readiness } from '../runtime/devices.js';
import { PeerRounds, peerShapes, runPeers, runProblemPeers, type PeerSession, type PeerShape, type PeersReport } from './peers.js';
import { buildFloor, compareWithFloor, defaultFloorPath, formatFloor, formatGate, gatePassed, noFloorLine, parseFloor, runRatios } from './floor.js';
import { benchSvg } from './plot.js';
import { loadDefaultProvider } from './provider.js';
import { buildReport, sourceState, type SourceState } from './report.js';
import { runSweep, type BenchResult, type SweepOptions } from './runner.js';
import { buildSweep, parseBenchArgs, UsageError, USAGE, type BenchOptions } from './sweep.js';
import { formatTables } from './table.js';
import { formatPresetTables } from './preset_table.js';
import { presetPeerReport, runPresets, timePresetProblems, type PresetResult } from './preset_runner.js';
import { buildPresetSweep, presetFlops, type PresetShape } from './presets.js';
import type { BenchProvider } from './types.js';

export interface BenchDeps {
  loadProvider: () => Promise<BenchProvider>;
  runPeers: typeof runPeers;
  /** --preset --peers: the problem mode of the same script. */
  runProblemPeers: typeof runProblemPeers;
  /** Tables and --help: the part a user pipes to a file. */
  stdout: (text: string) => void;
  /** Progress, errors and notes. */
  stderr: (line: string) => void;
  now: () => Date;
  source: () => SourceState;
  writeFile: (file: string, text: string) => Promise<void>;
  /** --preset ci: the floor file; rejects with code 'ENOENT' when there is none. */
  readFile: (file: string) => Promise<string>;
}

/** Triton autotunes every shape; a whole sweep of peers can take a while, but not forever. */
const PEERS_TIMEOUT_MS = 2 * 60 * 60 * 1000;

const defaultDeps: BenchDeps = {
  loadProvider: loadDefaultProvider,
  runPeers,
  runProblemPeers,
  stdout: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  now: () => new Date(),
  source: () => sourceState(),
  writeFile: (file, text) => writeFile(file, text, 'utf8'),
  readFile: (file) => readFile(file, 'utf8'),
};

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Fail on an unwritable output before an hour of sweep, not after. */
async function checkWritable(flag: string, file: string | undefined): Promise<void> {
  if (file === undefined) return;
  const dir = path.dirname(path.resolve(file));
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${flag}: directory '${dir}' does not exist or is not writable`);
  }
}

/** The one line that stops the bench on a machine that cannot run it: what is missing, what to do. */
export function missingLine(missing: Readiness): string | undefined {
  const { addon, gpu, nvrtc } = missing;
  if (addon) return `stagewise bench: ${addon}`;
  if (gpu && nvrtc) return `stagewise bench: no usable GPU (${gpu}) and no NVRTC (${nvrtc}); run on a machine with a Hopper GPU (H100/H200), the NVIDIA driver and NVRTC`;
  if (gpu) return `stagewise bench: no usable GPU (${gpu}); ${GPU_FIX}`;
  if (nvrtc) return `stagewise bench: no NVRTC (${nvrtc}); ${NVRTC_FIX}`;
  return undefined;
}

export async function runBench(argv: readonly string[], overrides: Partial<BenchDeps> = {}): Promise<number> {
  const deps: BenchDeps = { ...defaultDeps, ...overrides };
  let options;
  try {
    options = parseBenchArgs(argv);
    if (!options.help) {
      await checkWritable('--json', options.json);
      await checkWritable('--svg', options.svg);
      if (options.updateFloor) await checkWritable('--update-floor', options.floor ?? defaultFloorPath());
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    deps.stderr(`stagewise bench: ${err.message}`);
    deps.stderr("run 'stagewise bench --help' for the options");
    return 2;
  }
  if (options.help) {
    deps.stdout(USAGE);
    return 0;
  }

  let provider: BenchProvider;
  try {
    provider = await deps.loadProvider();
  } catch (err) {
    deps.stderr(`stagewise bench: cannot load the stagewise api: ${errorMessage(err)}`);
    return 1;
  }
  // Every config would end in the same ERR; say it once, before anything starts.
  const missing = missingLine(provider.missing());
  if (missing) {
    deps.stderr(missing);
    return 2;
  }
  let card: string;
  try {
    card = provider.deviceName();
  } catch (err) {
    card = `unknown card (${errorMessage(err)})`;
  }

  if (options.presets.length > 0) return runPresetBench(argv, options, provider, card, deps);

  const configs = buildSweep(options);
  deps.stderr(`stagewise bench: ${configs.length} configs on ${card} (${timingNote(options)})`);
  const shapes = options.peers ? peerShapes(configs) : [];
  const { results, peerRounds } = await roundsWithPeers<BenchResult, PeerShape>(options, deps, (o) => runSweep(provider, configs, o), (session, log) => {
    log(`timing torch SDPA (cuDNN, flash) and Triton on ${shapes.length} shapes with ${options.python}`);
    return deps.runPeers(shapes, {
      python: options.python,
      warmup: options.warmup,
      iterations: options.iterations,
      cooldownMs: options.cooldownMs,
      ...(options.peerList ? { peers: options.peerList } : {}),
      timeoutMs: PEERS_TIMEOUT_MS,
      onStderr: log,
      flops: (s) => provider.flops(s),
      session,
    });
  });
  const peers: PeersReport | undefined = options.peers ? peerRounds.merged((s) => provider.flops(s)) : undefined;

  deps.stdout(formatTables(results, { card, warmup: options.warmup, iterations: options.iterations, rounds: options.rounds, peers }));

  if (options.json !== undefined) {
    const report = buildReport({ card, date: deps.now(), source: deps.source(), argv, options, results, peers });
    await deps.writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    deps.stderr(`wrote ${options.json}`);
  }
  if (options.svg !== undefined) {
    await deps.writeFile(options.svg, benchSvg(results, peers, card, options));
    deps.stderr(`wrote ${options.svg}`);
  }

  // A failed check is a wrong kernel, worth a red CI; ERR (e.g. a resource limit) is reported but expected.
  const checksFailed = results.some((r) => r.status === 'fail');
  // After --json and --svg, so a failing gate still leaves the run's numbers behind.
  const gateOk = options.ci ? await runGate(argv, options, card, results, peers, checksFailed, deps) : true;
  return checksFailed || !gateOk ? 1 : 0;
}

/** --preset ci: each config's best/torch-cudnn against the floor file, or (--update-floor) into it. */
async function runGate(argv: readonly string[], options: BenchOptions, card: string, results: readonly BenchResult[],
  peers: PeersReport | undefined, checksFailed: boolean, deps: BenchDeps): Promise<boolean> {
  const file = options.floor ?? defaultFloorPath();
  const ratios = runRatios(results, peers);
  if (options.updateFloor) {
    // A wrong kernel's missing schedule would lower the best, and with it the floor.
    if (checksFailed) {
      deps.stderr(`gate: floor not written: ${results.filter((r) => r.status === 'fail').length} configs failed their check`);
      return false;
    }
    const built = buildFloor(ratios, { card, date: deps.now(), source: deps.source(), command: `npm run bench -- ${argv.join(' ')}` });
    if ('missing' in built) {
      for (const m of built.missing) deps.stderr(`gate: ${m.key}: ${m.missing}`);
      deps.stderr(`gate: floor not written: ${built.missing.length} configs have no best/torch-cudnn ratio`);
      return false;
    }
    await deps.writeFile(file, formatFloor(built.floor));
    deps.stderr(`gate: wrote ${file}: ${Object.keys(built.floor.configs).length} configs, best/torch-cudnn on ${card}`);
    return true;
  }
  let text: string;
  try {
    text = await deps.readFile(file);
  } catch (err) {
    deps.stderr((err as NodeJS.ErrnoException).code === 'ENOENT' ? noFloorLine(file) : `gate: FAIL: cannot read the floor ${file}: ${errorMessage(err)}`);
    return false;
  }
  const parsed = parseFloor(text);
  if ('error' in parsed) {
    deps.stderr(`gate: FAIL: floor ${file} is not usable: ${parsed.error}`);
    return false;
  }
  const lines = compareWithFloor(parsed.floor, ratios);
  deps.stdout(formatGate(lines, { floor: parsed.floor, file, card }));
  return gatePassed(lines);
}

/** "warm-up 10, 30 timed launches each, 3 interleaved rounds, 500 ms idle before each burst". */
function timingNote(options: BenchOptions): string {
  return `warm-up ${options.warmup}, ${options.iterations} timed launches each` +
    (options.rounds > 1 ? `, ${options.rounds} interleaved rounds` : '') +
    (options.cooldownMs > 0 ? `, ${options.cooldownMs} ms idle before each burst` : '');
}

/**
 * Our rounds (`run`, the sweep's or the presets'), and with --peers the peers after each round:
 * one peers.py child for the whole run, closed on every path, so each side's median pools rounds
 * taken at the same stretch of the run (bench/NOTES.md session 10).
 */
async function roundsWithPeers<R, S>(options: BenchOptions, deps: BenchDeps, run: (o: SweepOptions) => Promise<R[]>,
  askPeers: (session: PeerSession | undefined, log: (line: string) => void) => Promise<PeersReport<S> | undefined>): Promise<{ results: R[]; peerRounds: PeerRounds<S> }> {
  const peerRounds = new PeerRounds<S>(options.python, deps.stderr);
  try {
    const results = await run({
      warmup: options.warmup, iterations: options.iterations, rounds: options.rounds, cooldownMs: options.cooldownMs, progress: deps.stderr,
      ...(options.peers ? { afterRound: (round: number, rounds: number) => peerRounds.time(round, rounds, askPeers) } : {}),
    });
    return { results, peerRounds };
  } finally {
    peerRounds.close();
  }
}

/** --preset: the model shapes through the tensor API; same readiness gate, exit codes and --json as the sweep. */
async function runPresetBench(argv: readonly string[], options: BenchOptions, provider: BenchProvider, card: string, deps: BenchDeps): Promise<number> {
  const configs = buildPresetSweep(options.presets, options.schedules, options.knobs);
  deps.stderr(`stagewise bench: presets ${options.presets.join(', ')}: ${configs.length} configs on ${card} (${timingNote(options)})`);
  // Torch SDPA on the same problems (a preset it cannot pose, softcap or window, says why instead).
  const { results, peerRounds } = await roundsWithPeers<PresetResult, PresetShape>(options, deps, (o) => runPresets(provider, configs, o), (session, log) =>
    timePresetProblems(configs, {
      run: deps.runProblemPeers, python: options.python, warmup: options.warmup, iterations: options.iterations, cooldownMs: options.cooldownMs,
      ...(options.peerList ? { peers: options.peerList } : {}),
      timeoutMs: PEERS_TIMEOUT_MS, log, session,
    }));
  const peers = options.peers ? presetPeerReport(configs, results, peerRounds.mergedOrNone(presetFlops), deps.stderr) : undefined;
  deps.stdout(formatPresetTables(results, { card, warmup: options.warmup, iterations: options.iterations, rounds: options.rounds, peers }));
  if (options.json !== undefined) {
    const report = buildReport({ card, date: deps.now(), source: deps.source(), argv, options, results: [], presets: { results, peers: peers ?? null } });
    await deps.writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    deps.stderr(`wrote ${options.json}`);
  }
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}
