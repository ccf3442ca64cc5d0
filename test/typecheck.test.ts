// vitest strips types without checking them, so a test file could drift from the API it calls and
// still run. This runs the compiler over src and test together (tsconfig.test.json), as `tsc` does
// over src for the build.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

describe('types', () => {
  it('src and test type-check together (tsconfig.test.json)', async () => {
    const out = await run(process.execPath, [tsc, '-p', 'tsconfig.test.json'], { maxBuffer: 16 << 20 }).then(
      () => '',
      (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}` || String(e),
    );
    expect(out).toBe('');
  }, 120_000);
});
