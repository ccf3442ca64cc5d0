// Runs bench/peers.py as a child process and turns its JSON into per-shape peer numbers.
// The bench must run without it: any way the child can fail becomes one reason string.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';
import type { AttentionConfig, Dtype, FlopsShape } from './types.js';

/** Column order of the peers; the names bench/peers.py reports under. */
export const PEERS = ['torch-cudnn', 'torch-flash', 'triton'] as const;
/** Problem mode (bench --preset): torch SDPA forced onto cuDNN, onto flash, and left to pick. */
export const PROBLEM_PEERS = ['torch-cudnn', 'torch-flash', 'torch-default'] as const;

export type PeerShape = Pick<AttentionConfig, 'batch' | 'heads' | 'seqLen' | 'headDim' | 'dtype' | 'causal'>;

/**
 * A model's attention problem, for peers.py's problem mode: K and V with headsKV heads (GQA), the
 * tensors' memory layout, and the mask. peers.py times Nq = Nkv only.
 */
export interface PeerProblem {
  batch: number;
  headsQ: number;
  headsKV: number;
  seqQ: number;
  seqK: number;
  headDim: number;
  dtype: Dtype;
  causal: boolean;
  /** 'bnhd': [B, N, H, D] in memory, which torch gets as [B, H, N, D] views (transposes, no copy). */
  layout: 'bnhd' | 'bhnd';
  softcap: number;
  window: readonly [number, number] | null;
}

export type PeerCell =
  /** backend: the SDPA backend that ran (profiler), for every torch peer of a problem. */
  | {
    status: 'ok'; medianMs: number; minMs: number; maxMs: number; tflops: number; relL2?: number; backend?: string;
    /** Every timed launch (all rounds, round after round), when the child gave them. */
    samplesMs?: number[];
    /** With --rounds > 1: each round's median, in round order. */
    roundMediansMs?: number[];
  }
  /** The backend cannot run this dtype/head dim/shape (or is not installed). */
  | { status: 'unsupported'; reason: string }
  /** Its output disagreed with torch math SDPA in fp32, so it was not timed. */
  | { status: 'fail'; reason: string }
  | { status: 'error'; reason: string };

export interface PeerRow<S = PeerShape> {
  shape: S;
  peers: Record<string, PeerCell>;
}

export type PeersReport<S = PeerShape> =
  | { available: true; versions: Record<string, string | null>; device?: string; rows: PeerRow<S>[] }
  | { available: false; reason: string };

/** What both modes take; the FLOPs formula depends on what the child is asked. */
interface ChildOptions {
  python: string;
  /** Path to peers.py; defaults to bench/peers.py at the package root. */
  script?: string;
  warmup: number;
  iterations: number;
  /** ms the card idles before each peer's timed burst (bench --cooldown; default 0). */
  cooldownMs?: number;
  peers?: readonly string[];
  /** Triton autotuning over a full sweep is slow, but a hung child must not hang the bench. */
  timeoutMs?: number;
  /** Each stderr line of the child (its progress), as it arrives. */
  onStderr?: (line: string) => void;
  /**
   * A long-lived child (peers.py --serve) to ask instead of starting one: the bench's rounds each
   * ask it once, so torch is imported and Triton autotunes once per run. Without it, one child per call.
   */
  session?: PeerSession;
}

export interface PeersRunOptions extends ChildOptions {
  flops: (shape: FlopsShape) => number;
}

export interface ProblemPeersOptions<S extends PeerProblem> extends ChildOptions {
  /** Ours (presetFlops for presets), never the child's. */
  flops: (problem: S) => number;
}

/** dist/bench/peers.js and src/bench/peers.ts both sit two levels below the package root. */
export function defaultPeersScript(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'peers.py');
}

export function peerShapeKey(s: PeerShape): string {
  return `${s.dtype} ${s.causal ? 'causal' : 'non-causal'} ${s.batch}x${s.heads}x${s.seqLen}x${s.headDim}`;
}

