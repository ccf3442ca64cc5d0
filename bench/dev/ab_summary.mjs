// Pools the JSON of bench/dev/ab.sh per build (a, b, and c when it ran) and config: median TFLOP/s of
// each pass and the ratios b / a (and c / a) of the pooled medians. usage: node bench/dev/ab_summary.mjs OUT
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const rows = new Map();
for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
  const side = f[0];
  const doc = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  // The sweep's results, and a preset's (`--preset`: the tensor API's configs under presets.results).
  for (const r of [...(doc.results ?? []), ...(doc.presets?.results ?? [])]) {
    if (r.status !== 'ok') continue;
    const c = r.config;
    const key = c.preset
      ? `${c.preset} ${c.batch}x${c.seqQ} Hq${c.headsQ}/Hkv${c.headsKV} D${c.headDim}${c.causal ? ' causal' : ''} ${c.schedule}`
      : `${c.batch}x${c.heads}x${c.seqLen}x${c.headDim} ${c.dtype}${c.causal ? ' causal' : ''} ${c.schedule}/${c.load}`;
    const row = rows.get(key) ?? { a: [], b: [], c: [] };
    row[side].push(r.tflops);
    rows.set(key, row);
  }
}
const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const fmt = (xs) => xs.map((x) => x.toFixed(1)).join(' ').padEnd(20);
for (const [key, { a, b, c }] of [...rows].sort()) {
  const ratio = (xs) => (a.length && xs.length ? (med(xs) / med(a)).toFixed(3) : '-');
  const third = c.length ? ` C ${fmt(c)} C/A ${ratio(c)}` : '';
  console.log(`${key.padEnd(48)} A ${fmt(a)} B ${fmt(b)} B/A ${ratio(b)}${third}`);
}
