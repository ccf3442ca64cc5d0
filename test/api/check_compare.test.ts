// The bench check's comparison (attention.ts compareOutputs), on the CPU: the table it converts
// through, the numbers it reports, the rows it names, and NaN wherever it hides. Session 10 moved
// it off per-element conversion calls; the straightforward version below is what it must equal.
import { describe, expect, it } from 'vitest';
import { compareOutputs, compareRows, countPoison, gatherRows, type CompareInput } from '../../src/api/attention.js';
import { bf16ToFloat, f16ToFloat, floatToBf16Bits, floatToF16Bits, halfTable, toFloats, type HalfDtype } from '../../src/api/half.js';

describe('halfTable', () => {
  it('holds every 16-bit pattern as its converter gives it (NaN as NaN), for both dtypes', () => {
    for (const [dtype, conv] of [['f16', f16ToFloat], ['bf16', bf16ToFloat]] as const) {
      const t = halfTable(dtype);
      expect(t.length).toBe(65536);
      let wrong = 0;
      for (let b = 0; b < 65536; b++) if (!Object.is(t[b], Math.fround(conv(b)))) wrong++;
      expect(wrong, dtype).toBe(0);
      expect(halfTable(dtype)).toBe(t); // built once
    }
  });
});

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** A problem where the kernel's output equals the reference rounded to 16 bits. */
function problem(dtype: HalfDtype, heads = 3, n = 40, d = 16, seed = 7): CompareInput {
  const random = seeded(seed);
  const rows = [0, 1, 5, 17, 39];
  const full = new Float32Array(heads * n * d).map(() => random() * 2 - 1);
  const toBits = dtype === 'f16' ? floatToF16Bits : floatToBf16Bits;
  const oBits = Uint16Array.from(full, (x) => toBits(x));
  const lseAll = new Float32Array(heads * n).map(() => random() * 4);
  const refO = new Float32Array(heads * rows.length * d);
  const refLse = new Float32Array(heads * rows.length);
  for (let h = 0; h < heads; h++) rows.forEach((r, i) => {
    for (let x = 0; x < d; x++) refO[(h * rows.length + i) * d + x] = full[(h * n + r) * d + x];
    refLse[h * rows.length + i] = lseAll[h * n + r];
  });
  return { oBits, lseAll, refO, refLse, rows, heads, n, d, dtype };
}

/** The comparison as it read before session 10: per row, toFloats, Math.max. */
function straightforward(c: CompareInput) {
  const infBits = c.dtype === 'f16' ? 0x7c00 : 0x7f80;
  let unwritten = 0;
  c.oBits.forEach((b) => { if ((b & 0x7fff) > infBits) unwritten++; });
  c.lseAll.forEach((x) => { if (Number.isNaN(x)) unwritten++; });
  let errSq = 0, refSq = 0, maxAbs = 0, lseMaxErr = 0;
  const bad: Array<{ head: number; row: number; err: number }> = [];
  for (let h = 0; h < c.heads; h++) c.rows.forEach((r, i) => {
    const got = toFloats(c.oBits.subarray((h * c.n + r) * c.d, (h * c.n + r + 1) * c.d), c.dtype);
    let rowErr = 0;
    for (let x = 0; x < c.d; x++) {
      const want = c.refO[(h * c.rows.length + i) * c.d + x];
      const diff = got[x] - want;
      errSq += diff * diff;
      refSq += want * want;
      rowErr = Math.max(rowErr, Math.abs(diff));
    }
    const lseErr = Math.abs(c.lseAll[h * c.n + r] - c.refLse[h * c.rows.length + i]);
    lseMaxErr = Math.max(lseMaxErr, lseErr);
    maxAbs = Math.max(maxAbs, rowErr);
    const score = Number.isNaN(rowErr) || Number.isNaN(lseErr) ? Infinity : Math.max(rowErr, lseErr);
    if (score > 0.05) bad.push({ head: h, row: r, err: score });
  });
  return { unwritten, relL2: Math.sqrt(errSq / refSq), maxAbs, lseMaxErr, bad };
}

