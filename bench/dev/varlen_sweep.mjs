// Development tool (GPU): time kernel knobs on packed batches (attentionVarlen) in interleaved rounds,
// each config first checked against the fp32 GPU reference (launchGeneralReference) on sampled rows
// of every sequence, its output poisoned with NaN before. Session 16: O by TMA for packed sequences
// (oStore 'tma': OStoreTmaPacked) against O from registers, the default.
// usage: node bench/dev/varlen_sweep.mjs CASES KNOBSETS [ROUNDS=4]
//   CASES: [{"hq":32,"hkv":8,"headDim":128,"causal":true,"lengths":[1024,517,...]}, ...] or
//          {"count":48,"min":256,"max":2048,"seed":1} in place of the lengths (uniform, seeded; K = Q lengths)
//   KNOBSETS: [{"schedule":"baseline"}, {"schedule":"baseline","knobs":{"oStore":"tma"}}, ...]
// env: VS_ITER / VS_WARMUP (default 30 / 10), VS_COOLDOWN_MS (default 500).
import { attentionVarlen, prepareVarlenLaunch, Tensor, varlenProblem, launchGeneralReference } from '../../dist/api/index.js';
import { seededRandom } from '../../dist/api/random.js';
import { visiblePairs } from '../../dist/bench/presets.js';
import { DeviceBuffer, Stream, timeLaunches } from '../../dist/runtime/index.js';
import { interleavedRounds, pooled } from './rounds.mjs';

const cases = JSON.parse(process.argv[2]);
const sets = JSON.parse(process.argv[3]);
const rounds = Number(process.argv[4] ?? 4);
const iterations = Number(process.env.VS_ITER ?? 30);
const warmup = Number(process.env.VS_WARMUP ?? 10);
const cooldown = Number(process.env.VS_COOLDOWN_MS ?? 500);

function lengthsOf(c) {
  if (Array.isArray(c.lengths)) return c.lengths;
  const { count, min, max, seed } = c.lengths;
  const r = seededRandom(seed ?? 1);
  return Array.from({ length: count }, () => min + Math.floor(r() * (max - min + 1)));
}

const cum = (ls) => Int32Array.from([0, ...ls.map((_, m) => ls.slice(0, m + 1).reduce((a, b) => a + b, 0))]);

/** O and LSE of sampled rows of every sequence against the reference: { ok, relL2, lseMax, nan }. */
async function check(q, k, v, opts, lq) {
  const dtype = q.dtype;
  const [totalQ, hq, D] = q.shape;
  const out = Tensor.empty(q.shape, { dtype });
  const lse = Tensor.empty([hq, totalQ], { dtype: 'f32' });
  out.buffer.memset16(dtype === 'bf16' ? 0x7fc0 : 0x7e00);
  lse.buffer.memset32(0x7fc00000);
  const maxQ = Math.max(...lq);
  const rows = [...new Set([0, 1, 62, 63, 64, 65, 127, 128, 129, maxQ - 2, maxQ - 1, ...Array.from({ length: 24 }, (_, i) => Math.floor((i * 7919) % maxQ))])].filter((x) => x >= 0 && x < maxQ).sort((a, b) => a - b);
  const bufs = [];
  try {
    await attentionVarlen(q, k, v, { ...opts, out, lse });
    const p = varlenProblem(q, k, v, { ...opts, out, lse });
    const alloc = (n) => { const b = DeviceBuffer.alloc(n); bufs.push(b); return b; };
    const rowBuf = alloc(rows.length * 4);
    rowBuf.upload(Int32Array.from(rows));
    const ro = alloc(p.batch * hq * rows.length * D * 4);
    const rl = alloc(p.batch * hq * rows.length * 4);
    await launchGeneralReference({ problem: p, rows: rowBuf, rowCount: rows.length, o: ro, lse: rl });
    await Stream.default(0).synchronizeAsync();
    const refO = new Float32Array(p.batch * hq * rows.length * D);
    const refL = new Float32Array(p.batch * hq * rows.length);
    ro.download(refO);
    rl.download(refL);
    const o = out.toFloat32Array();
    const l = lse.toFloat32Array();
    const cq = cum(lq);
    let err = 0, ref = 0, lseMax = 0, nan = 0;
    for (let b = 0; b < lq.length; b++) {
      for (let h = 0; h < hq; h++) {
        rows.forEach((row, i) => {
          if (row >= lq[b]) return;
          const base = (b * hq + h) * rows.length + i;
          for (let x = 0; x < D; x++) {
            const got = o[((cq[b] + row) * hq + h) * D + x];
            const want = refO[base * D + x];
            if (Number.isNaN(got)) nan++;
            err += (got - want) ** 2;
            ref += want * want;
          }
          const gl = l[h * totalQ + cq[b] + row], wl = refL[base];
          if (Number.isNaN(gl)) nan++;
          lseMax = Math.max(lseMax, gl === wl ? 0 : Math.abs(gl - wl));
        });
      }
    }
    const relL2 = Math.sqrt(err / ref);
    return { ok: nan === 0 && relL2 < 1e-2 && lseMax < 2e-2, relL2, lseMax, nan };
  } finally {
    bufs.forEach((b) => b.dispose());
    out.dispose();
    lse.dispose();
  }
}

