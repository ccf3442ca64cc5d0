// Host float -> f16/bf16 conversion (round to nearest, ties to even) against known bit patterns,
// an exhaustive round trip of every 16-bit pattern, and an independent nearest-value oracle.
import { describe, expect, it } from 'vitest';
import { bf16ToFloat, f16ToFloat, floatToBf16Bits, floatToF16Bits, floatsToBits, toFloats } from '../../src/api/half.js';

/** The float32 whose bits are `bits`. */
function f32(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0];
}

const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;

function expectF16(value: number, bits: number) {
  expect(hex(floatToF16Bits(value)), `f16(${value})`).toBe(hex(bits));
}
function expectBf16(value: number, bits: number) {
  expect(hex(floatToBf16Bits(value)), `bf16(${value})`).toBe(hex(bits));
}

/** A quiet NaN of the dtype: exponent all ones, quiet (top mantissa) bit set. */
function isQuietNaN(bits: number, dtype: 'f16' | 'bf16'): boolean {
  return dtype === 'f16' ? (bits & 0x7e00) === 0x7e00 : (bits & 0x7fc0) === 0x7fc0;
}

describe('float -> f16 bits', () => {
  it('signed zeros, ones and exact values', () => {
    expectF16(0, 0x0000);
    expectF16(-0, 0x8000);
    expectF16(1, 0x3c00);
    expectF16(-2, 0xc000);
    expectF16(0.5, 0x3800);
    expectF16(1 + 2 ** -10, 0x3c01);
  });

  it('infinities, overflow and the largest finite value', () => {
    expectF16(Infinity, 0x7c00);
    expectF16(-Infinity, 0xfc00);
    expectF16(65504, 0x7bff);
    expectF16(-65504, 0xfbff);
    expectF16(65512, 0x7bff); // below the midpoint to 2^16
    expectF16(65519.996, 0x7bff);
    expectF16(65520, 0x7c00); // the midpoint: ties to even rounds 0x7bff (odd) up, into inf
    expectF16(-65520, 0xfc00);
    expectF16(1e6, 0x7c00);
    expectF16(f32(0x7f7fffff), 0x7c00); // float32 max
  });

  it('NaN stays a quiet NaN, keeping its sign', () => {
    expectF16(NaN, 0x7e00);
    expect(isQuietNaN(floatToF16Bits(f32(0x7f800001)), 'f16')).toBe(true); // signalling, payload only in low bits
    expect(isQuietNaN(floatToF16Bits(f32(0x7fbfe000)), 'f16')).toBe(true);
    expect(floatToF16Bits(f32(0xffc00000))).toBe(0xfe00);
    expect(f16ToFloat(floatToF16Bits(f32(0x7f800001)))).toBeNaN();
  });

  it('subnormals: smallest, largest, and values rounding into and out of the range', () => {
    expectF16(2 ** -24, 0x0001); // smallest subnormal
    expectF16(-(2 ** -24), 0x8001);
    expectF16(1023 * 2 ** -24, 0x03ff); // largest subnormal
    expectF16(2 ** -14, 0x0400); // smallest normal
    expectF16(1023.5 * 2 ** -24, 0x0400); // tie between 0x03ff (odd) and 0x0400: rounds out into the normals
    expectF16(1023.25 * 2 ** -24, 0x03ff);
    expectF16(2 ** -25, 0x0000); // half the smallest subnormal: tie, to even zero
    expectF16(-(2 ** -25), 0x8000);
    expectF16(f32(0x33000001), 0x0001); // just above 2^-25: rounds into the subnormals
    expectF16(2 ** -26, 0x0000);
    expectF16(1.5 * 2 ** -24, 0x0002); // tie between 1 (odd) and 2
    expectF16(2.5 * 2 ** -24, 0x0002); // tie between 2 (even) and 3
    expectF16(f32(0x00000001), 0x0000); // float32 subnormals are far below
    expectF16(-f32(0x007fffff), 0x8000);
  });

  it('ties to even in both directions', () => {
    expectF16(1 + 2 ** -11, 0x3c00); // 1 (even) and 1+2^-10: down
    expectF16(1 + 3 * 2 ** -11, 0x3c02); // 1+2^-10 (odd) and 1+2^-9: up
    expectF16(1 + 2 ** -11 + 2 ** -20, 0x3c01); // above the tie: up
    expectF16(1 + 2 ** -11 - 2 ** -20, 0x3c00); // below the tie: down
    expectF16(2049, 0x6800); // 2048 (even) and 2050
    expectF16(2051, 0x6802); // 2050 (odd) and 2052
    expectF16(-2051, 0xe802);
  });

  it('rounds a JS number to float32 first', () => {
    const x = 1 + 2 ** -11 + 2 ** -30; // above the f16 tie, but float32 rounds it onto the tie
    expect(Math.fround(x)).toBe(1 + 2 ** -11);
    expectF16(x, 0x3c00);
  });
});