describe('compareOutputs (the bench check\'s comparison)', () => {
  for (const dtype of ['f16', 'bf16'] as const) {
    it(`${dtype}: a correct output is within rounding, names no row, and equals the straightforward version`, () => {
      const c = problem(dtype);
      const r = compareOutputs(c);
      expect(r.unwritten).toBe(0);
      expect(r.relL2).toBeGreaterThan(0); // rounded to 16 bits: not exact, so it really compared
      expect(r.relL2).toBeLessThan(dtype === 'f16' ? 1e-3 : 1e-2);
      expect(r.bad).toEqual([]);
      expect(r).toEqual(straightforward(c));
    });
  }

  it('names the wrong row of the wrong head with its error (negative control)', () => {
    const c = problem('f16');
    const at = (1 * c.n + 17) * c.d + 3; // head 1, row 17 (checked), element 3
    c.oBits[at] = floatToF16Bits(f16ToFloat(c.oBits[at]) + 0.5);
    const r = compareOutputs(c);
    expect(r.bad).toEqual([{ head: 1, row: 17, err: expect.closeTo(0.5, 2) }]);
    expect(r.maxAbs).toBeCloseTo(0.5, 2);
    expect(r).toEqual(straightforward(c));
  });

  it('a NaN in a checked row makes relL2 NaN and scores the row Infinity, even before larger errors', () => {
    const c = problem('f16');
    c.oBits[(2 * c.n + 5) * c.d + 0] = 0x7e00; // NaN first in the row
    c.oBits[(2 * c.n + 5) * c.d + 1] = floatToF16Bits(9); // then a large finite error: must not replace the NaN
    const r = compareOutputs(c);
    expect(r.unwritten).toBe(1);
    expect(Number.isNaN(r.relL2)).toBe(true);
    expect(Number.isNaN(r.maxAbs)).toBe(true);
    expect(r.bad).toEqual([{ head: 2, row: 5, err: Infinity }]);
    expect(r).toEqual(straightforward(c));
  });

  it('poison left in a row nobody compares is still counted; a NaN LSE too', () => {
    const c = problem('bf16');
    c.oBits[(0 * c.n + 30) * c.d + 7] = 0x7fc0; // row 30 is not checked
    c.lseAll[1 * c.n + 2] = NaN; // nor is row 2
    const r = compareOutputs(c);
    expect(r.unwritten).toBe(2);
    expect(Number.isFinite(r.relL2)).toBe(true);
    expect(r.bad).toEqual([]);
    expect(r).toEqual(straightforward(c));
  });
});

describe('the check\'s split (session 20): count and gather on the GPU, compareRows on the host', () => {
  it('gatherRows lays the checked rows out as the reference does, and compareRows on them equals compareOutputs', () => {
    const c = problem('bf16', 4, 33, 8, 11);
    const at = (3 * c.n + 27) * c.d; // head 3, row 27 (not checked): must not appear
    c.oBits[at] = 0x1234;
    const g = gatherRows(c.oBits, c.lseAll, c.rows.filter((r) => r < c.n), c.heads, c.n, c.d);
    const rows = c.rows.filter((r) => r < c.n);
    for (let h = 0; h < c.heads; h++) rows.forEach((r, i) => {
      expect(Array.from(g.oRows.subarray((h * rows.length + i) * c.d, (h * rows.length + i + 1) * c.d))).toEqual(Array.from(c.oBits.subarray((h * c.n + r) * c.d, (h * c.n + r + 1) * c.d)));
      expect(g.lseRows[h * rows.length + i]).toBe(c.lseAll[h * c.n + r]);
    });
    const whole = compareOutputs({ ...c, rows });
    const split = compareRows({ oRows: g.oRows, lseRows: g.lseRows, refO: c.refO, refLse: c.refLse, rows, heads: c.heads, d: c.d, dtype: c.dtype });
    expect({ unwritten: countPoison(c.oBits, c.lseAll, c.dtype), ...split }).toEqual(whole);
  });

  it('countPoison counts NaN of both signs and every payload, never an infinity (negative control)', () => {
    const o = Uint16Array.from([0x7c00, 0xfc00, 0x3c00, 0x7c01, 0xfe00, 0x7fff]);
    expect(countPoison(o, new Float32Array([Infinity, -Infinity, 1]), 'f16')).toBe(3);
    expect(countPoison(Uint16Array.from([0x7f80, 0xff80, 0x7f81, 0xffc0]), new Float32Array([NaN]), 'bf16')).toBe(3);
    expect(countPoison(new Uint16Array(8), new Float32Array(2), 'f16')).toBe(0);
  });
});
