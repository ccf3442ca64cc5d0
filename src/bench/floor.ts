// The performance gate of `stagewise bench --preset ci`: each config's best/torch-cudnn ratio
// against a committed floor (bench/floor.json). Pure: the CLI reads and writes the file; this
// module turns its text and a run into ratios, verdicts, lines, and the floor to write.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerShapeKey, peerShapes, type PeersReport } from './peers.js';
import type { BenchResult } from './runner.js';
import type { SourceState } from './report.js';

/** `--preset ci`: the name the gate runs under; its shapes are CI_SHAPES in sweep.ts. */
export const CI_PRESET = 'ci';
export const FLOOR_VERSION = 1;
/**
 * A config fails when its ratio drops below floor x (1 - FLOOR_TOLERANCE). Both numbers of a
 * ratio come from the same run on the same card, so most clock and temperature drift cancels;
 * what is left (one H100 moved a kernel by up to 4% between passes, README `--rounds`) fits
 * inside 5%, and a lost schedule or a slower main loop does not.
 */
export const FLOOR_TOLERANCE = 0.05;
/** The peer a ratio divides by: torch SDPA's cuDNN backend, the fastest peer on Hopper. */
export const GATE_PEER = 'torch-cudnn';
/** The command that makes the floor: the gate's "no floor" line and the README name it. */
export const UPDATE_FLOOR_COMMAND = `npm run bench -- --preset ${CI_PRESET} --peers --rounds 3 --update-floor`;

/** dist/bench/floor.js and src/bench/floor.ts both sit two levels below the package root. */
export function defaultFloorPath(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'floor.json');
}

/** bench/floor.json: where the floor came from, and one ratio per config key (peerShapeKey). */
export interface FloorFile {
  version: typeof FLOOR_VERSION;
  card: string;
  date: string;
  commit: string | null;
  /** Tracked files differed from `commit` when the floor was made. */
  dirty: boolean | null;
  command: string;
  configs: Record<string, { ratio: number }>;
}

/** One config of a run: its ratio, or why it has none. A missing number is never a pass. */
export type RunRatio =
  | { key: string; ratio: number; best: number; peer: number }
  | { key: string; missing: string };

