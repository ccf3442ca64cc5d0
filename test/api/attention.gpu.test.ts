// Numerics on the GPU, against an fp32 reference on fresh random inputs with poisoned outputs.
//
// The matrix: every named schedule x every variant choose() can build (variantKnobs: load path x
// P operand x turn, and the one-warpgroup tile) x head dims 64/128/256; each of those meets every
// sequence length 1..160 (split between an f16 and a bf16 kernel, one causal and one not), plus
// random lengths up to 10,000. Lengths up to 256 are compared row by row in full (O and LSE of every
// row of every head). Random legal schedules run under each variant too. Every kernel here is built
// with the hang trap, so a deadlocking plan fails with a launch error instead of hanging CI.
//
// STAGEWISE_TEST_SEED fixes the sampling (printed at the start); each failing check prints the seed of
// its inputs, the heads and rows that disagree, and how to rerun it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attention, compileAttention, prepareAttention, REL_L2_TOLERANCE, type AttentionConfig,
} from '../../src/api/index.js';
import { referenceRows } from '../../src/api/reference.js';
import { launchReference } from '../../src/api/reference_gpu.js';
import { toFloats } from '../../src/api/half.js';
import { fillRandom } from '../../src/api/fill.js';
import { choose, lengthBreakpoints, persistentMaxSeqQ, short192Blocker, variantKnobs, type Knobs } from '../../src/codegen/index.js';
import { DeviceBuffer, synchronize } from '../../src/runtime/index.js';
import { enumerate, NAMED, type Schedule } from '../../src/schedule/index.js';
import { describeGpu } from '../gpu.js';
import { seededRandom as rng } from '../../src/api/random.js';

const SEED = Number(process.env.STAGEWISE_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`[stagewise] attention.gpu.test seed ${SEED} (STAGEWISE_TEST_SEED=${SEED} reproduces the sampling)`);

const HEAD_DIMS = [64, 128, 256] as const;
const SCHEDULES = ['baseline', 'firstDot', 'secondDot'] as const;
const MAX_SHORT = 160;
const MAX_LONG = 10_000;

interface Case {
  name: string;
  cfg: Omit<AttentionConfig, 'seqLen'>;
  lengths: number[];
}

function accepts(s: Schedule, headDim: 64 | 128 | 256, knobs: Knobs, causal = false): boolean {
  try {
    choose(s, { headDim, causal }, knobs);
    return true;
  } catch {
    return false;
  }
}

/**
 * STAGEWISE_VARIANTS=text keeps only the variants whose label contains it, or one of its
 * '|'-separated parts; a part that starts with '=' must equal the label (a GPU call that runs one
 * new variant first, or a few variants whose labels are prefixes of others); STAGEWISE_VARIANT_SHARD=i/n keeps variants i, i + n, ... of the list
 * (0 <= i < n: n calls run the whole matrix, each within a device call's limit). The coverage
 * check then counts those alone.
 */
const VARIANT_FILTER = process.env.STAGEWISE_VARIANTS;
const SHARD = (() => {
  const v = process.env.STAGEWISE_VARIANT_SHARD;
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m || Number(m[1]) >= Number(m[2])) throw new RangeError(`STAGEWISE_VARIANT_SHARD must be i/n with 0 <= i < n, got "${v}"`);
  return { i: Number(m[1]), n: Number(m[2]) };
})();
const variants = () =>
  variantKnobs().filter((v, k) => (VARIANT_FILTER === undefined || VARIANT_FILTER.split('|').some((part) => (part.startsWith('=') ? v.label === part.slice(1) : v.label.includes(part)))) && (SHARD === undefined || k % SHARD.n === SHARD.i));
if (VARIANT_FILTER !== undefined || SHARD !== undefined) {
  console.log(`[stagewise] attention.gpu.test: only variants${VARIANT_FILTER !== undefined ? ` whose label matches "${VARIANT_FILTER}"` : ''}${SHARD ? ` of shard ${SHARD.i}/${SHARD.n}` : ''} (${variants().length})`);
}

