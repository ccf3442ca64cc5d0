// The disk cache itself (no NVRTC needed): keys, settings from the environment, entries.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheKey, cacheSettings } from '../../src/runtime/index.js';
import { readCache, writeCache } from '../../src/runtime/cache.js';

const parts = { source: 's', headers: { 'a.h': 'A', 'b.h': 'B' }, options: ['-O3'], arch: 'sm_90a', nvrtcVersion: '13.0' };

describe('cacheKey', () => {
  it('is a sha256 hex digest, stable and independent of header order', () => {
    const key = cacheKey(parts);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey({ ...parts, headers: { 'b.h': 'B', 'a.h': 'A' } })).toBe(key);
  });
  it('changes with source, a header, options, arch and NVRTC version', () => {
    const key = cacheKey(parts);
    for (const changed of [
      { ...parts, source: 't' },
      { ...parts, headers: { 'a.h': 'A', 'b.h': 'C' } },
      { ...parts, options: ['-O2'] },
      { ...parts, arch: 'sm_90' },
      { ...parts, nvrtcVersion: '12.8' },
    ])
      expect(cacheKey(changed)).not.toBe(key);
  });
});

describe('cacheSettings', () => {
  it('reads the directory, the off switch and strict mode from the environment', () => {
    expect(cacheSettings({ STAGEWISE_CACHE_DIR: '/x' })).toEqual({ enabled: true, strict: false, dir: '/x' });
    expect(cacheSettings({ XDG_CACHE_HOME: '/xdg' }).dir).toBe(path.join('/xdg', 'stagewise'));
    expect(cacheSettings({}).dir).toBe(path.join(os.homedir(), '.cache', 'stagewise'));
    expect(cacheSettings({ STAGEWISE_CACHE: '0' }).enabled).toBe(false);
    expect(cacheSettings({ STAGEWISE_CACHE_STRICT: '1' }).strict).toBe(true);
  });
});

describe('cache entries', () => {
  let dir: string;
  afterAll(async () => dir && rm(dir, { recursive: true, force: true }));

  it('round-trip, leave no temporary files, and miss cleanly', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'stagewise-cache-'));
    const cubin = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]);
    await writeCache(path.join(dir, 'sub'), 'k1', { cubin, log: 'ptxas info' });
    const hit = await readCache(path.join(dir, 'sub'), 'k1');
    expect(hit && Array.from(hit.cubin)).toEqual(Array.from(cubin));
    expect(hit?.log).toBe('ptxas info');
    expect((await readdir(path.join(dir, 'sub'))).sort()).toEqual(['k1.cubin', 'k1.log']);
    expect(await readCache(dir, 'absent')).toBeUndefined();
  });
});
