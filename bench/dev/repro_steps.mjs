// Development tool (GPU): the call-memo test's steps (attention_tensor.gpu.test "a repeated call") with
// one run option set, printing each step as it completes, so a fault names its step. A kernel fault
// is sticky: run one option set per process (bench/dev/repro_steps.sh).
// usage: node bench/dev/repro_steps.mjs '{"schedule":"baseline","knobs":{"lazyRescale":false}}' [B,N,H,D]
import { attention, Tensor } from '../../dist/index.js';

const run = JSON.parse(process.argv[2] ?? '{}');
const [B, N, H, D] = (process.argv[3] ?? '1,200,2,128').split(',').map(Number);
const shape = [B, N, H, D];
const [q, k, v] = await Promise.all([1, 2, 3].map((seed) => Tensor.random(shape, { dtype: 'f16', seed })));
const out = Tensor.empty(shape, { dtype: 'f16' });
const lse = Tensor.empty([B, H, N], { dtype: 'f32' });
const opts = { out, lse, causal: false, ...run, knobs: { hangTrap: true, ...(run.knobs ?? {}) } };
const steps = [
  ['non-causal', () => {}],
  ['causal', () => { opts.causal = true; }],
  ['window [40, 0]', () => { opts.window = [40, 0]; }],
  ['window [5, 0]', () => { opts.window = [5, 0]; }],
  ['window [9, 3]', () => { opts.window = [9, 3]; }],
  ['window [30, 0]', () => { opts.window = [30, 0]; }],
];
try {
  for (const [name, edit] of steps) {
    edit();
    const t = Date.now();
    await attention(q, k, v, opts);
    const o = out.toFloat32Array();
    let nan = 0;
    for (const x of o) if (!Number.isFinite(x)) nan++;
    console.log(`${JSON.stringify(run)} ${shape}: ${name} ok (${Date.now() - t} ms, ${nan} non-finite)`);
  }
} catch (e) {
  console.log(`${JSON.stringify(run)} ${shape}: FAILED at the last step after the printed ones: ${e.message}`);
} finally {
  [q, k, v, out, lse].forEach((t) => t.dispose());
}