/** The matrix: for each schedule x variant x head dim, two kernels splitting 1..160 between them. */
function matrix(): Case[] {
  const random = rng(SEED);
  const cases: Case[] = [];
  for (const schedule of SCHEDULES) {
    for (const { label, knobs } of variants()) {
      for (const headDim of HEAD_DIMS) {
        if (!accepts(NAMED[schedule], headDim, knobs)) continue;
        const causalFirst = random() < 0.5;
        const shuffled = Array.from({ length: MAX_SHORT }, (_, i) => i + 1).sort(() => random() - 0.5);
        (['f16', 'bf16'] as const).forEach((dtype, half) => {
          // A variant for unmasked work only (kvShare 2) runs both halves without the mask.
          const causal = (half === 0 ? causalFirst : !causalFirst) && accepts(NAMED[schedule], headDim, knobs, true);
          const lengths = shuffled.filter((_, i) => i % 2 === half).sort((a, b) => a - b);
          lengths.push(MAX_SHORT + 1 + Math.floor(random() * (MAX_LONG - MAX_SHORT)));
          // A persistent kernel on one to three CTAs: each walks many tiles of different lengths.
          const ctas = knobs.scheduler === 'static' || knobs.scheduler === 'dynamic' ? 1 + Math.floor(random() * 3) : undefined;
          cases.push({
            name: `${schedule} ${label} hd${headDim} ${dtype}${causal ? ' causal' : ''}${ctas ? ` on ${ctas} CTAs` : ''}`,
            cfg: { batch: 1, heads: 2 + Math.floor(random() * 2), headDim, dtype, causal, schedule, load: knobs.load ?? 'tma', ...knobs, hangTrap: true, ...(ctas ? { persistentCtas: ctas } : {}) },
            lengths,
          });
        });
      }
    }
  }
  return cases;
}

/** Random legal schedules (up to 3 stages) under each variant, on a few lengths each. */
function randomScheduleCases(): Case[] {
  const random = rng(SEED ^ 0x2545f491);
  const all = [...enumerate({ maxStages: 3 })];
  const cases: Case[] = [];
  const perVariant = Number(process.env.STAGEWISE_RANDOM_SCHEDULES ?? 2);
  for (const { label, knobs } of variants()) {
    let found = 0;
    for (let tries = 0; found < perVariant && tries < 200; tries++) {
      const s = all[Math.floor(random() * all.length)];
      const headDim = HEAD_DIMS[Math.floor(random() * 3)];
      if (!accepts(s, headDim, knobs)) continue;
      found++;
      const lengths = [1 + Math.floor(random() * 40), 41 + Math.floor(random() * 300), 400 + Math.floor(random() * 3000)];
      cases.push({
        name: `${JSON.stringify(s.ops)} ${label} hd${headDim}`,
        cfg: {
          batch: 1, heads: 2, headDim, dtype: random() < 0.5 ? 'f16' : 'bf16', causal: random() < 0.5 && accepts(s, headDim, knobs, true), schedule: s, load: knobs.load ?? 'tma', ...knobs, hangTrap: true,
          ...(knobs.scheduler === 'static' || knobs.scheduler === 'dynamic' ? { persistentCtas: 2 } : {}),
        },
        lengths,
      });
    }
  }
  return cases;
}

async function runCase(c: Case): Promise<void> {
  for (const seqLen of c.lengths) {
    const p = await prepareAttention({ ...c.cfg, seqLen });
    try {
      const r = await p.check();
      const where = `${c.name} N=${seqLen}`;
      expect(r.ok, `${where}: ${r.message}`).toBe(true);
      expect(r.unwritten, `${where}: unwritten/NaN outputs`).toBe(0);
      // One key makes O = V exactly (softmax weight 1); from a few keys on, rounding must show.
      if (seqLen >= 16) expect(r.relL2, `${where}: suspiciously exact (seed ${r.seed})`).toBeGreaterThan(0);
      if (seqLen <= 256) expect(r.rowsChecked, where).toBe(seqLen);
    } finally {
      p.dispose();
    }
  }
}

