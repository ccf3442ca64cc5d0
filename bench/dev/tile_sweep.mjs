// Development tool (GPU): check and time configs through the library's own path (prepareAttention) at
// the headline shape 8x16x8192x128 f16, twice, interleaved. usage: node bench/dev/tile_sweep.mjs '[{"schedule":"baseline","blockN":144}]'
import { prepareAttention } from '../../dist/api/index.js';
const cfgs = JSON.parse(process.argv[2]);
for (let rep = 0; rep < 2; rep++) for (const c of cfgs) {
  const p = await prepareAttention({ batch: 8, heads: 16, seqLen: 8192, headDim: 128, dtype: 'f16', causal: false, load: 'tma', ...c });
  const chk = await p.check();
  const t = (await p.time({ warmup: 10, iterations: 30 })).sort((a, b) => a - b);
  const ms = t[t.length >> 1];
  console.log(JSON.stringify(c), p.compiled.kernel.config.blockN, `k${p.compiled.kernel.plan.kBuffers}v${p.compiled.kernel.plan.vBuffers}`, chk.ok ? 'OK' : 'FAIL', (4 * 8 * 16 * 8192 * 8192 * 128 / (ms * 1e-3) / 1e12).toFixed(1));
  p.dispose();
}
