// Development tool (host, no GPU): redraws a bench run's SVG from its --json file (the device returns
// the JSON; the SVG is drawn here). usage: node bench/dev/replot.mjs RUN.json OUT.svg
import { readFileSync, writeFileSync } from 'node:fs';
import { benchSvg } from '../../dist/bench/plot.js';

const [, , inFile, outFile] = process.argv;
const run = JSON.parse(readFileSync(inFile, 'utf8'));
writeFileSync(outFile, benchSvg(run.results, run.peers, run.card, run.options));