describeGpu('the GPU fp32 reference matches the CPU reference', () => {
  for (const [n, d, causal, dtype] of [[77, 64, false, 'f16'], [130, 128, true, 'bf16'], [33, 256, true, 'f16']] as const) {
    it(`n=${n} d=${d}${causal ? ' causal' : ''} ${dtype}`, async () => {
      const heads = 2;
      const bufs = [0, 1, 2].map(() => DeviceBuffer.alloc(heads * n * d * 2));
      const rows = [0, 1, Math.floor(n / 2), n - 1];
      const rowBuf = DeviceBuffer.alloc(rows.length * 4);
      const o = DeviceBuffer.alloc(heads * rows.length * d * 4);
      const lse = DeviceBuffer.alloc(heads * rows.length * 4);
      try {
        const seed = Math.floor(Math.random() * 2 ** 31);
        for (const [i, b] of bufs.entries()) await fillRandom(b, heads * n * d, dtype, seed + i);
        rowBuf.upload(Int32Array.from(rows));
        const scale = 1 / Math.sqrt(d);
        await launchReference({ q: bufs[0], k: bufs[1], v: bufs[2], o, lse, rows: rowBuf, rowCount: rows.length, heads, n, d, causal, scale, dtype });
        synchronize();
        const gotO = new Float32Array(heads * rows.length * d);
        const gotL = new Float32Array(heads * rows.length);
        o.download(gotO);
        lse.download(gotL);
        for (let h = 0; h < heads; h++) {
          const read = (b: DeviceBuffer) => {
            const bits = new Uint16Array(n * d);
            b.download(bits, h * n * d * 2);
            return toFloats(bits, dtype);
          };
          const [q, k, v] = bufs.map(read);
          const qRows = new Float32Array(rows.length * d);
          rows.forEach((r, i) => qRows.set(q.subarray(r * d, (r + 1) * d), i * d));
          const ref = referenceRows({ q: qRows, k, v, rows, n, d, causal, scale });
          for (let i = 0; i < rows.length * d; i++) expect(Math.abs(gotO[h * rows.length * d + i] - ref.o[i]), `seed ${seed} head ${h}`).toBeLessThan(1e-4);
          for (let i = 0; i < rows.length; i++) expect(Math.abs(gotL[h * rows.length + i] - ref.lse[i]), `seed ${seed} head ${h}`).toBeLessThan(1e-4);
        }
      } finally {
        [...bufs, rowBuf, o, lse].forEach((b) => b.dispose());
      }
    });
  }
});

describeGpu('every schedule x variant x head dim meets every length 1..160 and a long one', () => {
  const cases = matrix();
  // Compile every kernel up front, in parallel (NVRTC runs off the JS thread; set
  // UV_THREADPOOL_SIZE to the core count for more at once).
  beforeAll(async () => {
    await Promise.all(cases.map((c) => compileAttention({ ...c.cfg, seqLen: 1 })));
  }, 900_000);
  it('covers every length for every (schedule, variant, head dim)', () => {
    const seen = new Map<string, Set<number>>();
    for (const c of cases) {
      // The two halves of one (schedule, variant, head dim) differ in dtype, causality and CTA count.
      const key = c.name.replace(/ (f16|bf16)( causal)?( on \d+ CTAs)?$/, '');
      const set = seen.get(key) ?? new Set<number>();
      c.lengths.forEach((n) => set.add(n));
      seen.set(key, set);
    }
    for (const [key, set] of seen) for (let n = 1; n <= MAX_SHORT; n++) expect(set.has(n), `${key} misses N=${n}`).toBe(true);
    expect(seen.size).toBeGreaterThan(VARIANT_FILTER === undefined ? 50 : 0);
  });
  for (const c of cases) it(c.name, () => runCase(c));
});

describeGpu('random legal schedules under each variant', () => {
  const cases = randomScheduleCases();
  beforeAll(async () => {
    await Promise.all(cases.map((c) => compileAttention({ ...c.cfg, seqLen: 1 })));
  }, 900_000);
  for (const c of cases) it(c.name, () => runCase(c));
});

