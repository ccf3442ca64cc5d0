// The plan's splitTail on the CPU: the static scheduler's last round split along the keys. Every
// (tile, KV tile) pair is computed exactly once, every piece runs in the last round (one per CTA, its
// last item), a cluster's two CTAs take the same piece of a pair, and a unit is split only when its
// round is partial. Negative controls: a split that forgot a piece, and one that splits a full round.
import { describe, expect, it } from 'vitest';
import { decodeItem, persistentGrid, pieceStart, staticTailWork, TAIL_MAX_PIECES, tailArgs, tailPiece, tailSplit, tileSpace } from '../../src/codegen/index.js';

type Work = ReturnType<typeof staticTailWork>;

/** What is wrong with a launch's work lists: coverage, rounds, pairs. */
function problems(work: Work, numTiles: number, kvTiles: number, kvShare: 1 | 2): string[] {
  const out: string[] = [];
  const seen = new Map<string, number>();
  for (const items of work) for (const w of items) for (let j = w.kvBegin; j < w.kvEnd; j++) seen.set(`${w.tile},${j}`, (seen.get(`${w.tile},${j}`) ?? 0) + 1);
  for (let t = 0; t < numTiles; t++) for (let j = 0; j < kvTiles; j++) if (seen.get(`${t},${j}`) !== 1) out.push(`tile ${t} KV tile ${j} computed ${seen.get(`${t},${j}`) ?? 0} times`);
  const rounds = Math.max(...work.map((w) => w.length));
  work.forEach((items, cta) => {
    items.forEach((w, i) => {
      if (w.kvEnd <= w.kvBegin) out.push(`CTA ${cta} item ${i}: empty KV range`);
      if (w.pieces > 1 && i !== items.length - 1) out.push(`CTA ${cta}: piece ${w.piece} of tile ${w.tile} is not its last item`);
      if (w.pieces > 1 && items.length !== rounds) out.push(`CTA ${cta}: piece of tile ${w.tile} outside the last round`);
    });
    if (kvShare === 2 && cta % 2 === 1) {
      const peer = work[cta - 1];
      items.forEach((w, i) => {
        const p = peer[i];
        if (!p || p.tile !== w.tile - 1 || p.kvBegin !== w.kvBegin || p.kvEnd !== w.kvEnd) out.push(`cluster ${(cta - 1) / 2} item ${i}: ${JSON.stringify(p)} and ${JSON.stringify(w)} differ`);
      });
    }
  });
  return out.slice(0, 4);
}

