// Where stmatrix puts the accumulator fragments (kernels/fragments.cuh) is where the TMA store of O
// and the P V wgmma read them: the header is built for the host, prints the row address every lane
// gives and the register pair every matrix takes, and this file replays stmatrix over them for every
// head dim (O) and KV tile width (P). Every element of the 64-row tile must land at the byte the
// reader's layout names, exactly once, and each 8x8 matrix's rows must fall in 8 different 16-byte
// bank groups (no conflicts). The fragment itself (which row and column register i of a lane holds)
// is written here from the PTX ISA's wgmma accumulator layout, independently of the kernel.
// Negative controls: O without its swizzle, two matrices' registers swapped, and P's row halves
// swapped are each caught.
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildHost, hostCxx } from '../host_cxx.js';

const hasCxx = await hostCxx('fragments.cuh matches the TMA and wgmma layouts');

// "O hd": oStageOffset(w, l, g) for every warp, lane, g, then oStagePair(g, j);
// "P n": pStoreRowAddr(0, w, l, 16 n) for every warp, lane, then pStoreChunkOffset(u) and pStorePair(u, j).
const HOST = `
#define SW_HOST_DEVICE inline
#include <cstdio>
#include <cstring>
#include "fragments.cuh"
int main() {
  char kind[2];
  int n;
  while (std::scanf("%1s %d", kind, &n) == 2) {
    if (kind[0] == 'O') {
      for (int w = 0; w < 4; ++w) for (int l = 0; l < 32; ++l) for (int g = 0; g < n / 16; ++g) std::printf("%u ", oStageOffset(w, l, g));
      for (int g = 0; g < n / 16; ++g) for (int j = 0; j < 4; ++j) std::printf("%d ", oStagePair(g, j));
    } else {
      for (int w = 0; w < 4; ++w) for (int l = 0; l < 32; ++l) std::printf("%u ", pStoreRowAddr(0u, w, l, 16u * n));
      for (int u = 0; u < n / 8; ++u) std::printf("%u ", pStoreChunkOffset(u));
      for (int u = 0; u < n / 8; ++u) for (int j = 0; j < 2; ++j) std::printf("%d ", pStorePair(u, j));
    }
    std::printf("\\n");
  }
  return 0;
}
`;

const HEAD_DIMS = [64, 128, 256];
const BLOCK_NS = Array.from({ length: 16 }, (_, k) => 16 * (k + 1)); // 16..256

interface OTable { hd: number; offset: (w: number, l: number, g: number) => number; pair: (g: number, j: number) => number }
interface PTable { n: number; row: (w: number, l: number) => number; chunk: (u: number) => number; pair: (u: number, j: number) => number }

async function hostTables(): Promise<{ o: OTable[]; p: PTable[] }> {
  const exe = await buildHost('fragments', HOST, '-O1');
  const input = [...HEAD_DIMS.map((d) => `O ${d}`), ...BLOCK_NS.map((n) => `P ${n}`)].join('\n') + '\n';
  const child = execFile(exe);
  const text = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`fragments host program exited ${code}`))));
  });
  child.stdin!.end(input);
  const lines = (await text).trim().split('\n').map((s) => s.trim().split(/\s+/).map(Number));
  const o = HEAD_DIMS.map((hd, k): OTable => {
    const v = lines[k], G = hd / 16, offs = v.slice(0, 4 * 32 * G), pairs = v.slice(4 * 32 * G);
    return { hd, offset: (w, l, g) => offs[(w * 32 + l) * G + g], pair: (g, j) => pairs[4 * g + j] };
  });
  const p = BLOCK_NS.map((n, k): PTable => {
    const v = lines[HEAD_DIMS.length + k], U = n / 8, rows = v.slice(0, 128), chunks = v.slice(128, 128 + U), pairs = v.slice(128 + U);
    return { n, row: (w, l) => rows[w * 32 + l], chunk: (u) => chunks[u], pair: (u, j) => pairs[2 * u + j] };
  });
  return { o, p };
}

/** The wgmma m64nN accumulator fragment (PTX ISA): register i of lane l in warp w. */
const fragRow = (w: number, l: number, i: number) => 16 * w + Math.floor(l / 4) + 8 * ((i >> 1) & 1);
const fragCol = (l: number, i: number) => 8 * (i >> 2) + 2 * (l % 4) + (i & 1);