describe('float -> bf16 bits', () => {
  it('signed zeros, ones, infinities and the largest finite value', () => {
    expectBf16(0, 0x0000);
    expectBf16(-0, 0x8000);
    expectBf16(1, 0x3f80);
    expectBf16(-1.5, 0xbfc0);
    expectBf16(Infinity, 0x7f80);
    expectBf16(-Infinity, 0xff80);
    expectBf16(f32(0x7f7f0000), 0x7f7f); // bf16 max, 3.3895e38
    expectBf16(f32(0x7f7f7fff), 0x7f7f);
    expectBf16(f32(0x7f7f8000), 0x7f80); // tie above the max (odd): overflows to inf
    expectBf16(f32(0x7f7fffff), 0x7f80); // float32 max rounds to inf
    expectBf16(-f32(0x7f7fffff), 0xff80);
  });

  it('NaN stays a quiet NaN, keeping its sign, even with a payload only in the low bits', () => {
    expectBf16(NaN, 0x7fc0);
    expect(isQuietNaN(floatToBf16Bits(f32(0x7f800001)), 'bf16')).toBe(true); // truncation would give inf
    expect(floatToBf16Bits(f32(0xff800001)) & 0x8000).toBe(0x8000);
    expect(bf16ToFloat(floatToBf16Bits(f32(0x7f800001)))).toBeNaN();
  });

  it('subnormals', () => {
    expectBf16(f32(0x00010000), 0x0001); // smallest bf16 subnormal, 2^-133
    expectBf16(f32(0x007f0000), 0x007f); // largest bf16 subnormal
    expectBf16(f32(0x007fffff), 0x0080); // largest float32 subnormal rounds out to the smallest normal
    expectBf16(f32(0x00008000), 0x0000); // tie, to even zero
    expectBf16(f32(0x00008001), 0x0001);
    expectBf16(f32(0x00018000), 0x0002); // tie between 1 (odd) and 2
    expectBf16(-f32(0x00010000), 0x8001);
  });

  it('ties to even in both directions', () => {
    expectBf16(f32(0x3f808000), 0x3f80); // 0x3f80 (even) and 0x3f81: down
    expectBf16(f32(0x3f818000), 0x3f82); // 0x3f81 (odd) and 0x3f82: up
    expectBf16(f32(0x3f808001), 0x3f81);
    expectBf16(f32(0x3f807fff), 0x3f80);
    expectBf16(f32(0xbf818000), 0xbf82);
    expectBf16(f32(0x3fff8000), 0x4000); // carry into the exponent
  });
});

describe('every 16-bit pattern', () => {
  // f16ToFloat returns JS's one NaN, so a NaN's sign and payload do not survive the trip: only its NaN-ness.
  it('f16 and bf16: bits -> float -> bits is the identity (NaNs stay quiet NaNs)', () => {
    for (const [dtype, toFloat, toBits] of [
      ['f16', f16ToFloat, floatToF16Bits],
      ['bf16', bf16ToFloat, floatToBf16Bits],
    ] as const) {
      const bad: string[] = [];
      for (let b = 0; b < 0x10000; b++) {
        const back = toBits(toFloat(b));
        const nan = Number.isNaN(toFloat(b));
        const ok = nan ? isQuietNaN(back, dtype) : back === b;
        if (!ok && bad.length < 5) bad.push(`${hex(b)} -> ${hex(back)}`);
      }
      expect(bad, dtype).toEqual([]);
    }
  });
});

/** Independent oracle: the nearest f16 by searching the ordered positive patterns, ties to even. */
function nearestF16(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  let lo = 0;
  let hi = 0x7bff;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (f16ToFloat(mid) <= a) lo = mid;
    else hi = mid - 1;
  }
  if (lo === 0x7bff) return sign | lo;
  const below = a - f16ToFloat(lo);
  const above = f16ToFloat(lo + 1) - a;
  const pick = below < above ? lo : above < below ? lo + 1 : lo & 1 ? lo + 1 : lo;
  return sign | pick;
}

describe('random float32 values against an independent nearest-value oracle', () => {
  it('f16 and bf16, and the array forms agree with the scalar ones', () => {
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const words = new Uint32Array(20000);
    for (let i = 0; i < words.length; i++) {
      // Exponents concentrated around the f16 range (2^-30..2^20) so rounding is exercised.
      const exp = 97 + (next() % 50);
      words[i] = ((next() & 1) << 31) | (exp << 23) | (next() & 0x7fffff);
    }
    const values = new Float32Array(words.buffer);
    const f16 = floatsToBits(values, 'f16');
    const bf16 = floatsToBits(values, 'bf16');
    const bad: string[] = [];
    values.forEach((v, i) => {
      const want = nearestF16(v);
      if (f16[i] !== want || floatToF16Bits(v) !== want) bad.push(`f16 ${v}: ${hex(f16[i])} want ${hex(want)}`);
      // bf16 oracle: of the two neighbours by truncation, the nearer (ties to the even one).
      const down = words[i] >>> 16;
      const gap = [bf16ToFloat(down), bf16ToFloat(down + 1)].map((n) => Math.abs(Math.abs(v) - Math.abs(n)));
      const wantBf = gap[0] < gap[1] ? down : gap[1] < gap[0] ? down + 1 : down & 1 ? down + 1 : down;
      if (bf16[i] !== wantBf || floatToBf16Bits(v) !== wantBf) bad.push(`bf16 ${v}: ${hex(bf16[i])} want ${hex(wantBf)}`);
    });
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('toFloats inverts floatsToBits on representable values', () => {
    const values = Float32Array.from([0, -0, 1, -2.5, 65504, 2 ** -24, Infinity, -Infinity]);
    expect(Array.from(toFloats(floatsToBits(values, 'f16'), 'f16'))).toEqual(Array.from(values));
    const b = Float32Array.from([0, 1, -1.5, 3.3895313892515355e38, -Infinity]);
    expect(Array.from(toFloats(floatsToBits(b, 'bf16'), 'bf16'))).toEqual(Array.from(b));
  });

  it('reads a Float32Array that is a window of a larger buffer', () => {
    const big = Float32Array.from([9, 1, 2, 9]);
    expect(Array.from(floatsToBits(big.subarray(1, 3), 'f16'))).toEqual([0x3c00, 0x4000]);
  });
});
