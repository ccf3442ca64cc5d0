// Development tool (GPU): launches one stagewise config a few times, for a profiler to catch.
// usage: node bench/dev/ncu_target.mjs '{"batch":64,"heads":16,"seqLen":1024,"headDim":128,...}'
import { prepareAttention } from '../../dist/api/index.js';

const cfg = { dtype: 'f16', load: 'tma', warpSpecialized: true, ...JSON.parse(process.argv[2]) };
const p = await prepareAttention(cfg);
try {
  const t = await p.time({ warmup: 2, iterations: 3 });
  console.log(`${p.kernel} ${t.map((x) => x.toFixed(3)).join(' ')} ms`);
} finally {
  p.dispose();
}