describe('splitTail: the last round of the static scheduler split along the keys', () => {
  it('covers every (tile, KV tile) exactly once, pieces only in the last round, pairs alike', () => {
    let split = 0;
    for (const [batch, heads, seq] of [[64, 16, 1024], [32, 16, 1536], [1, 3, 1024], [2, 5, 777], [3, 7, 4096], [1, 1, 128], [8, 16, 1792]]) {
      for (const kvShare of [1, 2] as const) {
        for (const ctas of [2, 4, 6, 10, 20, 66, 78, 132]) {
          const s = tileSpace({ batch, headsQ: heads, headsKV: heads, headDim: 128, seqQ: seq, seqK: seq, blockM: 128, masked: false, l2Bytes: 50 << 20, ctas, kvShare });
          const grid = persistentGrid(s.numTiles, ctas, kvShare);
          const kvTiles = Math.ceil(seq / 128);
          const work = staticTailWork(s, grid, kvTiles, kvShare);
          expect(problems(work, s.numTiles, kvTiles, kvShare), `${batch}x${heads}x${seq} kvShare ${kvShare} grid ${grid}`).toEqual([]);
          if (work.some((w) => w.some((x) => x.pieces > 1))) split++;
        }
      }
    }
    expect(split).toBeGreaterThan(20); // the cases do split
  });

  it('splits only a partial last round, into at most TAIL_MAX_PIECES, never more pieces than KV tiles or CTAs', () => {
    expect(tailSplit(4096, 66, 8)).toEqual({ items: 4092 + 4 * 4, fullUnits: 4092, pieces: 4 }); // 1k non-causal, kvShare 2, 132 SMs
    expect(tailSplit(8192, 132, 8)).toEqual({ items: 8184 + 8 * 4, fullUnits: 8184, pieces: 4 });
    expect(tailSplit(132 * 5, 132, 8).pieces).toBe(1); // a full last round
    expect(tailSplit(100, 132, 8).pieces).toBe(1); // one round, not full: nothing waits on it
    expect(tailSplit(133, 132, 8).pieces).toBe(TAIL_MAX_PIECES);
    expect(tailSplit(133, 132, 1).pieces).toBe(1); // one KV tile cannot split
    expect(tailSplit(130 + 132, 132, 8).pieces).toBe(1); // 130 tail units: 132 / 130 = 1
    expect(tailSplit(40 + 132, 132, 8)).toEqual({ items: 132 + 40 * 2, fullUnits: 132, pieces: 2 }); // 3 fit: rounded down to a power of two
    expect(tailSplit(133, 132, 3).pieces).toBe(2); // 3 KV tiles: 2 pieces
    for (let units = 1; units < 600; units += 7) {
      for (const g of [1, 3, 66, 132]) {
        const s = tailSplit(units, g, 8);
        const tail = units - s.fullUnits;
        expect(tail * s.pieces <= g || s.pieces === 1).toBe(true);
        expect(s.items).toBe(s.fullUnits + tail * s.pieces);
        for (let it = 0; it < s.items; it++) {
          const d = decodeItem(s, it);
          expect(d.unit).toBeLessThan(units);
          expect(d.piece).toBeLessThan(s.pieces);
        }
      }
    }
  });

  it('pieces of one unit tile its KV range: contiguous, in order, none empty', () => {
    for (let T = 1; T <= 40; T++) {
      for (const shift of [0, 1, 2]) {
        const P = 1 << shift;
        if (P > T) continue;
        expect(pieceStart(T, 0, shift)).toBe(0);
        expect(pieceStart(T, P, shift)).toBe(T);
        for (let k = 0; k < P; k++) expect(pieceStart(T, k + 1, shift)).toBeGreaterThan(pieceStart(T, k, shift));
      }
    }
  });

  it("the launch's arguments: no split without the knob, past 2^16 KV tiles or on a full round; the kernel's decode matches the split", () => {
    const s = tileSpace({ batch: 64, headsQ: 16, headsKV: 16, headDim: 128, seqQ: 1024, seqK: 1024, blockM: 128, masked: false, l2Bytes: 50 << 20, ctas: 132, kvShare: 2 });
    expect(tailArgs(s, 132, 8, 2, false)).toEqual({ tailFull: s.numTiles, tailShift: 0 });
    expect(tailArgs(s, 132, 1 << 16, 2, true)).toEqual({ tailFull: s.numTiles, tailShift: 0 });
    expect(tailArgs(s, 128, 8, 2, true)).toEqual({ tailFull: s.numTiles, tailShift: 0 }); // 4096 pairs on 64 clusters: no partial round
    const a = tailArgs(s, 132, 8, 2, true);
    expect(a).toEqual({ tailFull: 8184, tailShift: 2 });
    // Items past tailFull: pairs (2 tiles) x 4 pieces each, the cluster's two CTAs on one piece of one pair.
    expect(tailPiece(a.tailFull, a.tailShift, 2, 8184)).toEqual({ tile: 8184, piece: 0, pieces: 4, tailTile: 0 });
    expect(tailPiece(a.tailFull, a.tailShift, 2, 8185)).toEqual({ tile: 8185, piece: 0, pieces: 4, tailTile: 1 });
    expect(tailPiece(a.tailFull, a.tailShift, 2, 8186)).toEqual({ tile: 8184, piece: 1, pieces: 4, tailTile: 0 });
    expect(tailPiece(a.tailFull, a.tailShift, 2, 8184 + 8)).toEqual({ tile: 8186, piece: 0, pieces: 4, tailTile: 2 });
    expect(tailPiece(a.tailFull, a.tailShift, 2, 100)).toEqual({ tile: 100, piece: 0, pieces: 1, tailTile: 0 });
  });

  it('negative controls: a lost piece and a split full round are both caught', () => {
    const s = tileSpace({ batch: 64, headsQ: 16, headsKV: 16, headDim: 128, seqQ: 1024, seqK: 1024, blockM: 128, masked: false, l2Bytes: 50 << 20, ctas: 132, kvShare: 2 });
    const work = staticTailWork(s, 132, 8, 2);
    const lost = work.map((w) => w.filter((x) => !(x.pieces > 1 && x.piece === 1)));
    expect(problems(lost, s.numTiles, 8, 2).join('; ')).toMatch(/computed 0 times/);
    // Pieces handed out one round early (before a CTA's whole tiles): outside the last round.
    const early = work.map((w) => (w.length > 1 && w[w.length - 1].pieces > 1 ? [w[w.length - 1], ...w.slice(0, -1)] : w));
    expect(problems(early, s.numTiles, 8, 2).join('; ')).toMatch(/is not its last item|outside the last round/);
  });
});