/** The distinct (shape, dtype, causal) of a sweep, in sweep order: peers have no schedule or load kind. */
export function peerShapes(configs: readonly AttentionConfig[]): PeerShape[] {
  const seen = new Map<string, PeerShape>();
  for (const c of configs) {
    const shape: PeerShape = { batch: c.batch, heads: c.heads, seqLen: c.seqLen, headDim: c.headDim, dtype: c.dtype, causal: c.causal };
    const key = peerShapeKey(shape);
    if (!seen.has(key)) seen.set(key, shape);
  }
  return [...seen.values()];
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function positive(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0;
}

/** The table cell of a peer: TFLOP/s, or why there is none ('unsup' marks a problem it cannot run). */
export function peerCellText(cell: PeerCell | undefined): string {
  if (cell === undefined) return '-';
  switch (cell.status) {
    case 'ok': return cell.tflops.toFixed(1);
    case 'unsupported': return 'unsup';
    case 'fail': return 'FAIL';
    case 'error': return 'ERR';
  }
}

/**
 * Why torch SDPA cannot run a problem as posed, or undefined; bench/peers.py's sdpa_gap says the same.
 * An attn_mask could express a window, but it would time a dense-mask kernel: a different problem.
 */
export function sdpaGap(p: Pick<PeerProblem, 'softcap' | 'window'>): string | undefined {
  const has = [...(p.softcap > 0 ? [`softcap ${p.softcap}`] : []), ...(p.window ? [`window [${p.window[0]}, ${p.window[1]}]`] : [])];
  return has.length > 0 ? `torch SDPA has no softcap or sliding window (this problem has ${has.join(', ')})` : undefined;
}

function parseCell(raw: unknown, flops: number): PeerCell {
  if (!isRecord(raw)) return { status: 'error', reason: 'peers.py gave no entry' };
  if (typeof raw.error === 'string') {
    const status = raw.kind === 'unsupported' ? 'unsupported' : raw.kind === 'check' ? 'fail' : 'error';
    return { status, reason: raw.error };
  }
  if (!positive(raw.median_ms)) return { status: 'error', reason: `peers.py gave no valid median_ms (${JSON.stringify(raw.median_ms)})` };
  const medianMs = raw.median_ms;
  const samples = Array.isArray(raw.samples_ms) && raw.samples_ms.length > 0 && raw.samples_ms.every(positive) ? (raw.samples_ms as number[]) : undefined;
  return {
    status: 'ok',
    medianMs,
    minMs: positive(raw.min_ms) ? raw.min_ms : medianMs,
    maxMs: positive(raw.max_ms) ? raw.max_ms : medianMs,
    // Our formula, not the child's, so stagewise and peers columns can never disagree on FLOPs.
    tflops: flops / (medianMs * 1e9),
    ...(isRecord(raw.check) && typeof raw.check.rel_l2 === 'number' ? { relL2: raw.check.rel_l2 } : {}),
    ...(typeof raw.backend === 'string' ? { backend: raw.backend } : {}),
    ...(samples ? { samplesMs: samples } : {}),
  };
}

/** peers.py stdout -> report, rows in the order asked. Pure, so the contract is testable without python. */
export function parsePeersOutput<S>(stdout: string, shapes: readonly S[], flops: (s: S) => number): PeersReport<S> {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    const tail = stdout.trim().slice(-200);
    return { available: false, reason: `peers.py printed no JSON${tail ? `: ${tail}` : ''}` };
  }
  if (!isRecord(doc)) return { available: false, reason: 'peers.py printed JSON that is not an object' };
  if (typeof doc.error === 'string') return { available: false, reason: doc.error };
  if (!Array.isArray(doc.results) || doc.results.length !== shapes.length) {
    return { available: false, reason: `peers.py returned ${Array.isArray(doc.results) ? doc.results.length : 'no'} results for ${shapes.length} shapes` };
  }
  const rows = shapes.map((shape, i): PeerRow<S> => {
    const entry = (doc as { results: unknown[] }).results[i];
    const peers: Record<string, PeerCell> = {};
    const raw = isRecord(entry) && isRecord(entry.peers) ? entry.peers : {};
    for (const [name, cell] of Object.entries(raw)) peers[name] = parseCell(cell, flops(shape));
    return { shape, peers };
  });
  const versions: Record<string, string | null> = {};
  if (isRecord(doc.versions)) {
    for (const [k, v] of Object.entries(doc.versions)) versions[k] = typeof v === 'string' ? v : null;
  }
  return { available: true, versions, ...(typeof doc.device === 'string' ? { device: doc.device } : {}), rows };
}

