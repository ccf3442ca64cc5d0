// Development tool (host, no GPU): redraws a bench run's SVG from its --json file (the device returns
// the JSON; the SVG is drawn here). usage: node bench/dev/replot.mjs RUN.json OUT.svg
import { readFileSync, writeFileSync } from 'node:fs';
import { benchPlotPoints } from '../../dist/bench/plot.js';
import { renderSvg } from '../../dist/bench/svg.js';
const [, , inFile, outFile] = process.argv;
const d = JSON.parse(readFileSync(inFile, 'utf8'));
const svg = renderSvg(benchPlotPoints(d.results, d.peers), {
  title: `stagewise attention forward, ${d.card}`,
  subtitle: `TFLOP/s, median of ${d.options.rounds > 1 ? `${d.options.rounds} x ` : ''}${d.options.iterations} launches; colour = schedule, dashed = cp.async, dotted = peers`,
});
writeFileSync(outFile, svg);
