// `npm pack` gives a package that installs: pack this checkout, install the tarball into an empty
// directory offline (its one dependency is bundled; the install script builds the addon against the
// running Node's own headers), import it, and run the installed bin. No GPU needed.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(path.join(tmpdir(), 'stagewise-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The environment without `npm test`'s own npm_* variables (package, lifecycle), which would
 * otherwise describe this checkout to the nested npm; its config (npm_config_*) stays. This
 * node first on PATH, so npm, the install script and the bin all run on the Node under test. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') || k.startsWith('npm_config_')));
  env.PATH = `${path.dirname(process.execPath)}${path.delimiter}${env.PATH ?? ''}`;
  return env;
}

async function sh(file: string, args: string[], cwd: string): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await exec(file, args, { cwd, env: cleanEnv(), maxBuffer: 64 << 20 });
    return { ok: true, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, out: `${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The install script builds with --nodedir=<prefix of this node> so that nothing is downloaded;
 * a Node without its headers would send node-gyp to the network, which an offline install can't. */
const nodeHeaders = path.resolve(process.execPath, '../../include/node/node_api.h');

describe('npm pack installs', () => {
  it('packs, installs offline into an empty directory, imports, and runs the bin', async (ctx) => {
    if (!existsSync(nodeHeaders)) {
      const reason = `this Node (${process.execPath}) has no headers at ${path.dirname(nodeHeaders)}, so building the addon offline is impossible`;
      console.warn(`[stagewise] skipping 'npm pack installs': ${reason}`);
      ctx.skip(reason);
    }

    const packDir = path.join(work, 'pack');
    mkdirSync(packDir);
    const pack = await sh('npm', ['pack', '--pack-destination', packDir], root);
    expect(pack.ok, pack.out).toBe(true);
    const tarballs = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
    expect(tarballs, pack.out).toHaveLength(1);
    const tgz = path.join(packDir, tarballs[0]);

    const app = path.join(work, 'app');
    mkdirSync(app);
    // The install script builds the addon: approve it as a user would (npm's allowScripts, keyed by
    // the tarball's identity), and make an unapproved one an error, not a silently unbuilt addon.
    const manifest = { name: 'stagewise-install-check', private: true, allowScripts: { [`file:${tgz}`]: true } };
    writeFileSync(path.join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    // node-addon-api (headers only) is bundled in the tarball, so the install needs nothing from the
    // registry or the cache: an ENOTCACHED here is a packaging bug, not the environment.
    const install = await sh('npm', ['install', '--offline', '--no-audit', '--no-fund', '--strict-allow-scripts', tgz], app);
    expect(install.ok, install.out).toBe(true);
    const installed = path.join(app, 'node_modules', 'stagewise');
    expect(existsSync(path.join(installed, 'build', 'Release', 'stagewise.node')), install.out).toBe(true);

    // The package's own entry point, and the addon the install script built, load from outside.
    const probe = await sh(process.execPath, ['--input-type=module', '-e', `
      const s = await import('stagewise');
      console.log(JSON.stringify({ describe: s.NAMED.secondDot.describe(), attention: typeof s.attention, addon: s.readiness().addon ?? null }));
    `], app);
    expect(probe.ok, probe.out).toBe(true);
    expect(JSON.parse(probe.out.trim().split('\n').at(-1)!)).toEqual({
      describe: 'MMA0(i+1) MMA1(i) Softmax(i+1) MUL(i+1) loadK(i+3) loadV(i+2)',
      attention: 'function',
      addon: null,
    });

    const bin = path.join(app, 'node_modules', '.bin', 'stagewise');
    const schedules = await sh(bin, ['schedules'], app);
    expect(schedules.ok, schedules.out).toBe(true);
    for (const name of ['baseline', 'firstDot', 'secondDot']) expect(schedules.out).toContain(name);

    const emit = await sh(bin, ['emit', '--schedule', 'secondDot', '--head-dim', '128'], app);
    expect(emit.ok, emit.out).toBe(true);
    expect(emit.out).toContain('stagewise_attn_fwd(');
    expect(emit.out).toContain('#include "attention.cuh"');
  }, 600_000);
});
