// Runs every variant's kernel once per case for compute-sanitizer (bench/dev/sanitize.sh calls it
// under memcheck, racecheck and synccheck). Cases: every named schedule x every variant choose() can
// build (variantKnobs) at head dim 64, plus each schedule's default kernel at head dims 128 and 256;
// lengths 1 (one ragged tile), 17 (ragged, below one tile) and 300 (several tiles, ragged end),
// causal and not. Every kernel is built with the hang trap, so a deadlock ends as an error.
// usage: node bench/dev/sanitize.mjs [--warm]   (--warm: compile only, outside the sanitizer)
import { attention, buildAttention } from '../../dist/api/index.js';
import { fillRandom } from '../../dist/api/fill.js';
import { choose, variantKnobs } from '../../dist/codegen/index.js';
import { DeviceBuffer } from '../../dist/runtime/index.js';
import { NAMED } from '../../dist/schedule/index.js';

const warmOnly = process.argv.includes('--warm');
const LENGTHS = [1, 17, 300];
const cases = [];
for (const schedule of Object.keys(NAMED)) {
  for (const { label, knobs } of variantKnobs()) {
    try {
      choose(NAMED[schedule], { headDim: 64 }, knobs);
    } catch {
      continue; // a combination this schedule cannot take (choose names the rule)
    }
    // A persistent kernel on 2 CTAs, so each walks several tiles (300 tokens x 2 heads: 6).
    const ctas = knobs.scheduler === 'static' || knobs.scheduler === 'dynamic' ? { persistentCtas: 2 } : {};
    for (const causal of [false, true]) cases.push({ label: `${schedule} ${label} hd64`, cfg: { headDim: 64, schedule, causal, load: knobs.load ?? 'tma', ...knobs, ...ctas } });
  }
  for (const headDim of [128, 256]) for (const causal of [false, true]) cases.push({ label: `${schedule} default hd${headDim}`, cfg: { headDim, schedule, causal, load: 'tma' } });
}

const base = { batch: 1, heads: 2, dtype: 'f16', hangTrap: true };
if (warmOnly) {
  let fresh = 0;
  for (let i = 0; i < cases.length; i += 8) {
    const built = await Promise.all(cases.slice(i, i + 8).map((c) => buildAttention({ ...base, ...c.cfg, seqLen: 1 })));
    fresh += built.filter((b) => !b.cached).length;
  }
  console.log(`sanitize: ${cases.length} kernels, ${fresh} compiled`);
  process.exit(0);
}

let launches = 0;
for (const c of cases) {
  for (const seqLen of LENGTHS) {
    const cfg = { ...base, ...c.cfg, seqLen };
    const n = cfg.batch * cfg.heads * seqLen * cfg.headDim;
    const bufs = [0, 1, 2, 3].map(() => DeviceBuffer.alloc(n * 2));
    const lse = DeviceBuffer.alloc(cfg.batch * cfg.heads * seqLen * 4);
    try {
      for (const [i, b] of bufs.slice(0, 3).entries()) await fillRandom(b, n, 'f16', 1000 + i);
      await attention({ q: bufs[0], k: bufs[1], v: bufs[2], o: bufs[3], lse }, cfg);
      launches++;
    } catch (e) {
      console.error(`sanitize: ${c.label}${cfg.causal ? ' causal' : ''} N=${seqLen}: ${e.message}`);
      process.exitCode = 1;
    } finally {
      [...bufs, lse].forEach((b) => b.dispose());
    }
  }
}
console.log(`sanitize: ${launches} launches of ${cases.length} kernels x ${LENGTHS.length} lengths`);