/** Per (shape, dtype, causal), in sweep order: stagewise's best series over GATE_PEER's number. */
export function runRatios(results: readonly BenchResult[], peers: PeersReport | undefined): RunRatio[] {
  const peerRows = new Map(peers?.available ? peers.rows.map((row) => [peerShapeKey(row.shape), row.peers]) : []);
  return peerShapes(results.map((r) => r.config)).map((shape): RunRatio => {
    const key = peerShapeKey(shape);
    const mine = results.filter((r) => peerShapeKey(r.config) === key);
    let best: number | undefined;
    for (const r of mine) if (r.status === 'ok' && (best === undefined || r.tflops > best)) best = r.tflops;

    const missing: string[] = [];
    if (best === undefined) {
      const failed = mine.filter((r) => r.status === 'fail').length;
      missing.push(`no stagewise number: none of ${mine.length} series timed (${failed} FAIL, ${mine.length - failed} ERR)`);
    }
    let peer: number | undefined;
    if (peers === undefined) missing.push(`no ${GATE_PEER} number: peers were not run`);
    else if (!peers.available) missing.push(`no ${GATE_PEER} number: peers unavailable: ${peers.reason}`);
    else {
      const cell = peerRows.get(key)?.[GATE_PEER];
      if (cell === undefined) missing.push(`no ${GATE_PEER} number: peers.py gave none for this config`);
      else if (cell.status !== 'ok') missing.push(`no ${GATE_PEER} number: ${cell.status}: ${cell.reason}`);
      else peer = cell.tflops;
    }
    if (best === undefined || peer === undefined) return { key, missing: missing.join('; ') };
    return { key, ratio: best / peer, best, peer };
  });
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The floor file's text, checked field by field; the error names the field and what it held. */
export function parseFloor(text: string): { floor: FloorFile } | { error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { error: `not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (!isRecord(doc)) return { error: 'not a JSON object' };
  if (doc.version !== FLOOR_VERSION) return { error: `version ${JSON.stringify(doc.version)}, expected ${FLOOR_VERSION}` };
  for (const field of ['card', 'date', 'command'] as const) {
    if (typeof doc[field] !== 'string') return { error: `'${field}' is ${JSON.stringify(doc[field])}, expected a string` };
  }
  if (doc.commit !== null && typeof doc.commit !== 'string') return { error: `'commit' is ${JSON.stringify(doc.commit)}, expected a string or null` };
  if (!isRecord(doc.configs)) return { error: `'configs' is ${JSON.stringify(doc.configs)}, expected an object` };
  const configs: Record<string, { ratio: number }> = {};
  for (const [key, entry] of Object.entries(doc.configs)) {
    const ratio = isRecord(entry) ? entry.ratio : undefined;
    if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio <= 0) {
      return { error: `config '${key}' has ratio ${JSON.stringify(ratio)}, expected a positive number` };
    }
    configs[key] = { ratio };
  }
  // An empty floor would gate nothing and pass every run.
  if (Object.keys(configs).length === 0) return { error: "'configs' is empty" };
  return {
    floor: {
      version: FLOOR_VERSION, card: doc.card as string, date: doc.date as string, commit: doc.commit as string | null,
      dirty: typeof doc.dirty === 'boolean' ? doc.dirty : null, command: doc.command as string, configs,
    },
  };
}

export interface GateLine {
  key: string;
  floor?: number;
  now?: number;
  /** NEW: in the run, not in the floor; reported, not gated. */
  verdict: 'PASS' | 'FAIL' | 'NEW';
  reason?: string;
}

/** The run's configs in run order, then the floor's configs this run lacks (each a FAIL). */
export function compareWithFloor(floor: FloorFile, run: readonly RunRatio[]): GateLine[] {
  const lines = run.map((r): GateLine => {
    const entry = floor.configs[r.key];
    if ('missing' in r) return { key: r.key, floor: entry?.ratio, verdict: 'FAIL', reason: r.missing };
    if (entry === undefined) return { key: r.key, now: r.ratio, verdict: 'NEW', reason: 'not in the floor' };
    return r.ratio < entry.ratio * (1 - FLOOR_TOLERANCE)
      ? { key: r.key, floor: entry.ratio, now: r.ratio, verdict: 'FAIL', reason: `more than ${FLOOR_TOLERANCE * 100}% below the floor` }
      : { key: r.key, floor: entry.ratio, now: r.ratio, verdict: 'PASS' };
  });
  const inRun = new Set(run.map((r) => r.key));
  for (const [key, { ratio }] of Object.entries(floor.configs)) {
    if (!inRun.has(key)) lines.push({ key, floor: ratio, verdict: 'FAIL', reason: 'in the floor but not in this run' });
  }
  return lines;
}

export function gatePassed(lines: readonly GateLine[]): boolean {
  return lines.every((l) => l.verdict !== 'FAIL');
}

function ratioText(x: number | undefined): string {
  return x === undefined ? '-' : `${x.toFixed(3)}x`;
}

function changeText(line: GateLine): string {
  if (line.floor === undefined || line.now === undefined) return '-';
  const pct = (line.now / line.floor - 1) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

/** One line per config (config, floor, now, change, verdict and why), then one summary line. */
export function formatGate(lines: readonly GateLine[], ctx: { floor: FloorFile; file: string; card: string }): string {
  const { floor } = ctx;
  const out = [
    `gate: best/${GATE_PEER} against ${ctx.file} (${floor.card}, ${floor.date}, commit ${floor.commit?.slice(0, 12) ?? 'unknown'}${floor.dirty ? ' dirty' : ''}): a config fails below ${1 - FLOOR_TOLERANCE} x its floor`,
  ];
  if (floor.card !== ctx.card) out.push(`gate: note: the floor was made on ${floor.card}, this run is on ${ctx.card}; ratios may not carry over`);
  const header = ['config', 'floor', 'now', 'change', 'verdict'];
  const rows = lines.map((l) => [l.key, ratioText(l.floor), ratioText(l.now), changeText(l), l.verdict]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const render = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  out.push(render(header));
  lines.forEach((l, i) => out.push(`${render(rows[i])}${l.reason ? `  ${l.reason}` : ''}`));

  const failed = lines.filter((l) => l.verdict === 'FAIL');
  const added = lines.filter((l) => l.verdict === 'NEW').length;
  const newNote = added > 0 ? `; ${added} not in the floor (not gated)` : '';
  out.push(failed.length === 0
    ? `gate: PASS: ${lines.length - added} configs within ${FLOOR_TOLERANCE * 100}% of the floor${newNote}`
    : `gate: FAIL: ${failed.length} of ${lines.length} configs: ${failed.map((l) => l.key).join(', ')}${newNote}`);
  return out.join('\n');
}

/** The line the gate prints, and fails on, when there is no floor file to compare with. */
export function noFloorLine(file: string): string {
  return `gate: FAIL: no floor (${file}): run \`${UPDATE_FLOOR_COMMAND}\` on the runner`;
}

/**
 * The floor from a run, or every config that has no ratio (then nothing may be written).
 *
 * This writes bench/floor.json. To update it, on the self-hosted H100 runner (the card the gate
 * runs on), from a clean checkout of the commit the floor should describe:
 *   npm run bench -- --preset ci --peers --rounds 3 --update-floor
 * then commit bench/floor.json. It records the card, date, commit and command beside each
 * config's best/torch-cudnn ratio, so a reader can tell where every number came from.
 */
export function buildFloor(
  run: readonly RunRatio[],
  meta: { card: string; date: Date; source: SourceState; command: string },
): { floor: FloorFile } | { missing: Array<{ key: string; missing: string }> } {
  const missing = run.filter((r): r is { key: string; missing: string } => 'missing' in r);
  if (missing.length > 0 || run.length === 0) return { missing };
  const configs: Record<string, { ratio: number }> = {};
  // Four decimals: far below the tolerance, and a diff of the file stays readable.
  for (const r of run) if ('ratio' in r) configs[r.key] = { ratio: Math.round(r.ratio * 1e4) / 1e4 };
  return {
    floor: {
      version: FLOOR_VERSION, card: meta.card, date: meta.date.toISOString(), commit: meta.source.commit,
      dirty: meta.source.dirty, command: meta.command, configs,
    },
  };
}

export function formatFloor(floor: FloorFile): string {
  return `${JSON.stringify(floor, null, 2)}\n`;
}
