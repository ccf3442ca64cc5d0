// 16-bit float <-> float conversions on the host, for tensors, references and checks. Float to
// 16-bit rounds to nearest, ties to even, from the float32 value (a JS number is first rounded
// to float32, so converting x and Math.fround(x) agree), exactly as cvt.rn.f16.f32 and
// cvt.rn.bf16.f32 do on the GPU: overflow goes to infinity, tiny values to (signed) subnormals
// or zero, and NaN stays a quiet NaN with its sign.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function bf16ToFloat(bits: number): number {
  u32[0] = bits << 16;
  return f32[0];
}

export function f16ToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** float32 bits -> bf16 bits: the top half, rounded to nearest even on the bottom half. */
function bf16FromF32Bits(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x0040) & 0xffff; // NaN: keep sign and top payload, set quiet
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff; // a carry out of the mantissa bumps the exponent, up to inf
}

/** float32 bits -> f16 bits, round to nearest even. */
function f16FromF32Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return mant ? sign | 0x7e00 | (mant >>> 13) : sign | 0x7c00;
  const e = exp - 127 + 15; // f16 biased exponent
  if (e >= 31) return sign | 0x7c00;
  if (e >= 1) {
    // Normal: drop 13 mantissa bits. A carry runs into the exponent (0x7bff + 1 = 0x7c00, inf).
    let half = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
    return sign | half;
  }
  // Subnormal (or zero) in f16: the value in units of 2^-24 is (1.mant * 2^23) * 2^(exp - 126).
  // Below half the smallest subnormal (shift > 24) it rounds to zero; float32 subnormals too.
  const shift = 126 - exp;
  if (shift > 24) return sign;
  const full = mant | 0x800000;
  let q = full >>> shift;
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && q & 1)) q++; // q may reach 0x400: the smallest normal
  return sign | q;
}

/** The f16 bits nearest to Math.fround(value) (ties to even). */
export function floatToF16Bits(value: number): number {
  f32[0] = value;
  return f16FromF32Bits(u32[0]);
}

/** The bf16 bits nearest to Math.fround(value) (ties to even). */
export function floatToBf16Bits(value: number): number {
  f32[0] = value;
  return bf16FromF32Bits(u32[0]);
}

export type HalfDtype = 'f16' | 'bf16';

const tables: Partial<Record<HalfDtype, Float32Array>> = {};

/**
 * Every 16-bit pattern of `dtype` as a float (65536 entries, 256 KB, built once): hot loops index it
 * instead of converting. A 1k bench check spent 2.9 of its 3.4 s in per-element f16ToFloat calls
 * (bench/NOTES.md session 10).
 */
export function halfTable(dtype: HalfDtype): Float32Array {
  let table = tables[dtype];
  if (!table) {
    table = new Float32Array(65536);
    const conv = dtype === 'f16' ? f16ToFloat : bf16ToFloat;
    for (let b = 0; b < 65536; b++) table[b] = conv(b);
    tables[dtype] = table;
  }
  return table;
}

export function toFloats(bits: Uint16Array, dtype: HalfDtype): Float32Array {
  const out = new Float32Array(bits.length);
  const table = halfTable(dtype);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  return out;
}

/** Float32 values -> 16-bit bit patterns of `dtype`, round to nearest even (toFloats' inverse). */
export function floatsToBits(values: Float32Array, dtype: HalfDtype): Uint16Array {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  const conv = dtype === 'f16' ? f16FromF32Bits : bf16FromF32Bits;
  for (let i = 0; i < words.length; i++) out[i] = conv(words[i]);
  return out;
}

/** A quiet-NaN bit pattern of each dtype, to poison outputs before a launch. */
export const NAN_BITS: Record<HalfDtype, number> = { f16: 0x7e00, bf16: 0x7fc0 };
export const F32_NAN_BITS = 0x7fc00000;