describeGpu('the default kernels (no hang trap): many tiles and heads', () => {
  for (const schedule of SCHEDULES) {
    it(`${schedule}/tma, 4 x 4 x 4096 x 128, causal and not; timing runs`, async () => {
      for (const causal of [false, true]) {
        const p = await prepareAttention({ batch: 4, heads: 4, seqLen: 4096, headDim: 128, dtype: 'f16', causal, schedule, load: 'tma' });
        try {
          const r = await p.check();
          expect(r.ok, r.message).toBe(true);
          expect(r.relL2).toBeLessThan(REL_L2_TOLERANCE);
          const times = await p.time({ warmup: 2, iterations: 5 });
          expect(times).toHaveLength(5);
          for (const t of times) expect(t).toBeGreaterThan(0);
        } finally {
          p.dispose();
        }
      }
    });
  }

  // Short query loops run the persistent kernel by default, on every SM (many sections of heads).
  // 1792, not 2048: non-causal 2048 runs 192 rows on one CTA per tile since session 18 (choose.ts
  // short192Blocker); 1792 keeps baseline's static 128-row kernel with K/V shared and lazyRescale.
  for (const [schedule, seqLen] of [['secondDot', 1024], ['baseline', 1792], ['secondDot', 777]] as const) {
    it(`${schedule}/tma, 8 x 16 x ${seqLen} x 128 (persistent by default), causal and not`, async () => {
      for (const causal of [false, true]) {
        const p = await prepareAttention({ batch: 8, heads: 16, seqLen, headDim: 128, dtype: 'bf16', causal, schedule, load: 'tma' });
        try {
          expect(p.compiled.kernel.plan.scheduler).toBe(causal ? 'dynamic' : 'static');
          for (let rep = 0; rep < 2; rep++) {
            // Twice: the dynamic scheduler's counter must be back at zero for the second launch.
            const r = await p.check();
            expect(r.ok, r.message).toBe(true);
            expect(r.unwritten, `unwritten/NaN outputs (seed ${r.seed})`).toBe(0);
          }
        } finally {
          p.dispose();
        }
      }
    });
  }

  // The default kernel changes with the query length only at the persistent kernel's lengths
  // (choose.ts PERSISTENT_MAX_SEQ_Q): both sides of each, every head dim, causal and not. The
  // length is not a multiple of a tile on the far side, so the last tile is partial there.
  // Inside the hd128 span, 192 rows on one CTA per tile where they pad little (choose.ts
  // short192Blocker): the first such length, its neighbours, and lengths on both sides of the rule.
  it('the default kernel on both sides of every persistent-length breakpoint, every head dim, causal and not', async () => {
    for (const seqLen of [...lengthBreakpoints().flatMap((b) => [b, b + 1]), 1535, 1536, 1537, 1664, 1700, 1792, 1856]) {
      for (const headDim of HEAD_DIMS) {
        for (const causal of [false, true]) {
          const p = await prepareAttention({ batch: 1, heads: 2, seqLen, headDim, dtype: 'bf16', causal, schedule: 'secondDot', load: 'tma' });
          try {
            const persistent = seqLen <= persistentMaxSeqQ({ causal, window: false, headDim }) && short192Blocker({ headDim, causal, window: false, varlen: false, seqQ: seqLen }) !== null;
            expect(p.compiled.kernel.plan.scheduler !== 'grid', `hd${headDim} N=${seqLen}${causal ? ' causal' : ''}: persistent`).toBe(persistent);
            const r = await p.check();
            expect(r.ok, `hd${headDim} N=${seqLen}${causal ? ' causal' : ''}: ${r.message}`).toBe(true);
            expect(r.unwritten, `unwritten/NaN outputs (seed ${r.seed})`).toBe(0);
          } finally {
            p.dispose();
          }
        }
      }
    }
  }, 300_000);

  it('a failing check names its seed, heads and rows, and check({ seed }) reproduces the inputs', async () => {
    const p = await prepareAttention({ batch: 1, heads: 2, seqLen: 200, headDim: 64, dtype: 'f16', causal: false, schedule: 'baseline', load: 'tma' });
    try {
      const a = await p.check({ seed: 12345 });
      const b = await p.check({ seed: 12345 });
      expect(a.seed).toBe(12345);
      expect(b.relL2).toBe(a.relL2); // same inputs, same kernel: the same answer
      expect(a.rowsChecked).toBe(200);
      expect(a.headsChecked).toBe(2);
    } finally {
      p.dispose();
    }
  });
});

describeGpu('attention() on caller buffers', () => {
  const made: DeviceBuffer[] = [];
  afterAll(() => made.forEach((b) => b.dispose()));
  it('rejects a buffer that is too small before launching', async () => {
    const cfg: AttentionConfig = { batch: 1, heads: 1, seqLen: 128, headDim: 64, dtype: 'f16', causal: false, schedule: 'baseline', load: 'tma' };
    const ok = DeviceBuffer.alloc(128 * 64 * 2);
    const small = DeviceBuffer.alloc(64);
    made.push(ok, small);
    await expect(attention({ q: ok, k: ok, v: ok, o: small }, cfg)).rejects.toThrow(/o holds 64 bytes; this shape needs 16384/);
  });
});