/** The readers' layouts: O's tile as the TMA store reads it (64-column blocks, 128B swizzle) and P's as the wgmma descriptor does. */
const oByte = (row: number, col: number) => Math.floor(col / 64) * 64 * 128 + row * 128 + ((Math.floor((col % 64) / 8) ^ (row % 8)) << 4) + (col % 8) * 2;
const pByte = (n: number, row: number, col: number) => Math.floor(row / 8) * 16 * n + Math.floor(col / 8) * 128 + (row % 8) * 16 + (col % 8) * 2;

/**
 * Replays the stores: stmatrix number s of warp w takes matrices j < count, matrix j from packed
 * pair pair(s, j) of every lane t (row t / 4 of the matrix, bytes 4 (t % 4) of that row), the row's
 * address from lane 8 j + t / 4. Returns the problems found (empty when the layout holds).
 */
function replay(stores: number, count: number, pairs: number, rowAddr: (w: number, l: number, s: number) => number, pair: (s: number, j: number) => number, want: (row: number, col: number) => number, elements: number): string[] {
  const bad: string[] = [];
  const written = new Map<number, number>();
  const used = new Map<number, number>();
  for (let s = 0; s < stores; s++) {
    for (let j = 0; j < count; j++) {
      const p = pair(s, j);
      used.set(p, (used.get(p) ?? 0) + 1);
      for (let w = 0; w < 4; w++) {
        const groups = new Set<number>();
        for (let r = 0; r < 8; r++) {
          const a = rowAddr(w, 8 * j + r, s);
          if (a % 16 !== 0) bad.push(`store ${s} matrix ${j} warp ${w}: row address ${a} not 16-byte aligned`);
          groups.add((a / 16) % 8);
        }
        if (groups.size !== 8) bad.push(`store ${s} matrix ${j} warp ${w}: rows share bank groups (${groups.size} of 8 distinct)`);
        for (let t = 0; t < 32; t++) {
          for (const e of [0, 1]) {
            const i = 2 * p + e;
            const row = fragRow(w, t, i), col = fragCol(t, i);
            const at = rowAddr(w, 8 * j + Math.floor(t / 4), s) + 4 * (t % 4) + 2 * e;
            if (at !== want(row, col)) bad.push(`store ${s} matrix ${j} warp ${w} lane ${t}: element (${row}, ${col}) at ${at}, its layout says ${want(row, col)}`);
            written.set(at, (written.get(at) ?? 0) + 1);
          }
        }
      }
    }
  }
  for (let p = 0; p < pairs; p++) if (used.get(p) !== 1) bad.push(`pair ${p} stored ${used.get(p) ?? 0} times`);
  if (written.size !== elements || [...written.values()].some((x) => x !== 1)) bad.push(`${written.size} distinct bytes pairs written for ${elements} elements`);
  return bad;
}

const checkO = (t: OTable, offset = t.offset, pair = t.pair) => replay(t.hd / 16, 4, t.hd / 4, offset, pair, oByte, 64 * t.hd);
const checkP = (t: PTable, row = t.row, pair = t.pair) => replay(t.n / 8, 2, t.n / 4, (w, l, u) => row(w, l) + t.chunk(u), pair, (r, c) => pByte(t.n, r, c), 64 * t.n);

describe.skipIf(!hasCxx)('fragments.cuh matches the TMA and wgmma layouts', () => {
  it('O by stmatrix.x4 lands in the 128B-swizzled tile, every head dim; P by stmatrix.x2 in the core-matrix tile, every KV width', async () => {
    const { o, p } = await hostTables();
    for (const t of o) expect(checkO(t).slice(0, 3), `O hd${t.hd}`).toEqual([]);
    for (const t of p) expect(checkP(t).slice(0, 3), `P n${t.n}`).toEqual([]);
    // Negative controls: each break of the mapping is caught.
    const t128 = o.find((t) => t.hd === 128)!;
    const unswizzled = (w: number, l: number, g: number) => { const a = t128.offset(w, l, g), row = Math.floor((a % 8192) / 128); return a - (a % 128) + ((((a % 128) >> 4) ^ (row % 8)) << 4); };
    expect(checkO(t128, unswizzled).length).toBeGreaterThan(0);
    const swapped = (g: number, j: number) => t128.pair(g, j === 1 ? 2 : j === 2 ? 1 : j);
    expect(checkO(t128, t128.offset, swapped).length).toBeGreaterThan(0);
    const t64 = p.find((t) => t.n === 64)!;
    const halves = (w: number, l: number) => t64.row(w, l ^ 8);
    expect(checkP(t64, halves).length).toBeGreaterThan(0);
  }, 60_000);
});
