// Development tool (GPU): a quick check of the persistent kernel before a long run: a few configs
// of each scheduler on 1-3 CTAs, each checked against the fp32 reference (hang trap on).
import { prepareAttention } from '../../dist/api/index.js';

let failed = 0;
for (const scheduler of ['static', 'dynamic']) {
  for (const [schedule, causal, ctas, seqLen, headDim] of [['secondDot', false, 1, 700, 128], ['baseline', true, 2, 1000, 64], ['secondDot', true, 3, 1500, 256], ['firstDot', true, 2, 333, 128]]) {
    const cfg = { batch: 2, heads: 3, seqLen, headDim, dtype: 'f16', causal, schedule, load: 'tma', warpSpecialized: true, scheduler, persistentCtas: ctas, hangTrap: true };
    const p = await prepareAttention(cfg);
    try {
      for (let rep = 0; rep < 2; rep++) {
        const r = await p.check();
        console.log(`${scheduler} ${schedule} causal=${causal} ctas=${ctas} N=${seqLen} hd${headDim} rep ${rep}: ${r.ok ? 'ok' : 'FAIL'} relL2 ${r.relL2.toExponential(2)} ${r.ok ? '' : r.message}`);
        if (!r.ok) failed++;
      }
    } finally {
      p.dispose();
    }
  }
}
process.exit(failed ? 1 : 0);
