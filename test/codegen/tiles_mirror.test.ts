// The kernel's tile decode (kernels/tiles.cuh) is the scheduler's (src/codegen/scheduler.ts): the
// header is built for the host with the C++ compiler and decodes every tile of many launches, which
// must match decodeTile in TypeScript tile for tile. Negative control: a space whose head sections
// differ from the kernel's arguments is caught.
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decodeItem, decodePairTile, decodeTile, fastDivide, fastDivisor, pieceStart, TAIL_MAX_PIECES, tailPiece, tailSplit, tileDivisors, tileSpace, type TileSpace } from '../../src/codegen/index.js';
import { buildHost, hostCxx } from '../host_cxx.js';

const hasCxx = await hostCxx('tiles.cuh matches scheduler.ts');

// Reads "batchHeads qBlocks headGroup reversed divSection divGroup divLastGroup" lines (reversed 2:
// the paired order, decodePairTile; the divisors' magics as the launch passes them, tileDivisors);
// prints "bh qBlock" for every tile of each.
const HOST = `
#define SW_HOST_DEVICE inline
#include <cstdio>
#include "tiles.cuh"
int main() {
  int bh, qb, g, rev;
  unsigned long long ds, dg, dl;
  while (std::scanf("%d %d %d %d %llu %llu %llu", &bh, &qb, &g, &rev, &ds, &dg, &dl) == 7) {
    const TileWork w{bh * qb, bh, qb, g, nullptr, ds, dg, dl};
    for (int t = 0; t < w.numTiles; ++t) {
      const TileCoord c = rev == 2 ? decodePairTile(w, t) : decodeTile(w, t, rev != 0);
      std::printf("%d %d\\n", c.bh, c.qBlock);
    }
  }
  return 0;
}
`;

function spaces(): TileSpace[] {
  const out: TileSpace[] = [];
  for (const [batch, headsQ, headsKV, seq, headDim] of [[64, 16, 16, 1024, 128], [8, 16, 16, 8192, 128], [2, 16, 16, 16384, 128], [4, 32, 8, 4096, 128], [3, 5, 5, 300, 64], [1, 1, 1, 1, 256], [7, 12, 4, 2000, 64], [2, 16, 1, 700, 256]]) {
    for (const masked of [false, true]) {
      for (const ctas of [1, 3, 78, 132]) {
        // Both query tile heights: 128 rows, and 192 (three consumer warpgroups) where the head dim allows it.
        for (const blockM of headDim <= 128 ? [128, 192] : [128]) {
          out.push(tileSpace({ batch, headsQ, headsKV, headDim, seqQ: seq, seqK: seq, blockM, masked, l2Bytes: 50 << 20, ctas }));
          // The paired order of kvShare 2 (unmasked only; odd block counts padded).
          if (!masked) out.push({ ...tileSpace({ batch, headsQ, headsKV, headDim, seqQ: seq, seqK: seq, blockM, masked, l2Bytes: 50 << 20, ctas, kvShare: 2 }), paired: true } as TileSpace);
        }
      }
    }
  }
  return out;
}

async function kernelDecode(list: TileSpace[]): Promise<string> {
  const exe = await buildHost('tiles', HOST, '-O1');
  const input = list.map((s) => {
    const d = tileDivisors(s, paired(s));
    return `${s.batchHeads} ${s.qBlocks} ${s.headGroup} ${paired(s) ? 2 : s.reversed ? 1 : 0} ${d.divSection} ${d.divGroup} ${d.divLastGroup}`;
  }).join('\n');
  return runHost(exe, 'tiles', input);
}

/** Runs a host program built by buildHost on `input` (stdin) and resolves with its stdout. */
function runHost(exe: string, name: string, input: string): Promise<string> {
  const child = execFile(exe, { maxBuffer: 64 << 20 });
  const out = new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (d) => (text += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`${name} host program exited ${code}`))));
  });
  child.stdin!.end(input + '\n');
  return out;
}

const paired = (s: TileSpace) => (s as TileSpace & { paired?: boolean }).paired === true;
const expected = (list: TileSpace[]) =>
  list.flatMap((s) => Array.from({ length: s.numTiles }, (_, t) => { const d = paired(s) ? decodePairTile(s, t) : decodeTile(s, t); return `${d.bh} ${d.qBlock}`; })).join('\n') + '\n';

describe.skipIf(!hasCxx)('tiles.cuh matches scheduler.ts', () => {
  it('decodes every tile of every launch as the TypeScript scheduler does', async () => {
    const list = spaces();
    expect(new Set(list.map((s) => s.headGroup)).size).toBeGreaterThan(3); // many section sizes, partial last sections
    const got = await kernelDecode(list);
    expect(got === expected(list)).toBe(true);
    // Negative control: the kernel given other sections decodes differently.
    const other = list.map((s) => ({ ...s, headGroup: Math.max(1, s.headGroup - 1) })).filter((s, i) => s.headGroup !== list[i].headGroup && s.qBlocks > 1);
    expect(other.length).toBeGreaterThan(0);
    expect((await kernelDecode(other)) === expected(other.map((s) => ({ ...s, headGroup: s.headGroup + 1 })))).toBe(false);
  }, 60_000);
});

