// A schedule is data: op -> { stage, cluster }. Nothing here checks legality (validate.ts
// does), so an illegal schedule can still be built, stored and reported on.
import { OPS, OP_INDEX, isOpName, type OpName } from './ops.js';
import { ScheduleError } from './errors.js';

export interface Placement {
  stage: number;
  cluster: number;
}

/** The contract type (docs/ARCHITECTURE.md): plain, JSON-serialisable data. */
export interface Schedule {
  name?: string;
  ops: Record<OpName, Placement>;
}

/** What the builders return: the same data plus two non-enumerable conveniences. */
export interface BuiltSchedule extends Schedule {
  describe(): string;
  toJSON(): Schedule;
}

/** Input forms: `[stage, cluster]` pairs (the compact JSON form) or `{ stage, cluster }`. */
export type PlacementInput = readonly [number, number] | Placement;
export type ScheduleTable = Readonly<Record<string, PlacementInput>>;

export function schedule(table: ScheduleTable, name?: string): BuiltSchedule {
  const ops: Record<string, Placement> = {};
  for (const [op, p] of Object.entries(table)) {
    ops[op] = Array.isArray(p) ? { stage: p[0], cluster: p[1] } : { ...(p as Placement) };
  }
  const data: Schedule = name === undefined ? { ops: ops as Schedule['ops'] } : { name, ops: ops as Schedule['ops'] };
  return withMethods(data);
}

function withMethods(data: Schedule): BuiltSchedule {
  const built = data as BuiltSchedule;
  // Non-enumerable so that the object stays plain data for JSON, structuredClone and equality.
  Object.defineProperty(built, 'describe', { value: () => describe(built), enumerable: false });
  Object.defineProperty(built, 'toJSON', { value: () => toJSON(built), enumerable: false });
  return built;
}

/** The object form, `{ name?, ops: { loadK: { stage, cluster }, ... } }`, in canonical op order. */
export function toJSON(s: Schedule): Schedule {
  const ops = Object.fromEntries(
    Object.entries(s.ops).map(([op, p]) => [op, { stage: p.stage, cluster: p.cluster }]),
  ) as Schedule['ops'];
  return s.name === undefined ? { ops } : { name: s.name, ops };
}

/** The compact form, `{ name?, loadK: [stage, cluster], ... }`, as accepted by `--check`. */
export function toCompact(s: Schedule): Record<string, unknown> {
  const out: Record<string, unknown> = s.name === undefined ? {} : { name: s.name };
  for (const [op, p] of Object.entries(s.ops)) out[op] = [p.stage, p.cluster];
  return out;
}

/**
 * Accepts a JSON string or an already-parsed value, in the compact form
 * (`{"loadK":[0,0],...}`, optional "name") or the object form (`{ name?, ops: {...} }`).
 * Throws SyntaxError for text that is not JSON and ScheduleError (rule 'shape') for JSON
 * that is not a schedule. Legality is left to validate().
 */
export function fromJSON(input: string | unknown): BuiltSchedule {
  const value: unknown = typeof input === 'string' ? JSON.parse(input) : input;
  if (typeof input === 'string') rejectDuplicateOps(input);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ScheduleError(undefined, 'shape', `a schedule must be a JSON object, got ${JSON.stringify(value)}`);
  }
  const obj = value as Record<string, unknown>;
  const name = obj.name;
  if (name !== undefined && typeof name !== 'string') {
    throw new ScheduleError(undefined, 'shape', `schedule name must be a string, got ${JSON.stringify(name)}`);
  }
  const raw = 'ops' in obj ? obj.ops : Object.fromEntries(Object.entries(obj).filter(([k]) => k !== 'name'));
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ScheduleError(undefined, 'shape', `schedule "ops" must be an object, got ${JSON.stringify(raw)}`);
  }
  const table: Record<string, PlacementInput> = {};
  for (const [op, p] of Object.entries(raw as Record<string, unknown>)) table[op] = placementOf(op, p);
  return schedule(table, name);
}

function placementOf(op: string, p: unknown): PlacementInput {
  if (Array.isArray(p) && p.length === 2) return [p[0], p[1]] as [number, number];
  if (p !== null && typeof p === 'object' && 'stage' in p && 'cluster' in p) {
    const { stage, cluster } = p as Placement;
    return { stage, cluster };
  }
  throw new ScheduleError(op, 'shape', `${op} must be placed as [stage, cluster] or { "stage": s, "cluster": c }, got ${JSON.stringify(p)}`);
}

// JSON.parse silently keeps the last of two equal keys; a schedule that places an op twice
// is almost certainly a typo, so look for it in the text.
function rejectDuplicateOps(text: string): void {
  for (const op of OPS) {
    const count = text.match(new RegExp(`"${op}"\\s*:`, 'g'))?.length ?? 0;
    if (count > 1) throw new ScheduleError(op, 'shape', `${op} is placed ${count} times: every op must be placed exactly once`);
  }
}

/** Ops in body order: ascending cluster, ties broken by canonical op order. */
export function bodyOrder(s: Schedule): OpName[] {
  const ops = Object.keys(s.ops).filter(isOpName);
  return ops.sort((a, b) => s.ops[a].cluster - s.ops[b].cluster || OP_INDEX[a] - OP_INDEX[b]);
}

/** S: the largest stage, which is also the number of prologue (and epilogue) steps. */
export function lastStage(s: Schedule): number {
  return Math.max(...OPS.map((op) => s.ops[op]?.stage ?? 0));
}

/** The steady-state body for iteration i of the last stage, e.g. `MMA0(i+1) Softmax(i) ...`. */
export function describe(s: Schedule): string {
  const S = lastStage(s);
  return bodyOrder(s)
    .map((op) => {
      const ahead = S - s.ops[op].stage;
      return `${op}(${ahead === 0 ? 'i' : `i+${ahead}`})`;
    })
    .join(' ');
}

/** Same body order and stages, clusters renumbered densely 0..5: one form per equivalence class. */
export function normalise(s: Schedule): BuiltSchedule {
  const table: Record<string, [number, number]> = {};
  bodyOrder(s).forEach((op, position) => { table[op] = [s.ops[op].stage, position]; });
  const ordered: Record<string, [number, number]> = {};
  for (const op of OPS) if (op in table) ordered[op] = table[op];
  return schedule(ordered, s.name);
}

/** A string equal for two schedules exactly when they are equivalent (same stages, same body order). */
export function scheduleKey(s: Schedule): string {
  return bodyOrder(s).map((op) => `${op}@${s.ops[op].stage}`).join(',');
}
