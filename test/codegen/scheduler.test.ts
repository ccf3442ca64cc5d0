// The persistent kernel's tile order and schedulers on the CPU: every tile of every launch is taken
// exactly once, whatever the grid and however the CTAs race; the order is longest-first inside a
// section of heads whose K/V fit the L2 share. Negative controls: the cover check flags a missing
// and a repeated tile, and a scheduler that skips a stride is caught.
import { describe, expect, it } from 'vitest';
import { decodePairTile, decodeTile, dynamicTiles, gridFor, L2_SHARE, persistentGrid, staticTiles, tileSpace, type TileSpace, type TileSpaceInput } from '../../src/codegen/index.js';
import { seededRandom } from '../../src/api/random.js';

/** What is wrong with a cover of 0..numTiles-1 by per-CTA lists: a missing or a repeated tile. */
function coverProblems(space: TileSpace, perCta: number[][]): string[] {
  const seen = new Map<number, number>();
  perCta.forEach((ts, cta) => ts.forEach((t) => seen.set(t, (seen.get(t) ?? 0) + 1 + (cta < 0 ? 1 : 0))));
  const problems: string[] = [];
  for (let t = 0; t < space.numTiles; t++) {
    const n = seen.get(t) ?? 0;
    if (n !== 1) problems.push(`tile ${t} taken ${n} times`);
  }
  for (const t of seen.keys()) if (t < 0 || t >= space.numTiles) problems.push(`tile ${t} is outside 0..${space.numTiles - 1}`);
  // The (head, block) pairs, too: decodeTile must be a bijection onto them.
  const pairs = new Set<string>();
  for (let t = 0; t < space.numTiles; t++) {
    const { bh, qBlock } = decodeTile(space, t);
    if (bh < 0 || bh >= space.batchHeads || qBlock < 0 || qBlock >= space.qBlocks) problems.push(`tile ${t} decodes to (${bh}, ${qBlock}), outside the space`);
    pairs.add(`${bh},${qBlock}`);
  }
  if (pairs.size !== space.numTiles) problems.push(`${space.numTiles} tiles decode to ${pairs.size} distinct (head, block) pairs`);
  return problems.slice(0, 3);
}

const H100 = { smCount: 132, l2Bytes: 50 * 1024 * 1024 };

/** Shapes: the issue's table, GQA/MQA, odd lengths, more keys than queries, one tile, fewer tiles than SMs. */
function shapes(): TileSpaceInput[] {
  const out: TileSpaceInput[] = [];
  const base = { blockM: 128, l2Bytes: H100.l2Bytes, ctas: H100.smCount };
  for (const [batch, headsQ, seq, headDim] of [[64, 16, 1024, 128], [32, 16, 2048, 128], [8, 16, 8192, 128], [2, 16, 16384, 128], [8, 32, 8192, 64], [4, 16, 8192, 256], [1, 1, 1, 64], [3, 5, 300, 128]]) {
    for (const masked of [false, true]) out.push({ ...base, batch, headsQ, headsKV: headsQ, headDim, seqQ: seq, seqK: seq, masked });
  }
  out.push({ ...base, batch: 4, headsQ: 32, headsKV: 8, headDim: 128, seqQ: 4096, seqK: 4096, masked: true }); // llama3-8b
  out.push({ ...base, batch: 2, headsQ: 16, headsKV: 1, headDim: 256, seqQ: 700, seqK: 3000, masked: true }); // MQA, Nq < Nkv
  out.push({ ...base, batch: 5, headsQ: 12, headsKV: 4, headDim: 64, seqQ: 2000, seqK: 100, masked: false });
  return out;
}

