// The gate's floor from several runs: per config, the lowest best/torch-cudnn ratio of the given
// floor files (each written by `bench --preset ci ... --update-floor --floor FILE` on the runner's
// card). torch cuDNN's own number moved by up to 6% between runs of one H100 (bench/NOTES.md,
// session 9), more than the gate's 5% tolerance, so a floor from one run can fail the next run of
// the same kernels; the minimum over runs cannot. A config must be in every file.
// usage: node bench/dev/floor_min.mjs FLOOR.json FLOOR.json [...] > bench/floor.json
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (files.length < 2) {
  console.error('usage: node bench/dev/floor_min.mjs FLOOR.json FLOOR.json [...]');
  process.exit(2);
}
const floors = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const cards = new Set(floors.map((f) => f.card));
if (cards.size !== 1) {
  console.error(`floor_min: the runs are from different cards (${[...cards].join(', ')})`);
  process.exit(1);
}
const keys = Object.keys(floors[0].configs);
for (const [i, f] of floors.entries()) {
  const ks = Object.keys(f.configs);
  if (ks.length !== keys.length || !keys.every((k) => k in f.configs)) {
    console.error(`floor_min: ${files[i]} has other configs than ${files[0]}`);
    process.exit(1);
  }
}
const last = floors[floors.length - 1];
const out = {
  version: last.version,
  card: last.card,
  date: last.date,
  commit: last.commit,
  dirty: last.dirty,
  command: `per-config minimum over ${floors.length} runs (bench/dev/floor_min.mjs), each: ${last.command.replace(/ --json \S+| --floor \S+/g, '')}`,
  configs: Object.fromEntries(keys.map((k) => [k, { ratio: Math.min(...floors.map((f) => f.configs[k].ratio)) }])),
};
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
