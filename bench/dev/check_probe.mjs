// Session 20: the check's GPU passes step by step with a line after each (the vitest file hung once
// after its first test on an H200, with nothing printed). Usage: node bench/dev/check_probe.mjs
import { queueGatherRows, queueNanCount, readCount } from '../../dist/api/check_gpu.js';
import { DeviceBuffer, synchronize } from '../../dist/runtime/index.js';
const t0 = performance.now();
const log = (s) => console.log(`${(performance.now() - t0).toFixed(0).padStart(6)} ms  ${s}`);
for (const [heads, n, d] of [[3, 3001, 128], [7, 129, 72]]) {
  const total = heads * n * d;
  const o = new Uint16Array(total).fill(0x3c00);
  o[0] = 0x7e00; o[total - 1] = 0x7e00;
  const lse = new Float32Array(heads * n).fill(1); lse[3] = NaN;
  const ob = DeviceBuffer.alloc(total * 2), lb = DeviceBuffer.alloc(heads * n * 4), counter = DeviceBuffer.alloc(8);
  ob.upload(o); lb.upload(lse); log(`${heads}x${n}x${d} uploaded`);
  await queueNanCount({ o: { buffer: ob, elements: total, dtype: 'f16' }, lse: { buffer: lb, elements: heads * n }, counter });
  log('count queued'); synchronize(); log(`count ${readCount(counter)} (want 3)`);
  const rows = [0, 1, 7, n - 1];
  const R = rows.length;
  const rb = DeviceBuffer.alloc(R * 4), gob = DeviceBuffer.alloc(heads * R * d * 2), glb = DeviceBuffer.alloc(heads * R * 4);
  rb.upload(Int32Array.from(rows)); gob.memset8(0xff); glb.memset8(0xff); log('gather buffers ready');
  await queueGatherRows({ o: ob, lse: lb, rows: rb, rowCount: R, heads, n, d, oRows: gob, lseRows: glb });
  log('gather queued'); synchronize(); log('gather synchronized');
  const got = new Uint16Array(heads * R * d); gob.download(got);
  const gl = new Float32Array(heads * R); glb.download(gl);
  log(`gather first ${got[0].toString(16)} last ${got[got.length - 1].toString(16)} lse[0] ${gl[0]}`);
  for (const b of [ob, lb, counter, rb, gob, glb]) b.dispose();
  log('disposed');
}
