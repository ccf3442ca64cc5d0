// The check's GPU passes (src/api/check_gpu.ts) against their CPU statement (attention.ts
// countPoison, gatherRows): NaN counted wherever it sits (first and last element, past one grid's
// stride, every NaN encoding, both signs), infinities and finite values never counted, and the
// checked rows gathered element for element. The negative controls: an output with no NaN counts
// 0, and one NaN more anywhere counts one more, so a count stuck at zero or at a constant fails.
//
// STAGEWISE_TEST_SEED fixes the data (printed at the start); a failure prints the case and seed.
// STAGEWISE_TEST_TRACE=1 writes each GPU step to stderr as it happens (unbuffered: a hang shows where).
import { writeSync } from 'node:fs';
import { expect, it } from 'vitest';
import { countPoison, gatherRows } from '../../src/api/attention.js';
import { queueGatherRows, queueNanCount, readCount } from '../../src/api/check_gpu.js';
import { seededRandom } from '../../src/api/random.js';
import { DeviceBuffer, synchronize } from '../../src/runtime/index.js';
import { describeGpu } from '../gpu.js';

const SEED = Number(process.env.STAGEWISE_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`[stagewise] check_gpu.gpu.test seed ${SEED} (STAGEWISE_TEST_SEED=${SEED} reproduces the data)`);

const T0 = performance.now();
const trace = (s: string) => { if (process.env.STAGEWISE_TEST_TRACE === '1') writeSync(2, `[trace ${(performance.now() - T0).toFixed(0)} ms] ${s}\n`); };

const NANS = { f16: [0x7e00, 0x7c01, 0xfe00, 0xffff, 0x7fff], bf16: [0x7fc0, 0x7f81, 0xffc0, 0xffff, 0x7fff] } as const;
const INFS = { f16: [0x7c00, 0xfc00], bf16: [0x7f80, 0xff80] } as const;

/** Finite random bits of `dtype` (exponent field never all ones). */
function finiteBits(n: number, dtype: 'f16' | 'bf16', random: () => number): Uint16Array {
  const out = new Uint16Array(n);
  const expMask = dtype === 'f16' ? 0x7c00 : 0x7f80;
  for (let i = 0; i < n; i++) {
    let b = Math.floor(random() * 65536);
    if ((b & expMask) === expMask) b &= ~0x4000; // clear the exponent's top bit: finite
    out[i] = b;
  }
  return out;
}

function withBuffers<T>(sizes: number[], fn: (bufs: DeviceBuffer[]) => Promise<T>): Promise<T> {
  const bufs: DeviceBuffer[] = [];
  return (async () => {
    try {
      for (const s of sizes) bufs.push(DeviceBuffer.alloc(s));
      return await fn(bufs);
    } finally {
      bufs.forEach((b) => b.dispose());
    }
  })();
}

async function gpuCount(o: Uint16Array, lse: Float32Array, dtype: 'f16' | 'bf16'): Promise<number> {
  return withBuffers([o.length * 2, lse.length * 4, 8], async ([ob, lb, counter]) => {
    ob.upload(o);
    lb.upload(lse);
    trace(`count: uploaded ${o.length}`);
    await queueNanCount({ o: { buffer: ob, elements: o.length, dtype }, lse: { buffer: lb, elements: lse.length }, counter });
    trace('count: queued');
    synchronize();
    trace('count: synchronized');
    return readCount(counter);
  });
}