/** The spec peers.py reads on stdin; field names follow the python side. */
export function peersSpec(shapes: readonly PeerShape[], opts: Pick<PeersRunOptions, 'warmup' | 'iterations' | 'peers' | 'cooldownMs'>): string {
  return JSON.stringify({
    configs: shapes.map((s) => ({ batch: s.batch, heads: s.heads, seq_len: s.seqLen, head_dim: s.headDim, dtype: s.dtype, causal: s.causal })),
    warmup: opts.warmup,
    iterations: opts.iterations,
    ...(opts.cooldownMs ? { cooldown_ms: opts.cooldownMs } : {}),
    peers: [...(opts.peers ?? PEERS)],
  });
}

/**
 * The spec of problem mode: `heads` is Hq and the new `problem` field carries the rest. Throws for a
 * problem torch SDPA cannot pose (softcap, window) or peers.py cannot (Nq != Nkv): callers keep those
 * out, so nothing different is ever timed under a problem's name.
 */
export function problemPeersSpec(problems: readonly PeerProblem[], opts: { warmup: number; iterations: number; cooldownMs?: number; peers?: readonly string[] }): string {
  for (const p of problems) {
    const gap = sdpaGap(p);
    if (gap) throw new RangeError(`peers.py cannot time ${p.batch}x${p.seqQ} Hq${p.headsQ}/Hkv${p.headsKV} D${p.headDim}: ${gap}`);
    if (p.seqQ !== p.seqK) throw new RangeError(`peers.py times Nq = Nkv only, got Nq ${p.seqQ}, Nkv ${p.seqK}`);
  }
  return JSON.stringify({
    configs: problems.map((p) => ({
      batch: p.batch, heads: p.headsQ, seq_len: p.seqQ, head_dim: p.headDim, dtype: p.dtype, causal: p.causal,
      problem: { hq: p.headsQ, hkv: p.headsKV, layout: p.layout, softcap: p.softcap, window: p.window },
    })),
    warmup: opts.warmup,
    iterations: opts.iterations,
    ...(opts.cooldownMs ? { cooldown_ms: opts.cooldownMs } : {}),
    peers: [...(opts.peers ?? PROBLEM_PEERS)],
  });
}

export function runPeers(shapes: readonly PeerShape[], opts: PeersRunOptions): Promise<PeersReport> {
  return runChild(shapes, peersSpec(shapes, opts), opts.flops, opts);
}

/** Problem mode: one child for every problem; TFLOP/s from opts.flops. Throws as problemPeersSpec does. */
export function runProblemPeers<S extends PeerProblem>(problems: readonly S[], opts: ProblemPeersOptions<S>): Promise<PeersReport<S>> {
  return runChild(problems, problemPeersSpec(problems, opts), opts.flops, opts);
}

/** Why the child could not start. */
function startFailure(python: string, err: NodeJS.ErrnoException): string {
  return err.code === 'ENOENT' ? `${python} not found` : `could not start ${python}: ${err.message}`;
}

function timeoutReason(ms: number): string {
  return `peers.py took longer than ${Math.round(ms / 1000)} s and was stopped`;
}

/** The child's stderr: each complete line handed on as it arrives, and the tail kept for an exit's reason. */
class StderrLines {
  private partial = '';
  private tail = '';
  constructor(private readonly onLine: () => ((line: string) => void) | undefined) {}
  push(chunk: Buffer): void {
    const text = this.partial + chunk.toString('utf8');
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.onLine()?.(line);
    this.tail = (this.tail + chunk.toString('utf8')).slice(-2000);
  }
  /** At the child's exit: the unfinished last line, then why it exited ("peers.py exited with status 2: ..."). */
  exit(code: number | null, signal: NodeJS.Signals | null): string {
    if (this.partial) this.onLine()?.(this.partial);
    this.partial = '';
    const last = this.tail.trim().split('\n').slice(-3).join(' | ');
    const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
    return `peers.py ${how}${last ? `: ${last}` : ''}`;
  }
}

/**
 * The peers of one run timed in rounds interleaved with ours: one report per round -> one report.
 * A cell is ok only when it is ok in every round (else the first round's other status stands, as
 * mergeRounds does for ours); ok cells pool their samples, so the median is over every round's
 * launches, and keep each round's median. A round with no report at all makes the run's report
 * unavailable, naming the round. Pure; TFLOP/s by `flops`, as parseCell.
 */