describe('fastDivisor: n / d by a multiply-high and a shift (the tile decode\'s divisions)', () => {
  it('equals floor(n / d) for every d up to 4096 at the edges of n, and for random n and d below 2^31', () => {
    const ns = (d: number) => [0, 1, d - 1, d, d + 1, 2 * d - 1, 2 * d, 0x7fffffff, 0x7fffffff - 1, 0x7fffffff - (0x7fffffff % d)];
    for (let d = 1; d <= 4096; d++) for (const n of ns(d)) expect(fastDivide(n, fastDivisor(d)), `${n} / ${d}`).toBe(Math.floor(n / d));
    let x = 0x9e3779b9;
    const rand = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0), x);
    for (let k = 0; k < 20000; k++) {
      const d = 1 + (rand() % (k % 2 ? 0x7fffffff : 1 << (1 + (k % 20))));
      const n = rand() & 0x7fffffff;
      expect(fastDivide(n, fastDivisor(d)), `${n} / ${d}`).toBe(Math.floor(n / d));
    }
    // Negative control: a magic one too small in its multiplier is wrong somewhere.
    const bad = (d: number) => fastDivisor(d) - 1;
    expect([3, 7, 100, 12345].some((d) => ns(d).some((n) => fastDivide(n, bad(d)) !== Math.floor(n / d)))).toBe(true);
    expect(() => fastDivisor(0)).toThrow(/divisor must be an integer in 1\.\.2\^31 - 1/);
  });
});

// splitTail's work items (tiles.cuh tailSplit, decodeItem, pieceStart) against scheduler.ts: reads
// "units gridUnits kvTiles" lines, prints the split, then "unit piece begin end" for every item.
const TAIL_HOST = `
#define SW_HOST_DEVICE inline
#include <cstdio>
#include "tiles.cuh"
int main() {
  std::printf("max %d\\n", TAIL_MAX_PIECES);
  int u, g, t;
  while (std::scanf("%d %d %d", &u, &g, &t) == 3) {
    const TailSplit s = tailSplit(u, g, t);
    std::printf("%d %d %d\\n", s.items, s.fullUnits, s.pieces);
    for (int i = 0; i < s.items; ++i) {
      const WorkItem w = decodeItem(s, i);
      const int sh = w.unit < s.fullUnits ? 0 : s.pieces == 4 ? 2 : s.pieces == 2 ? 1 : 0;
      std::printf("%d %d %d %d\\n", w.unit, w.piece, pieceStart(t, w.piece, sh), pieceStart(t, w.piece + 1, sh));
    }
    // The kernel's decode from the launch's arguments, both K/V sharings.
    for (int kv = 1; kv <= 2; ++kv) {
      const int sh = s.pieces == 4 ? 2 : s.pieces == 2 ? 1 : 0;
      for (int i = 0; i < s.items * kv; ++i) {
        const TailPiece tp = tailPiece(s.fullUnits * kv, sh, kv, i);
        std::printf("%d %d %d %d\\n", tp.tile, tp.piece, tp.pieces, tp.tailTile);
      }
    }
  }
  return 0;
}
`;

describe.skipIf(!hasCxx)('tiles.cuh splitTail matches scheduler.ts', () => {
  const cases = (): Array<[number, number, number]> => {
    const out: Array<[number, number, number]> = [];
    for (const u of [1, 5, 66, 67, 133, 200, 4096, 8192]) for (const g of [1, 2, 7, 66, 132]) for (const t of [1, 2, 3, 8, 13]) out.push([u, g, t]);
    return out;
  };
  const expected = (list: Array<[number, number, number]>) =>
    [`max ${TAIL_MAX_PIECES}`, ...list.flatMap(([u, g, t]) => {
      const s = tailSplit(u, g, t);
      return [`${s.items} ${s.fullUnits} ${s.pieces}`, ...Array.from({ length: s.items }, (_, i) => {
        const w = decodeItem(s, i);
        const sh = w.unit < s.fullUnits ? 0 : Math.log2(s.pieces);
        return `${w.unit} ${w.piece} ${pieceStart(t, w.piece, sh)} ${pieceStart(t, w.piece + 1, sh)}`;
      }), ...([1, 2] as const).flatMap((kv) => Array.from({ length: s.items * kv }, (_, i) => {
        const tp = tailPiece(s.fullUnits * kv, Math.log2(s.pieces), kv, i);
        return `${tp.tile} ${tp.piece} ${tp.pieces} ${tp.tailTile}`;
      }))];
    })].join('\n') + '\n';
  async function kernelItems(list: Array<[number, number, number]>): Promise<string> {
    const exe = await buildHost('tail', TAIL_HOST, '-O1');
    return runHost(exe, 'tail', list.map((c) => c.join(' ')).join('\n'));
  }
  it('splits and decodes every item of many launches as the TypeScript mirror does (negative control: other KV tile counts differ)', async () => {
    const list = cases();
    expect(await kernelItems(list)).toBe(expected(list));
    const other = list.map(([u, g, t]): [number, number, number] => [u, g, t + 1]);
    expect((await kernelItems(other)) === expected(list)).toBe(false);
  }, 60_000);
});
