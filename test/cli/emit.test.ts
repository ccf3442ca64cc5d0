import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/emit.js';

const exec = promisify(execFile);

async function nvccVersion(): Promise<string | undefined> {
  try {
    return (await exec('nvcc', ['--version'])).stdout;
  } catch {
    return undefined;
  }
}

const hasNvcc = (await nvccVersion()) !== undefined;
if (!hasNvcc) console.warn("[stagewise] skipping 'emit --out compiles with nvcc': nvcc is not on PATH");

const work = mkdtempSync(path.join(tmpdir(), 'stagewise-emit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  return { out: () => out.join('\n'), err: () => err.join('\n') };
}

afterEach(() => vi.restoreAllMocks());

describe('stagewise emit', () => {
  it('prints the kernel for a named schedule', async () => {
    const c = capture();
    expect(await run(['--schedule', 'firstDot', '--head-dim', '128', '--dtype', 'bf16', '--load', 'cp.async', '--causal'])).toBe(0);
    expect(c.out()).toContain('stagewise_attn_fwd(');
    expect(c.out()).toContain('schedule firstDot, bf16, head dim 128');
    expect(c.out()).toContain('constexpr bool CAUSAL = true;');
    expect(c.out()).toContain('using Loads = CpAsyncLoads;');
  });
  it("takes --schedule auto: the plan names the schedule it picked and why", async () => {
    const c = capture();
    expect(await run(['--schedule', 'auto', '--head-dim', '128', '--seq-q', '1024', '--causal', '--plan'])).toBe(0);
    const plan = JSON.parse(c.out());
    expect(plan.schedule.name).toBe('baseline');
    expect(plan.decisions[0]).toMatch(/^schedule auto -> baseline: /);
    const d = capture();
    expect(await run(['--schedule', 'auto', '--head-dim', '128', '--seq-q', '8192'])).toBe(0);
    expect(d.out()).toMatch(/schedule secondDot/);
  });

  it('takes any knob by --knobs JSON, and names a key that is not a knob', async () => {
    const c = capture();
    expect(await run(['--schedule', 'baseline', '--head-dim', '128', '--seq-q', '1024', '--knobs', '{"lazyRescale":false,"kvShare":1}', '--plan'])).toBe(0);
    const plan = JSON.parse(c.out());
    expect([plan.lazyRescale, plan.kvShare]).toEqual([false, 1]);
    const d = capture();
    expect(await run(['--schedule', 'baseline', '--head-dim', '128', '--seq-q', '1024', '--plan'])).toBe(0);
    expect([JSON.parse(d.out()).lazyRescale, JSON.parse(d.out()).kvShare]).toEqual([true, 2]); // the defaults the knobs overrode
    const e = capture();
    expect(await run(['--schedule', 'baseline', '--head-dim', '128', '--knobs', '{"fast":true}'])).toBe(1);
    expect(e.err()).toMatch(/--knobs: 'fast' is not a kernel knob/);
    expect(await run(['--schedule', 'baseline', '--head-dim', '128', '--knobs', '[1]'])).toBe(1);
    expect(e.err()).toMatch(/--knobs expects a JSON object/);
  });

  it('accepts a schedule as JSON and prints headers on request', async () => {
    const c = capture();
    const json = '{"loadK":[0,0],"loadV":[0,1],"MMA0":[1,2],"Softmax":[1,3],"MUL":[1,4],"MMA1":[1,5]}';
    expect(await run(['--schedule', json, '--head-dim', '64', '--headers'])).toBe(0);
    expect(c.out()).toContain('===== ptx.cuh =====');
    expect(c.out()).toContain('wgmmaSS_m64n');
  });
  it('prints the default kernel unless a knob is given, and obeys --no-* knobs', async () => {
    let c = capture();
    expect(await run(['--schedule', 'firstDot', '--head-dim', '128'])).toBe(0);
    expect(c.out()).toContain('loads tma-producer, P in shared, turn wrap');
    vi.restoreAllMocks();
    c = capture();
    expect(await run(['--schedule', 'firstDot', '--head-dim', '128', '--no-pingpong', '--no-p-shared'])).toBe(0);
    expect(c.out()).toContain('using PPath = PInRegisters;');
    expect(c.out()).not.toContain('pingpongWait(c);');
    vi.restoreAllMocks();
    c = capture();
    expect(await run(['--schedule', 'secondDot', '--head-dim', '128', '--no-warp-specialized'])).toBe(0);
    expect(c.out()).toContain('using Loads = TmaLoads<TmaIssuer::Consumer>;');
  });
  it('rejects contradicting knobs', async () => {
    const c = capture();
    expect(await run(['--schedule', 'firstDot', '--head-dim', '128', '--p-shared', '--no-p-shared'])).toBe(1);
    expect(c.err()).toMatch(/--p-shared and --no-p-shared contradict each other/);
  });
  it('rejects bad input with the rule', async () => {
    const c = capture();
    expect(await run(['--schedule', 'baseline', '--head-dim', '96'])).toBe(1);
    expect(c.err()).toMatch(/headDim must be one of 64, 128, 256/);
    expect(await run(['--schedule', 'nope', '--head-dim', '64'])).toBe(1);
    expect(c.err()).toMatch(/schedule must be 'auto', one of/);
    expect(await run(['--bogus'])).toBe(2);
    expect(c.err()).toMatch(/unknown option '--bogus'/);
    expect(await run(['--head-dim', '64'])).toBe(1);
    expect(c.err()).toMatch(/--schedule is required/);
  });
});

describe('stagewise emit --out', () => {
  const out = path.join(work, 'secondDot-hd128');

  it('writes kernel.cu, with the nvcc command on its first line, and every header it includes', async () => {
    const c = capture();
    expect(await run(['--schedule', 'secondDot', '--head-dim', '128', '--causal', '--out', out])).toBe(0);
    expect(c.out()).toMatch(/^wrote .*kernel\.cu, /);
    const kernel = readFileSync(path.join(out, 'kernel.cu'), 'utf8');
    expect(kernel.split('\n')[0]).toMatch(/^\/\/ nvcc -arch=sm_90a -cubin .*kernel\.cu/);
    expect(kernel).toContain('stagewise_attn_fwd(');
    // Every quoted include, in the kernel and in the headers, is a file in the directory.
    const files = readdirSync(out);
    const includes = files.flatMap((f) => [...readFileSync(path.join(out, f), 'utf8').matchAll(/#include "([^"]+)"/g)].map((m) => m[1]));
    expect(includes).toContain('ptx.cuh');
    for (const name of includes) expect(files).toContain(name);
  });

  it.skipIf(!hasNvcc)('compiles with nvcc -arch=sm_90a -cubin DIR/kernel.cu as it is', async () => {
    const dir = path.join(work, 'firstDot-hd128');
    vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(await run(['--schedule', 'firstDot', '--head-dim', '128', '--out', dir])).toBe(0);
    const cwd = mkdtempSync(path.join(work, 'nvcc-'));
    await exec('nvcc', ['-arch=sm_90a', '-cubin', path.join(dir, 'kernel.cu')], { cwd, maxBuffer: 16 << 20 });
    expect(existsSync(path.join(cwd, 'kernel.cubin'))).toBe(true);
  }, 300_000);
});
