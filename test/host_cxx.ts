// Builds a program that includes a kernel header for the host (the mirror tests: masks.cuh,
// tiles.cuh, fragments.cuh), with the C++ compiler on PATH ($CXX, default g++), in a temporary folder removed
// after the test file.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll } from 'vitest';

export const run = promisify(execFile);
export const CXX = process.env.CXX ?? 'g++';
const KERNELS = fileURLToPath(new URL('../kernels/', import.meta.url));

/** Whether the compiler runs; when not, warns that `suite` is skipped. */
export async function hostCxx(suite: string): Promise<boolean> {
  const ok = await run(CXX, ['--version']).then(() => true, () => false);
  if (!ok) console.warn(`[stagewise] skipping '${suite}': no C++ compiler (${CXX}) on PATH`);
  return ok;
}

let work: string | undefined;
// Registered when a test file imports this module (hooks must be, not inside a test).
afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** Compiles `source` (C++17, kernels/ on the include path) and returns the executable's path. */
export async function buildHost(name: string, source: string, opt: '-O1' | '-O2'): Promise<string> {
  work ??= mkdtempSync(join(tmpdir(), 'stagewise-host-'));
  const exe = join(work, name);
  writeFileSync(`${exe}.cpp`, source);
  await run(CXX, ['-std=c++17', opt, '-I', KERNELS, '-o', exe, `${exe}.cpp`]);
  return exe;
}
