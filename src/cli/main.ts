#!/usr/bin/env node
// The stagewise command line: one module per command, loaded on demand so that
// `stagewise schedules` never touches the native addon.
import process from 'node:process';

interface Command {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  info: { summary: 'device, driver, NVRTC and cache; what is missing on this machine', load: () => import('./info.js') },
  schedules: { summary: 'list, check, enumerate and draw pipelining schedules', load: () => import('./schedules.js') },
  emit: { summary: 'print the generated CUDA source for a schedule and config', load: () => import('./emit.js') },
  bench: { summary: 'time schedules and configs (TFLOP/s), optionally beside torch/triton peers', load: () => import('./bench.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ['usage: stagewise <command> [options]', '', 'commands:', ...lines, '', "run 'stagewise <command> --help' for a command's options"].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`stagewise: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(`stagewise: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