export function mergePeerRounds<S>(rounds: readonly PeersReport<S>[], flops: (s: S) => number): PeersReport<S> {
  if (rounds.length === 0) return { available: false, reason: 'peers were not timed in any round' };
  const missing = rounds.findIndex((r) => !r.available);
  if (missing >= 0) {
    const r = rounds[missing] as Extract<PeersReport<S>, { available: false }>;
    return { available: false, reason: rounds.length > 1 ? `round ${missing + 1}/${rounds.length}: ${r.reason}` : r.reason };
  }
  const ok = rounds as ReadonlyArray<Extract<PeersReport<S>, { available: true }>>;
  if (ok.length === 1) return ok[0];
  const first = ok[0];
  const rows = first.rows.map((row, i): PeerRow<S> => {
    const peers: Record<string, PeerCell> = {};
    for (const name of Object.keys(row.peers)) {
      const cells = ok.map((r) => r.rows[i]?.peers[name]);
      // findIndex, not find: a round without this peer's cell is itself the bad entry (undefined).
      const bad = cells.findIndex((c) => c === undefined || c.status !== 'ok');
      if (bad >= 0) {
        peers[name] = cells[bad] ?? { status: 'error', reason: `peers.py gave no entry in round ${bad + 1}/${ok.length}` };
        continue;
      }
      const good = cells as Array<Extract<PeerCell, { status: 'ok' }>>;
      const pooled = good.flatMap((c) => c.samplesMs ?? [c.medianMs]);
      const medianMs = median(pooled);
      const relL2s = good.map((c) => c.relL2).filter((x): x is number => x !== undefined);
      const last = good[good.length - 1];
      peers[name] = {
        status: 'ok',
        medianMs,
        minMs: Math.min(...good.map((c) => c.minMs)),
        maxMs: Math.max(...good.map((c) => c.maxMs)),
        tflops: flops(row.shape) / (medianMs * 1e9),
        ...(relL2s.length ? { relL2: Math.max(...relL2s) } : {}),
        ...(last.backend !== undefined ? { backend: last.backend } : {}),
        samplesMs: pooled,
        roundMediansMs: good.map((c) => c.medianMs),
      };
    }
    return { shape: row.shape, peers };
  });
  return { ...first, rows };
}

/**
 * One peers.py --serve child for a whole run, started at its first request. Requests go one at a
 * time (the bench asks after each round); each line the child prints on stdout answers the request
 * in flight. After a timeout or the child's exit every later request answers with the reason.
 */
export class PeerSession {
  private child: ChildProcessWithoutNullStreams | undefined;
  private dead: string | undefined;
  private buffered = '';
  private pending: ((r: { line: string } | { reason: string }) => void) | undefined;
  private onStderr: ((line: string) => void) | undefined;

  constructor(private readonly python: string, private readonly script: string = defaultPeersScript()) {}

