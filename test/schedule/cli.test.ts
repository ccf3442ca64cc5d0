// src/cli/schedules.ts, driven through run() with console output captured.
import { choose } from '../../src/codegen/index.js';
import { NAMED } from '../../src/schedule/index.js';
import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/schedules.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { out.push(a.join(' ')); });
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err.push(a.join(' ')); });
  const code = await run(argv);
  vi.restoreAllMocks();
  return { code, out: out.join('\n'), err: err.join('\n') };
}

afterEach(() => { vi.restoreAllMocks(); });

const FIRST_DOT = '{"loadK":[0,4],"loadV":[1,5],"MMA0":[2,0],"Softmax":[3,1],"MUL":[3,2],"MMA1":[3,3]}';

describe('stagewise schedules', () => {
  it('lists the named schedules as a table', async () => {
    const { code, out } = await cli();
    expect(code).toBe(0);
    expect(out).toMatch(/^name\s+S\s+K bufs\s+V bufs\s+S tiles\s+P tiles\s+steady-state body/);
    expect(out).toMatch(/baseline\s+2\s+3\s+3\s+1\s+1\s+MMA0\(i\) Softmax\(i\) MUL\(i\) MMA1\(i\) loadV\(i\+2\) loadK\(i\+2\)/);
    // The rings are the default hd128 kernel's plan (firstDot: the K ring shrinks to 2 for P's room).
    expect(out).toMatch(/firstDot\s+3\s+2\s+3\s+2\s+1\s+MMA0\(i\+1\)/);
    expect(out).toMatch(/secondDot\s+3\s+3\s+3\s+1\s+1\s+MMA0\(i\+1\) MMA1\(i\)/);
  });

  it('--help prints the options', async () => {
    const { code, out } = await cli('--help');
    expect(code).toBe(0);
    for (const flag of ['--check', '--all', '--max-stages', '--verbose', '--svg', '--schedule', '--trips']) expect(out).toContain(flag);
  });

  it('--check: a legal schedule prints its body and resources, exit 0', async () => {
    const { code, out } = await cli('--check', FIRST_DOT);
    expect(code).toBe(0);
    expect(out).toContain('legal: MMA0(i+1) Softmax(i) MUL(i) MMA1(i) loadK(i+3) loadV(i+2)');
    expect(out).toContain('S = 3; the schedule alone needs K 3 and V 3 ring slots');
    // Sizes come from the default kernel's plan, the same numbers the kernel is launched with.
    expect(out).toContain(`headDim 128: 128x128 tiles, rings K 2 / V 3, loads tma-producer, P in shared, turn wrap: ${choose(NAMED.firstDot, { headDim: 128 }).smem.launchBytes} B`);
    expect(out).toContain('headDim 256: 128x48 tiles, rings K 3 / V 3, loads tma-producer, P in registers, turn none');
  });

  it('--check: an illegal schedule names the op and rule, exit 1', async () => {
    const bad = '{"loadK":[0,4],"loadV":[2,5],"MMA0":[1,0],"Softmax":[1,1],"MUL":[1,2],"MMA1":[1,3]}';
    const { code, err } = await cli(`--check=${bad}`);
    expect(code).toBe(1);
    expect(err).toContain('MMA1 in stage 1 reads V(j) loaded by loadV in stage 2: a consumer cannot run before its producer');
    expect(err).toContain('rule dependence');
    expect((await cli('--check', '{"loadK":[0,0]}')).err).toMatch(/loadV is not placed/);
  });

  it('--check: unparsable JSON is a usage error, exit 2', async () => {
    const { code, err } = await cli('--check', '{"loadK":[0,');
    expect(code).toBe(2);
    expect(err).toMatch(/--check needs a schedule as JSON/);
  });

  it('--all counts, --verbose lists', async () => {
    const { code, out } = await cli('--all', '--max-stages', '2');
    expect(code).toBe(0);
    expect(out).toBe('293 legal schedules with stages 0..1 (one per body order and stage assignment)');
    const verbose = await cli('--all', '--max-stages=1', '-v');
    expect(verbose.out.split('\n')).toHaveLength(5 + 1);
    expect(verbose.out).toContain('"loadK":[0,0]');
  });

  it('--svg writes a timeline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagewise-'));
    try {
      const file = join(dir, 't.svg');
      const { code, out } = await cli('--svg', file, '--schedule', 'secondDot', '--trips', '4');
      expect(code).toBe(0);
      expect(out).toContain('T = 4, S = 3');
      const svg = readFileSync(file, 'utf8');
      expect(svg).toContain('secondDot: MMA0(i+1) MMA1(i)');
      expect((await cli('--svg', file, '--schedule', FIRST_DOT)).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad flags and values name the flag, exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--frobnicate'], /unknown option '--frobnicate'/],
      [['--all', '--max-stages', 'many'], /--max-stages must be an integer in 1\.\.6, got 'many'/],
      [['--all', '--max-stages', '9'], /--max-stages must be an integer/],
      [['--svg'], /--svg needs a value/],
      [['--svg', 'x.svg', '--schedule', 'fastest'], /--schedule: unknown schedule 'fastest'/],
      [['--svg', 'x.svg', '--trips', '0'], /--trips must be an integer/],
      [['--trips', '3'], /--trips only applies with --svg/],
      [['--all', '--check', FIRST_DOT], /--check and --all cannot be combined/],
      [['--all=yes'], /--all takes no value/],
    ];
    for (const [argv, message] of cases) {
      const { code, err } = await cli(...argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(err, argv.join(' ')).toMatch(message);
    }
  });
});
