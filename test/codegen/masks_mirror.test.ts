// The peeled loop's bounds (kernels/masks.cuh unmaskedTiles) are exactly the tiles the softmax's own
// per-tile predicate (tileNeedsMaskAt, which the kernel calls for each warpgroup's 64 rows) leaves
// unmasked for every warpgroup of a CTA (two, or three at blockM 192). The header is built for the
// host with the C++ compiler and checked by brute force over many shapes, masks and blocks. Negative
// controls: bounds computed for fewer rows than the CTA's (the first warpgroup of two, the first two
// of three) admit tiles a later warpgroup must mask.
import { describe, expect, it } from 'vitest';
import { buildHost, hostCxx, run } from '../host_cxx.js';

const hasCxx = await hostCxx('masks.cuh bounds');

// For every case: every KV tile of the sequence, whether the bounds and the predicate agree.
// Prints "cases mismatches" and the first mismatch; WGS warpgroups of 64 rows make the CTA, and ROWS
// is how many rows the bounds cover (64 * WGS: the CTA, as the kernel passes; fewer: the negative
// controls).
const HOST = (rows: number, wgs: number) => `
#define SW_HOST_DEVICE inline
#include <cstdio>
#include "masks.cuh"
int main() {
  long cases = 0, bad = 0, unmaskedSeen = 0, maskedSeen = 0;
  const int blockNs[] = {16, 48, 64, 80, 96, 112, 128};
  for (int seqQ = 1; seqQ <= 700; seqQ += 37)
    for (int seqK = 1; seqK <= 900; seqK += 53)
      for (int bn : blockNs)
        for (int left = -1; left <= 400; left += (left < 8 ? 3 : 131))
          for (int right = -1; right <= 300; right += (right < 8 ? 2 : 97))
            for (int m0 = 0; m0 < seqQ; m0 += 64 * ${wgs}) {
              ++cases;
              const int off = seqK - seqQ;
              const TileSpan s = unmaskedTiles(bn, seqK, m0, ${rows}, off, left, right);
              for (int t = 0; t <= (seqK + bn - 1) / bn; ++t) {
                bool needs = false;
                for (int w = 0; w < ${wgs}; ++w) needs = needs || tileNeedsMaskAt(t, bn, seqK, m0 + 64 * w, 64, off, left, right);
                const bool inside = s.lo <= t && t < s.hi;
                (inside ? unmaskedSeen : maskedSeen)++;
                if (inside == needs) {
                  if (bad++ == 0) std::printf("first mismatch: seqQ %d seqK %d blockN %d left %d right %d m0 %d tile %d: bounds [%d, %d), needs %d\\n", seqQ, seqK, bn, left, right, m0, t, s.lo, s.hi, needs);
                }
              }
            }
  std::printf("%ld %ld %ld %ld\\n", cases, bad, unmaskedSeen, maskedSeen);
  return 0;
}
`;

async function check(rows: number, wgs = 2): Promise<{ cases: number; bad: number; unmasked: number; masked: number; first: string }> {
  const exe = await buildHost(`masks${rows}x${wgs}`, HOST(rows, wgs), '-O2');
  const { stdout } = await run(exe, [], { maxBuffer: 1 << 20 });
  const lines = stdout.trim().split('\n');
  const [cases, bad, unmasked, masked] = lines[lines.length - 1].split(' ').map(Number);
  return { cases, bad, unmasked, masked, first: lines.length > 1 ? lines[0] : '' };
}

describe.skipIf(!hasCxx)('masks.cuh: the peeled loop bounds', () => {
  it('equal the complement of the per-warpgroup predicate over the CTA, for every tile of every case', async () => {
    const r = await check(128);
    expect(r.cases).toBeGreaterThan(100_000);
    expect(r.unmasked).toBeGreaterThan(100_000); // both kinds of tile occur often
    expect(r.masked).toBeGreaterThan(100_000);
    expect(r.bad, r.first).toBe(0);
  }, 120_000);
  it('negative control: bounds over the first warpgroup alone disagree', async () => {
    const r = await check(64);
    expect(r.bad).toBeGreaterThan(0);
  }, 120_000);
  it('hold for three warpgroups (blockM 192), and bounds over the first two of them disagree', async () => {
    const r = await check(192, 3);
    expect(r.cases).toBeGreaterThan(50_000);
    expect(r.unmasked).toBeGreaterThan(50_000);
    expect(r.masked).toBeGreaterThan(50_000);
    expect(r.bad, r.first).toBe(0);
    expect((await check(128, 3)).bad).toBeGreaterThan(0);
  }, 120_000);
});