  /** The child's answer to `spec` (one line of JSON), or why there is none. */
  request(spec: string, opts: { timeoutMs?: number; onStderr?: (line: string) => void } = {}): Promise<{ line: string } | { reason: string }> {
    if (this.dead !== undefined) return Promise.resolve({ reason: this.dead });
    if (this.pending) return Promise.resolve({ reason: 'a peers request is already in flight' });
    this.onStderr = opts.onStderr;
    const child = this.child ?? this.start();
    return new Promise((resolve) => {
      const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
        this.stop(timeoutReason(opts.timeoutMs!));
      }, opts.timeoutMs);
      this.pending = (r) => {
        clearTimeout(timer);
        this.pending = undefined;
        resolve(r);
      };
      // The spec is one line: JSON.stringify never emits a raw newline.
      child.stdin.write(`${spec}\n`);
      this.answer();
    });
  }

  /** Ends the child (stdin closed: it exits after the request in flight, if any). */
  close(): void {
    if (this.dead === undefined) this.dead = 'the peers session was closed';
    this.child?.stdin.end();
    this.child = undefined;
  }

  private start(): ChildProcessWithoutNullStreams {
    const child = spawn(this.python, [this.script, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    const stderr = new StderrLines(() => this.onStderr);
    child.on('error', (err: NodeJS.ErrnoException) => this.stop(startFailure(this.python, err)));
    child.stdin.on('error', () => {});
    child.stdout.on('data', (chunk: Buffer) => {
      this.buffered += chunk.toString('utf8');
      this.answer();
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('close', (code, signal) => {
      const why = stderr.exit(code, signal);
      this.answer();
      this.stop(why);
    });
    return child;
  }

  /** Hands the first complete stdout line to the request in flight. */
  private answer(): void {
    const end = this.buffered.indexOf('\n');
    if (end < 0 || !this.pending) return;
    const line = this.buffered.slice(0, end);
    this.buffered = this.buffered.slice(end + 1);
    this.pending({ line });
  }

  private stop(reason: string): void {
    if (this.dead === undefined) this.dead = reason;
    this.child?.kill('SIGKILL');
    this.child = undefined;
    this.pending?.({ reason: this.dead });
  }
}

function runChild<S>(shapes: readonly S[], spec: string, flops: (s: S) => number, opts: ChildOptions): Promise<PeersReport<S>> {
  if (opts.session) {
    return opts.session.request(spec, { ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }), ...(opts.onStderr ? { onStderr: opts.onStderr } : {}) })
      .then((r) => ('reason' in r ? { available: false, reason: r.reason } : parsePeersOutput(r.line, shapes, flops)));
  }
  const script = opts.script ?? defaultPeersScript();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (report: PeersReport<S>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(report);
    };

    const child = spawn(opts.python, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr = new StderrLines(() => opts.onStderr);
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
      child.kill('SIGKILL');
      finish({ available: false, reason: timeoutReason(opts.timeoutMs!) });
    }, opts.timeoutMs);

    child.on('error', (err: NodeJS.ErrnoException) => finish({ available: false, reason: startFailure(opts.python, err) }));
    // The child may exit before reading its spec (e.g. python without the script); its exit says why.
    child.stdin.on('error', () => {});
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('close', (code, signal) => {
      const why = stderr.exit(code, signal);
      const out = Buffer.concat(stdout).toString('utf8');
      if (code !== 0) {
        // peers.py reports "no torch" as JSON with status 0; a non-zero exit is a crash or a missing script.
        const parsed = out.trim() ? parsePeersOutput(out, shapes, flops) : undefined;
        finish(parsed && !parsed.available && !parsed.reason.startsWith('peers.py printed no JSON') ? parsed : { available: false, reason: why });
        return;
      }
      finish(parsePeersOutput(out, shapes, flops));
    });

    child.stdin.end(spec);
  });
}

/**
 * The bench's peers over its rounds: after each of our rounds, `time` asks the run's one peers.py
 * child (a PeerSession, started at the first request); at the end `merged` pools the rounds
 * (mergePeerRounds). Once a round has no report (no python, no torch, a crash), later rounds are
 * not asked again: the run's report is unavailable anyway.
 */
export class PeerRounds<S = PeerShape> {
  private readonly reports: Array<PeersReport<S> | undefined> = [];
  private session: PeerSession | undefined;

  constructor(private readonly python: string, private readonly stderr: (line: string) => void) {}

  async time(round: number, rounds: number, run: (session: PeerSession | undefined, log: (line: string) => void) => Promise<PeersReport<S> | undefined>): Promise<void> {
    if (this.reports.some((r) => r !== undefined && !r.available)) return;
    // STAGEWISE_PEERS_FRESH=1 (a development control, bench/NOTES.md session 10): a fresh child per
    // round instead of the run's one --serve child.
    const session = process.env.STAGEWISE_PEERS_FRESH === '1' ? undefined : (this.session ??= new PeerSession(this.python));
    const tag = rounds > 1 ? `round ${round + 1}/${rounds}: ` : '';
    this.reports.push(await run(session, (line) => this.stderr(`peers: ${tag}${line}`)));
  }

  /** The pooled report; says so on stderr when it is unavailable. */
  merged(flops: (s: S) => number): PeersReport<S> {
    const report = mergePeerRounds(this.reports.map((r) => r ?? { available: false, reason: 'peers.py was not run' }), flops);
    if (!report.available) this.stderr(`peers: unavailable: ${report.reason}`);
    return report;
  }

  /** As merged, but undefined when nothing was sent (every problem was one peers.py cannot pose). */
  mergedOrNone(flops: (s: S) => number): PeersReport<S> | undefined {
    return this.reports.length > 0 && this.reports.every((r) => r === undefined) ? undefined : this.merged(flops);
  }

  close(): void {
    this.session?.close();
  }
}
