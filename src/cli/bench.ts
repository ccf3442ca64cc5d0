// `stagewise bench`: see src/bench/cli.ts for the command and src/bench/sweep.ts for its flags.
import { runBench } from '../bench/cli.js';

export async function run(argv: string[]): Promise<number> {
  return runBench(argv);
}