for (const c of cases) {
  const lq = lengthsOf(c);
  const lk = c.lengthsK ?? lq;
  const cq = cum(lq), ck = cum(lk);
  const dtype = c.dtype ?? 'f16';
  const q = await Tensor.random([cq[lq.length], c.hq, c.headDim], { dtype, seed: 11 });
  const k = await Tensor.random([ck[lk.length], c.hkv, c.headDim], { dtype, seed: 12 });
  const v = await Tensor.random([ck[lk.length], c.hkv, c.headDim], { dtype, seed: 13 });
  const cuQ = Tensor.from(cq, { dtype: 'i32' });
  const cuK = Tensor.from(ck, { dtype: 'i32' });
  const out = Tensor.empty(q.shape, { dtype });
  const base = { cuSeqlensQ: cuQ, cuSeqlensK: cuK, maxSeqlenQ: Math.max(...lq), maxSeqlenK: Math.max(...lk), causal: !!c.causal };
  const flops = lq.reduce((s, n, b) => s + 4 * c.hq * c.headDim * visiblePairs(n, lk[b], !!c.causal, null), 0);
  const label = `${lq.length} seqs (${Math.min(...lq)}..${Math.max(...lq)}, ${cq[lq.length]} tokens) Hq${c.hq}/Hkv${c.hkv} D${c.headDim}${c.causal ? ' causal' : ''}`;
  const runs = [];
  try {
    for (const ks of sets) {
      const opts = { ...base, schedule: ks.schedule, ...(ks.knobs ? { knobs: ks.knobs } : {}) };
      let ok = false, why = '';
      try {
        const r = await check(q, k, v, opts, lq);
        ok = r.ok;
        why = `relL2 ${r.relL2.toExponential(2)} LSE ${r.lseMax.toExponential(2)} NaN ${r.nan}`;
      } catch (e) {
        why = String(e?.message ?? e).slice(0, 200);
      }
      const prepared = ok ? await prepareVarlenLaunch(q, k, v, { ...opts, out }) : null;
      runs.push({ ks, ok, why, flops, samples: [], perRound: [], p: { time: (t) => timeLaunches(prepared.fn, [prepared.launch], t) } });
    }
    await interleavedRounds(runs, { rounds, cooldownMs: cooldown, warmup, iterations });
    for (const run of runs) console.log(`${label}  ${JSON.stringify(run.ks)}  ${run.ok ? pooled(run) : 'FAIL'}  (check: ${run.why})`);
  } finally {
    [q, k, v, cuQ, cuK, out].forEach((t) => t.dispose());
  }
}
