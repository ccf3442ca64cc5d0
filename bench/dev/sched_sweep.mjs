// Development tool (GPU): the tile schedulers against each other at the shapes of issue #12.
// For every shape (causal and not), every schedule x scheduler is prepared and checked, then timed
// in ROUNDS interleaved rounds, so clock drift spreads over every config of the shape.
// usage: node bench/dev/sched_sweep.mjs [ROUNDS=3] [OUT.json] [SHAPES as B,H,N,D;B,H,N,D...]
// env: SCHEDULES, SCHEDULERS (comma lists; SCHEDULERS=default leaves the choice to the plan); OSTORES=registers,tma times each config by O's store
// (the default when unset: the plan's choice), reported as scheduler/oStore; PEELS=0,1 times each
// config with and without peelMasks (reported as scheduler/peel or scheduler/flat); CAUSAL=1 or 0
// times only causal or only non-causal; BLOCKNS=128,144 times each config at each KV tile width;
// KNOBS='[{},{"blockM":192},{"blockM":192,"pShared":true}]' times each config under each knob set
// (reported by its knobs, e.g. blockM=192+pShared=true).
// Prints per shape each config's TFLOP/s (pooled median) and the best per scheduler.
import { writeFileSync } from 'node:fs';
import { compileAttention, flops, prepareAttention } from '../../dist/api/index.js';
import { median, tflops } from '../../dist/bench/stats.js';

const rounds = Number(process.argv[2] ?? 3);
const outFile = process.argv[3];
const SHAPES = (process.argv[4] ?? '64,16,1024,128;32,16,2048,128;16,16,4096,128;8,16,8192,128;2,16,16384,128;8,32,8192,64;4,16,8192,256')
  .split(';').map((s) => s.split(',').map(Number));
const SCHEDULES = (process.env.SCHEDULES ?? 'baseline,secondDot,firstDot').split(',');
const SCHEDULERS = (process.env.SCHEDULERS ?? 'grid,static,dynamic').split(',');
const OSTORES = process.env.OSTORES ? process.env.OSTORES.split(',') : [undefined];
const BLOCKNS = process.env.BLOCKNS ? process.env.BLOCKNS.split(',').map(Number) : [undefined];
const PEELS = process.env.PEELS ? process.env.PEELS.split(',').map((x) => x === '1') : [undefined];
const KNOBS = process.env.KNOBS ? JSON.parse(process.env.KNOBS) : [{}];
const knobLabel = (k) => Object.entries(k).map(([a, b]) => `${a}=${b}`).join('+');

const CAUSALS = process.env.CAUSAL === '1' ? [true] : process.env.CAUSAL === '0' ? [false] : [false, true];
const configs = [];
for (const [batch, heads, seqLen, headDim] of SHAPES) {
  for (const causal of CAUSALS) {
    for (const schedule of SCHEDULES) {
      for (const scheduler of SCHEDULERS) {
        for (const oStore of OSTORES) {
          for (const peelMasks of PEELS) for (const blockN of BLOCKNS) for (const knobs of KNOBS) {
            configs.push({ ...knobs, ...(blockN ? { blockN } : {}), batch, heads, seqLen, headDim, dtype: 'f16', causal, schedule, load: 'tma', warpSpecialized: true, ...(scheduler === 'default' ? {} : { scheduler }), ...(oStore ? { oStore } : {}), ...(peelMasks !== undefined ? { peelMasks } : {}) });
          }
        }
      }
    }
  }
}
// Compile every kernel first, in parallel (NVRTC runs on the thread pool).
const t0 = Date.now();
const compiled = await Promise.allSettled(configs.map(async (c) => compileAttention(c)));
console.error(`compiled ${configs.length} configs in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
compiled.forEach((r, i) => r.status === 'rejected' && console.error(`compile failed: ${JSON.stringify(configs[i])}: ${r.reason}`));

const results = [];
for (const [batch, heads, seqLen, headDim] of SHAPES) {
  for (const causal of CAUSALS) {
    const shape = `${batch}x${heads}x${seqLen}x${headDim}${causal ? ' causal' : ''}`;
    const runs = [];
    try {
      for (const c of configs.filter((x) => x.batch === batch && x.heads === heads && x.seqLen === seqLen && x.headDim === headDim && x.causal === causal)) {
        try {
          const p = await prepareAttention(c);
          const chk = await p.check();
          runs.push({ c, p, ok: chk.ok, why: chk.ok ? '' : chk.message, samples: [] });
        } catch (e) {
          runs.push({ c, p: null, ok: false, why: String(e?.message ?? e).slice(0, 200), samples: [] });
        }
      }
      for (let r = 0; r < rounds; r++) {
        for (const run of runs) if (run.ok) run.samples.push(...(await run.p.time({ warmup: 3, iterations: 10 })));
      }
      const best = {};
      for (const run of runs) {
        const tf = run.ok ? tflops(flops(run.c), median(run.samples)) : null;
        const kind = [run.c.scheduler ?? 'default', knobLabel([...KNOBS].sort((a, b) => Object.keys(b).length - Object.keys(a).length).find((k) => Object.entries(k).every(([a, b]) => run.c[a] === b)) ?? {}) || undefined, run.c.blockN ? `n${run.c.blockN}` : undefined, run.c.oStore, run.c.peelMasks === undefined ? undefined : run.c.peelMasks ? 'peel' : 'flat'].filter(Boolean).join('/');
        results.push({ shape, schedule: run.c.schedule, scheduler: run.c.scheduler ?? 'default', kernel: run.p?.kernel ?? null, peelMasks: run.c.peelMasks ?? null, oStore: run.p ? (run.p.kernel.includes('O tma') ? 'tma' : 'registers') : null, tflops: tf, ok: run.ok, why: run.why });
        if (tf !== null && tf > (best[kind]?.tf ?? 0)) best[kind] = { tf, schedule: run.c.schedule };
        console.log(`${shape.padEnd(24)} ${run.c.schedule.padEnd(10)} ${kind.padEnd(18)} ${run.ok ? tf.toFixed(1) : `FAIL ${run.why}`}`);
      }
      const g = (best.grid ?? best['grid/registers'] ?? best['grid/flat'])?.tf;
      console.log(`${shape.padEnd(24)} BEST ${Object.entries(best).map(([k, v]) => `${k} ${v.tf.toFixed(1)} (${v.schedule})${g ? ` ${(v.tf / g).toFixed(3)}x` : ''}`).join(' | ')}`);
    } finally {
      for (const run of runs) run.p?.dispose();
    }
  }
}
if (outFile) writeFileSync(outFile, JSON.stringify({ rounds, results }, null, 1));
