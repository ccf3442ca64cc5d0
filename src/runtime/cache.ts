// Disk cache of cubins (tinygrad-style): key = sha256 of everything that decides the binary.
//   dir:     $STAGEWISE_CACHE_DIR, else $XDG_CACHE_HOME/stagewise, else ~/.cache/stagewise
//   off:     STAGEWISE_CACHE=0
//   strict:  STAGEWISE_CACHE_STRICT=1 makes a miss an error (tests that must not recompile)
// Entries are <key>.cubin and <key>.log, each written to a temporary file and renamed, so a
// reader never sees half an entry; the cubin is written last and marks the entry complete.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface CacheSettings {
  enabled: boolean;
  strict: boolean;
  dir: string;
}

export function cacheSettings(env: NodeJS.ProcessEnv = process.env): CacheSettings {
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return {
    enabled: env.STAGEWISE_CACHE !== '0',
    strict: env.STAGEWISE_CACHE_STRICT === '1',
    dir: env.STAGEWISE_CACHE_DIR || path.join(base, 'stagewise'),
  };
}

export interface CacheKeyParts {
  source: string;
  headers: Record<string, string>;
  options: string[];
  arch: string;
  nvrtcVersion: string;
}

export function cacheKey(parts: CacheKeyParts): string {
  const headers = Object.keys(parts.headers)
    .sort()
    .map((name) => [name, parts.headers[name]]);
  const canonical = JSON.stringify([1, parts.source, headers, parts.options, parts.arch, parts.nvrtcVersion]);
  return createHash('sha256').update(canonical).digest('hex');
}

export interface CacheEntry {
  cubin: Uint8Array;
  log: string;
}

export async function readCache(dir: string, key: string): Promise<CacheEntry | undefined> {
  let cubin: Buffer;
  try {
    cubin = await readFile(path.join(dir, `${key}.cubin`));
  } catch {
    return undefined;
  }
  const log = await readFile(path.join(dir, `${key}.log`), 'utf8').catch(() => '');
  return { cubin: new Uint8Array(cubin.buffer, cubin.byteOffset, cubin.byteLength), log };
}

export async function writeCache(dir: string, key: string, entry: CacheEntry): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeAtomically(path.join(dir, `${key}.log`), entry.log);
  await writeAtomically(path.join(dir, `${key}.cubin`), entry.cubin);
}

async function writeAtomically(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}
