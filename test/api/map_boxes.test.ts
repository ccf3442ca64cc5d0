// The tensor API's map cache keys on mapBoxRows (launch_args.ts): the boxes are all the maps take
// from the kernel, and blockN alone does not fix them (session 18: a kvShare-2 kernel's K/V maps
// reused by a kvShare-1 kernel hung). CPU only: plans, no driver.
import { describe, expect, it } from 'vitest';
import { choose, emit, variantKnobs } from '../../src/codegen/index.js';
import { NAMED } from '../../src/schedule/index.js';
import { mapBoxRows } from '../../src/api/launch_args.js';

describe('mapBoxRows', () => {
  it('is Q and O 64 rows, K/V blockN / kvShare, for every variant of the matrix', () => {
    let shared = 0;
    for (const { label, knobs } of variantKnobs()) {
      let kernel;
      try {
        kernel = emit(choose(NAMED.baseline, { headDim: 128, seqQ: 1024 }, knobs));
      } catch {
        continue; // a variant baseline cannot take
      }
      const box = mapBoxRows(kernel);
      expect(box, label).toEqual({ q: 64, kv: kernel.plan.blockN / kernel.plan.kvShare, o: 64 });
      if (kernel.plan.kvShare === 2) shared++;
    }
    expect(shared).toBeGreaterThan(0);
  });

  it('tells apart two kernels of one blockN that blockN alone would not (negative control for the cache key)', () => {
    const at = (kvShare: 1 | 2) => emit(choose(NAMED.baseline, { headDim: 128, seqQ: 1024 }, { load: 'tma', scheduler: 'static', kvShare, blockN: 128 }));
    const [a, b] = [at(2), at(1)];
    expect(a.plan.blockN).toBe(b.plan.blockN);
    expect(mapBoxRows(a)).not.toEqual(mapBoxRows(b));
    expect(mapBoxRows(a).kv).toBe(64);
    expect(mapBoxRows(b).kv).toBe(128);
  });
});
