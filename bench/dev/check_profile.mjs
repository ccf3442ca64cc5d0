// Development tool (GPU): where a bench check's seconds go. Prepares one config, runs its check
// a few times under the V8 profiler (run with `node --cpu-prof --cpu-prof-dir DIR`), and prints
// each check's wall time. A 1k check took 4.9 s of the gate run's 5.7 s per config (session 9).
// usage: node --cpu-prof --cpu-prof-dir DIR bench/dev/check_profile.mjs '{"batch":64,...}' [CHECKS]
import { prepareAttention } from '../../dist/api/index.js';

const cfg = { dtype: 'f16', load: 'tma', warpSpecialized: true, ...JSON.parse(process.argv[2]) };
const checks = Number(process.argv[3] ?? 3);
const p = await prepareAttention(cfg);
try {
  for (let i = 0; i < checks; i++) {
    const t0 = performance.now();
    const r = await p.check();
    console.log(`check ${i + 1}: ${(performance.now() - t0).toFixed(0)} ms, ok ${r.ok}, ${r.rowsChecked} rows x ${r.headsChecked} heads`);
  }
} finally {
  p.dispose();
}
