// Argument checks shared by the runtime wrappers: each throws a TypeError (wrong kind of value)
// or RangeError (right kind, bad value) naming the argument and the rule, before any native call.

export function requireInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value)) throw new RangeError(`${name} must be an integer, got ${value}`);
  if (value < min || value > max) throw new RangeError(`${name} must be in ${min}..${max}, got ${value}`);
  return value;
}

export function requireNumber(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${typeof value}`);
  return value;
}

export function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, got ${typeof value}`);
  return value;
}

export function requireArray(value: unknown, name: string): unknown[] {
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array`);
  return value;
}

export function requireOneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
    throw new TypeError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** A CUDA device index (whether the device exists is the driver's answer, at first use). */
export function requireDevice(value: unknown, name: string): number {
  return requireInteger(value, name, 0, MAX_DEVICE);
}

export const MAX_DEVICE = 1023;

/** An options argument: undefined (all defaults) or a plain object. */
export function requireOptions<T extends object>(value: T | undefined, name: string): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${name} must be an object`);
  return value;
}

/** A byte view over any ArrayBufferView (typed array, DataView, Buffer), sharing its memory. */
export function bytesOf(view: unknown, name: string): Uint8Array {
  if (!ArrayBuffer.isView(view)) throw new TypeError(`${name} must be a typed array, DataView or Buffer`);
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

export const MAX_SAFE = Number.MAX_SAFE_INTEGER;