describeGpu('the check\'s GPU passes match their CPU statement', () => {
  // 3 x 3001 x 128 = 1.15 M elements: past one pass of the count's 4096 x 256 threads.
  const cases = [
    { dtype: 'f16' as const, heads: 3, n: 3001, d: 128 },
    { dtype: 'bf16' as const, heads: 7, n: 129, d: 72 },
    { dtype: 'f16' as const, heads: 1, n: 1, d: 8 },
  ];
  cases.forEach((c, ci) => {
    const where = `${c.dtype} ${c.heads}x${c.n}x${c.d}, seed ${SEED}, case ${ci}`;
    it(`count: NaN anywhere counted, infinities and finite values not (${c.dtype} ${c.heads}x${c.n}x${c.d})`, async () => {
      const random = seededRandom((SEED + ci * 0x9e3779b9) >>> 0);
      const total = c.heads * c.n * c.d;
      const o = finiteBits(total, c.dtype, random);
      const lse = new Float32Array(c.heads * c.n).map(() => random() * 8 - 4);
      // Negative control first: finite values and infinities count 0 on both sides.
      INFS[c.dtype].forEach((b, i) => { o[Math.floor(random() * total)] = b; lse[i % lse.length] = i ? -Infinity : Infinity; });
      expect(countPoison(o, lse, c.dtype), where).toBe(0);
      expect(await gpuCount(o, lse, c.dtype), `${where}: no NaN`).toBe(0);
      // NaN at the ends and at random places, every encoding; a position may repeat, so the CPU counts.
      // At most a quarter of the elements: with the two infinities, some stay finite for the last step.
      const at = [0, total - 1, ...Array.from({ length: Math.min(37, Math.floor(total / 4)) }, () => Math.floor(random() * total))];
      at.forEach((p, i) => { o[p] = NANS[c.dtype][i % NANS[c.dtype].length]; });
      lse[lse.length - 1] = NaN;
      const want = countPoison(o, lse, c.dtype);
      expect(want, where).toBeGreaterThan(2);
      expect(await gpuCount(o, lse, c.dtype), where).toBe(want);
      // One NaN more, in a place that was finite, counts one more.
      // (Session 20: with 8 elements and 37 NaN, every element was NaN and this search never ended.)
      const start = Math.floor(random() * total);
      let p = start;
      for (let step = 0; (o[p] & 0x7fff) >= (c.dtype === 'f16' ? 0x7c00 : 0x7f80); step++) {
        if (step === total) throw new Error(`${where}: no finite element left to poison`);
        p = (p + 1) % total;
      }
      o[p] = NANS[c.dtype][0];
      expect(await gpuCount(o, lse, c.dtype), `${where}: one NaN added at ${p}`).toBe(want + 1);
    });

    it(`gather: the checked rows, element for element (${c.dtype} ${c.heads}x${c.n}x${c.d})`, async () => {
      const random = seededRandom((SEED ^ 0x51ed27) + ci);
      const o = finiteBits(c.heads * c.n * c.d, c.dtype, random);
      const lse = new Float32Array(c.heads * c.n).map(() => random() * 8 - 4);
      const rows = [...new Set([0, c.n - 1, ...Array.from({ length: 40 }, () => Math.floor(random() * c.n))])].sort((a, b) => a - b);
      const want = gatherRows(o, lse, rows, c.heads, c.n, c.d);
      trace('gather: CPU statement done');
      const R = rows.length;
      const got = await withBuffers([o.length * 2, lse.length * 4, R * 4, c.heads * R * c.d * 2, c.heads * R * 4], async ([ob, lb, rb, gob, glb]) => {
        trace(`gather: allocated, R ${R}`);
        ob.upload(o);
        lb.upload(lse);
        rb.upload(Int32Array.from(rows));
        trace('gather: uploaded');
        gob.memset8(0xff); // poisoned: an element the gather skips cannot match
        glb.memset8(0xff);
        await queueGatherRows({ o: ob, lse: lb, rows: rb, rowCount: R, heads: c.heads, n: c.n, d: c.d, oRows: gob, lseRows: glb });
        trace('gather: queued');
        synchronize();
        trace('gather: synchronized');
        const oRows = new Uint16Array(c.heads * R * c.d);
        const lseRows = new Float32Array(c.heads * R);
        gob.download(oRows);
        glb.download(lseRows);
        trace('gather: downloaded');
        return { oRows, lseRows };
      });
      trace('gather: comparing');
      expect(Buffer.from(got.oRows.buffer).equals(Buffer.from(want.oRows.buffer)), `${where}: O rows`).toBe(true);
      expect(Buffer.from(got.lseRows.buffer).equals(Buffer.from(want.lseRows.buffer)), `${where}: LSE rows`).toBe(true);
    });
  });

  it('refuses a buffer too small for what it is asked to read, before any launch', async () => {
    await withBuffers([64, 64, 8], async ([ob, lb, counter]) => {
      await expect(queueNanCount({ o: { buffer: ob, elements: 33, dtype: 'f16' }, lse: { buffer: lb, elements: 1 }, counter })).rejects.toThrow(/o has 64 bytes; it needs 66/);
    });
  });
});