describe('tile space and order', () => {
  it('decodes every tile to a distinct (head, block) pair, longest block first inside a section when masked', () => {
    for (const x of shapes()) {
      const s = tileSpace(x);
      expect(s.numTiles).toBe(x.batch * x.headsQ * Math.ceil(x.seqQ / 128));
      expect(coverProblems(s, [Array.from({ length: s.numTiles }, (_, t) => t)])).toEqual([]);
      // Inside a section, blocks run from the last (masked) or the first, never back and forth.
      for (let t = 1; t < s.numTiles; t++) {
        const a = decodeTile(s, t - 1), b = decodeTile(s, t);
        if (Math.floor(a.bh / s.headGroup) !== Math.floor(b.bh / s.headGroup)) continue;
        if (x.masked) expect(b.qBlock).toBeLessThanOrEqual(a.qBlock);
        else expect(b.qBlock).toBeGreaterThanOrEqual(a.qBlock);
      }
    }
  });

  it('sizes a section so all its blocks are in flight together and its K/V fit the L2 share, in whole GQA groups', () => {
    for (const x of shapes()) {
      const s = tileSpace(x);
      const group = x.headsQ / x.headsKV;
      const kvBytes = (s.headGroup / group) * 2 * x.seqK * x.headDim * 2;
      if (s.headGroup < s.batchHeads) {
        expect(s.headGroup % group).toBe(0);
        if (s.headGroup > group) {
          expect(kvBytes).toBeLessThanOrEqual(x.l2Bytes * L2_SHARE);
          expect(s.headGroup * s.qBlocks).toBeLessThanOrEqual(x.ctas);
        }
      }
      expect(s.headGroup).toBeGreaterThanOrEqual(1);
    }
    // (8, 16, 8192, 128): 64 blocks per head, 132 CTAs: 2 heads per section; (64, 16, 1024, 128): 16.
    const at = (batch: number, seq: number) => tileSpace({ batch, headsQ: 16, headsKV: 16, headDim: 128, seqQ: seq, seqK: seq, blockM: 128, masked: false, ...H100, ctas: 132 });
    expect(at(8, 8192).headGroup).toBe(2);
    expect(at(64, 1024).headGroup).toBe(16);
    // Negative control of the L2 bound: a tiny L2 keeps one head per section.
    expect(tileSpace({ ...shapes()[0], l2Bytes: 1 << 20 }).headGroup).toBe(1);
  });

  it('launches one CTA per tile for the grid scheduler and at most one per SM otherwise', () => {
    const s = tileSpace(shapes()[0]);
    expect(gridFor('grid', s, 132)).toEqual([s.qBlocks, s.batchHeads, 1]);
    expect(gridFor('static', s, 132)).toEqual([132, 1, 1]);
    expect(gridFor('dynamic', { ...s, numTiles: 5 }, 132)).toEqual([5, 1, 1]);
    expect(persistentGrid(0, 132)).toBe(1);
  });
});

describe('every tile exactly once', () => {
  const grids = [1, 2, 3, 7, 78, 114, 132, 133, 1000];
  it('static: CTA i takes i, i + grid, ...', () => {
    for (const x of shapes()) {
      const s = tileSpace(x);
      for (const g of grids) {
        const grid = persistentGrid(s.numTiles, g);
        const per = Array.from({ length: grid }, (_, i) => staticTiles(s, grid, i));
        expect(coverProblems(s, per), `${JSON.stringify(x)} grid ${grid}`).toEqual([]);
      }
    }
  });

  it('dynamic: whichever CTA finishes first takes the next tile (seeded races and longest-work-first timing)', () => {
    for (const seed of [1, 2, 3]) {
      const rand = seededRandom(seed);
      for (const x of shapes()) {
        const s = tileSpace(x);
        for (const g of grids) {
          const grid = persistentGrid(s.numTiles, g);
          const random = dynamicTiles(s, grid, (running) => running[Math.floor(rand() * running.length)]);
          expect(coverProblems(s, random), `seed ${seed}, ${JSON.stringify(x)} grid ${grid}`).toEqual([]);
        }
      }
    }
    // Simulated time: a tile costs the KV tiles its block sees (causal); the CTA that is free
    // soonest takes the next tile. Longest first keeps the finish times within one longest tile.
    for (const x of shapes().filter((y) => y.masked)) {
      const s = tileSpace(x);
      const grid = persistentGrid(s.numTiles, 132);
      const cost = (t: number) => decodeTile(s, t).qBlock + 1;
      const busy = new Array<number>(grid).fill(0);
      const seen = new Array<number>(grid).fill(-1);
      const taken = dynamicTiles(s, grid, (running, current) => {
        for (const c of running) if (seen[c] !== current[c]) (busy[c] += cost(current[c])), (seen[c] = current[c]);
        return running.reduce((a, b) => (busy[b] < busy[a] ? b : a));
      });
      expect(coverProblems(s, taken)).toEqual([]);
      if (s.numTiles >= 4 * grid) {
        const finish = taken.map((ts) => ts.reduce((a, t) => a + cost(t), 0));
        expect(Math.max(...finish) - Math.min(...finish), JSON.stringify(x)).toBeLessThanOrEqual(s.qBlocks);
      }
    }
  });

  it('negative controls: a repeated, a missing and a skipped tile are flagged', () => {
    const s = tileSpace(shapes()[0]);
    const per = Array.from({ length: 132 }, (_, i) => staticTiles(s, 132, i));
    expect(coverProblems(s, [...per, [5]])).toEqual(['tile 5 taken 2 times']);
    expect(coverProblems(s, per.map((ts, i) => (i === 3 ? ts.slice(1) : ts)))).toEqual(['tile 3 taken 0 times']);
    // A static scheduler striding by grid + 1 misses tiles.
    const wrong = Array.from({ length: 132 }, (_, i) => staticTiles(s, 133, i));
    expect(coverProblems(s, wrong).length).toBeGreaterThan(0);
  });
});

