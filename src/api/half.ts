// 16-bit float <-> float conversions on the host, for references and checks.

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

export type HalfDtype = 'f16' | 'bf16';

export function toFloats(bits: Uint16Array, dtype: HalfDtype): Float32Array {
  const out = new Float32Array(bits.length);
  const conv = dtype === 'f16' ? f16ToFloat : bf16ToFloat;
  for (let i = 0; i < bits.length; i++) out[i] = conv(bits[i]);
  return out;
}

/** A quiet-NaN bit pattern of each dtype, to poison outputs before a launch. */
export const NAN_BITS: Record<HalfDtype, number> = { f16: 0x7e00, bf16: 0x7fc0 };
export const F32_NAN_BITS = 0x7fc00000;