describe('the default scheduler (choose.ts, measured)', () => {
  it('is persistent for short query loops with a producer warpgroup and one S tile, one CTA per tile otherwise', async () => {
    const { choose, PERSISTENT_MAX_SEQ_Q, lengthBreakpoints, SHORT_192_MIN_SEQ_Q, SHORT_192_MAX_PAD, paddingRatio192 } = await import('../../src/codegen/index.js');
    const { NAMED } = await import('../../src/schedule/index.js');
    const at = (problem: object, knobs: object = {}, s = NAMED.secondDot) => choose(s, { headDim: 128, ...problem }, knobs);
    expect(at({ seqQ: 1024 }).scheduler).toBe('static');
    expect(at({ seqQ: 1024, causal: true }).scheduler).toBe('dynamic');
    expect(at({ seqQ: 2048, varlen: true }).scheduler).toBe('dynamic');
    expect(at({ seqQ: 2049 }).scheduler).toBe('grid');
    expect(at({ seqQ: 2049, varlen: true }).scheduler).toBe('grid');
    // Every head dim, masked or not, on both sides of its measured length (the table's rows).
    for (const headDim of [64, 128, 256] as const) {
      for (const masked of [{}, { causal: true }, { window: true }, { window: true, causal: true }]) {
        const isMasked = Object.keys(masked).length > 0;
        const max = PERSISTENT_MAX_SEQ_Q[headDim]['causal' in masked && !('window' in masked) ? 'causal' : 'even'];
        const persistent = isMasked ? 'dynamic' : 'static';
        for (const seqQ of [1, 1024, 2048, 2049, 4096, 4097, 5120, 5121, 8192, 16384, 65536]) {
          const plan = at({ headDim, seqQ, ...masked }, {}, NAMED.baseline);
          // Inside the span, hd128 without a mask takes 192 rows on one CTA per tile where they pad little (from 1536; 2048 is one).
          const short192 = headDim === 128 && !isMasked && seqQ >= SHORT_192_MIN_SEQ_Q && seqQ <= max && paddingRatio192(seqQ) <= SHORT_192_MAX_PAD;
          expect(plan.scheduler, `hd${headDim} ${seqQ} ${JSON.stringify(masked)}`).toBe(seqQ <= max && !short192 ? persistent : 'grid');
          if (plan.scheduler !== 'grid') expect(plan.blockM).toBe(128);
        }
      }
    }
    expect(PERSISTENT_MAX_SEQ_Q[128].causal).toBe(5120);
    expect(PERSISTENT_MAX_SEQ_Q[256].causal).toBe(Infinity);
    expect(PERSISTENT_MAX_SEQ_Q[128].even).toBe(2048);
    expect(lengthBreakpoints()).toEqual([2048, 4096, 5120]);
    expect(at({ seqQ: 5120, causal: true }).decisions.join('\n')).toMatch(/blockM 128: a query length at most 5120: a persistent kernel/);
    expect(at({ seqQ: 5120, causal: true }).decisions.join('\n')).toMatch(/scheduler dynamic: .*up to 5120 \(hd128, causal\)/);
    expect(at({}).scheduler).toBe('grid');
    expect(at({ seqQ: 1024 }, {}, NAMED.firstDot).scheduler).toBe('grid'); // two S tiles
    expect(at({ seqQ: 1024 }, { load: 'cp.async' }).scheduler).toBe('grid');
    expect(at({ seqQ: 1024 }, { scheduler: 'grid' }).scheduler).toBe('grid');
    expect(at({ seqQ: 1024 }).decisions.join('\n')).toMatch(/scheduler static: .*NOTES 2026-11-27 session 5/);
    expect(() => at({ seqQ: 0 })).toThrow(/seqQ must be a positive integer, got 0/);
  });

  it('takes 192 rows on one CTA per tile inside the hd128 persistent span exactly where they pad the length little, with lazyRescale (session 18)', async () => {
    const { choose, SHORT_192_MIN_SEQ_Q, SHORT_192_MAX_PAD, paddingRatio192 } = await import('../../src/codegen/index.js');
    const { NAMED } = await import('../../src/schedule/index.js');
    const kernel = (seqQ: number, problem: object = {}, knobs: object = {}) => {
      const p = choose(NAMED.baseline, { headDim: 128, seqQ, ...problem }, knobs);
      return `${p.blockM} ${p.scheduler}${p.lazyRescale ? ' lazy' : ''}`;
    };
    // The measured lengths (bench/NOTES.md sessions 14 and 18): the padding ratio each one was timed at.
    expect([1280, 1536, 1664, 1792, 2048].map((n) => paddingRatio192(n).toFixed(3))).toEqual(['1.050', '1.000', '1.038', '1.071', '1.031']);
    expect([1280, 1536, 1664, 1792, 2048].map((n) => kernel(n))).toEqual(['128 static lazy', '192 grid lazy', '128 static lazy', '128 static lazy', '192 grid lazy']);
    // Every length of the span: 192 rows on the grid iff the rule holds, else the persistent 128-row kernel.
    let short = 0;
    for (let n = 1; n <= 2048; n++) {
      const want = n >= SHORT_192_MIN_SEQ_Q && paddingRatio192(n) <= SHORT_192_MAX_PAD;
      short += want ? 1 : 0;
      expect(kernel(n), `seqQ ${n}`).toBe(want ? '192 grid lazy' : '128 static lazy');
    }
    expect(short).toBeGreaterThan(100); // the rule is not empty (negative control: a threshold of 1.0 would leave only multiples of 384)
    // Not where 192 rows cannot run or a mask, a window, packed sequences or another head dim changes the measurement.
    expect(kernel(2048, { causal: true })).toBe('128 dynamic');
    expect(kernel(2048, { window: true })).toBe('128 dynamic');
    expect(kernel(2048, { varlen: true })).toBe('128 dynamic');
    expect(kernel(2048, { softcap: true })).toBe('128 static');
    expect(choose(NAMED.baseline, { headDim: 64, seqQ: 2048 }).blockM).toBe(128);
    expect(kernel(2048, {}, { pShared: false })).toBe('128 static lazy');
    expect(kernel(2048, {}, { scheduler: 'static' })).toBe('128 static lazy');
    expect(kernel(2048, {}, { blockM: 128 })).toBe('128 static lazy');
    // A caller's 192 rows inside the span keep the persistent scheduler (hd64 2k measured it faster, session 8).
    expect(kernel(1024, {}, { blockM: 192 })).toBe('192 static lazy');
    const d = choose(NAMED.baseline, { headDim: 128, seqQ: 2048 }).decisions.join('\n');
    expect(d).toMatch(/blockM 192: one CTA per tile at 192 rows inside the persistent span, 2048 tokens padded 3.1% more/);
    expect(d).toMatch(/scheduler grid: 192 rows chosen inside the persistent span/);
    expect(choose(NAMED.baseline, { headDim: 128, seqQ: 1792 }).decisions.join('\n')).toMatch(/blockM 128: .*192-row blocks pad 1792 tokens 7.1% more/);
  });
});

describe('pairs of CTAs sharing K/V (kvShare 2)', () => {
  /** What breaks the pairing: cluster k is CTAs 2k and 2k + 1; their i-th tiles must be blocks 2p, 2p + 1 of one head. */
  function pairProblems(x: TileSpaceInput, grid: number): string[] {
    const s = tileSpace({ ...x, kvShare: 2 });
    const real = Math.ceil(x.seqQ / x.blockM);
    const problems: string[] = [];
    if (s.qBlocks % 2 !== 0 || s.qBlocks - real > 1 || s.qBlocks < real) problems.push(`${real} blocks padded to ${s.qBlocks}`);
    const per = Array.from({ length: grid }, (_, i) => staticTiles(s, grid, i));
    for (let k = 0; 2 * k < grid; k++) {
      const [a, b] = [per[2 * k], per[2 * k + 1] ?? []];
      if (a.length !== b.length) problems.push(`cluster ${k}: CTA ${2 * k} takes ${a.length} tiles, CTA ${2 * k + 1} ${b.length}`);
      a.forEach((t, i) => {
        const [da, db] = [decodePairTile(s, t), b[i] === undefined ? undefined : decodePairTile(s, b[i])];
        if (!db || da.bh !== db.bh || da.qBlock % 2 !== 0 || db.qBlock !== da.qBlock + 1) problems.push(`cluster ${k} tile ${i}: ${JSON.stringify(da)} and ${JSON.stringify(db)} are not blocks 2p, 2p + 1 of one head`);
      });
    }
    const seen = new Map<string, number>();
    for (const ts of per) for (const t of ts) { const d = decodePairTile(s, t); const key = `${d.bh},${d.qBlock}`; seen.set(key, (seen.get(key) ?? 0) + 1); }
    for (let bh = 0; bh < s.batchHeads; bh++) for (let q = 0; q < s.qBlocks; q++) if (seen.get(`${bh},${q}`) !== 1) problems.push(`head ${bh} block ${q} taken ${seen.get(`${bh},${q}`) ?? 0} times`);
    return problems.slice(0, 3);
  }

  const unmasked = () => [
    ...shapes().filter((x) => !x.masked),
    // Odd block counts (a block past the end pads each head), partial last blocks, one block.
    ...[1, 100, 129, 300, 1000, 1152, 2047].map((seq) => ({ blockM: 128, l2Bytes: H100.l2Bytes, ctas: H100.smCount, batch: 3, headsQ: 5, headsKV: 5, headDim: 128, seqQ: seq, seqK: seq + 7, masked: false })),
  ];

  it('every block of every head once; the two CTAs of each cluster always on one head, blocks 2p and 2p + 1', () => {
    for (const x of unmasked()) {
      const s = tileSpace({ ...x, kvShare: 2 });
      for (const sms of [1, 2, 3, 7, 78, 131, 132, 1000]) {
        const grid = persistentGrid(s.numTiles, sms, 2);
        expect(grid % 2, `${JSON.stringify(x)} on ${sms}`).toBe(0);
        expect(gridFor('static', s, sms, 2)).toEqual([grid, 1, 1]);
        expect(pairProblems(x, grid), `${JSON.stringify(x)} grid ${grid}`).toEqual([]);
      }
    }
  });

  it('an odd grid splits clusters across heads (negative control), and an odd block count does not pair', () => {
    const x = unmasked()[0];
    const s = tileSpace({ ...x, kvShare: 2 });
    expect(pairProblems(x, 131).join('\n')).toMatch(/not blocks 2p, 2p \+ 1 of one head|takes \d+ tiles/);
    expect(() => decodePairTile(tileSpace({ ...x, seqQ: 3 * 128 }), 0)).toThrow(/3 query blocks per head do not pair up/);
    expect(tileSpace({ ...x, seqQ: 3 * 128, kvShare: 2 }).qBlocks).toBe(4);
    expect(s.numTiles % 2).toBe(0);
  });
});
