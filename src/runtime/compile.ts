// CUDA C++ -> cubin through NVRTC, off the JS thread, through the disk cache (cache.ts).
import { CacheMissError, CompileError } from './errors.js';
import { cacheKey, cacheSettings, readCache, writeCache } from './cache.js';
import { NVRTC_FIX, nvrtcInfo } from './devices.js';
import { addonProblem, native } from './native.js';

export interface CompileOptions {
  /** The program's file name in NVRTC messages; default 'kernel.cu'. */
  name?: string;
  /** Headers the source may #include, by include name. */
  headers?: Record<string, string>;
  /** Extra NVRTC options, after the fixed ones (see FIXED_OPTIONS). */
  options?: string[];
  /** Target architecture; default 'sm_90a' (wgmma and setmaxnreg need the 'a'). */
  arch?: string;
}

export interface CompileResult {
  cubin: Uint8Array;
  /** NVRTC's log, with ptxas -v output (see parsePtxasInfo). */
  log: string;
  /** True when the cubin came from the disk cache and NVRTC did not run. */
  cached: boolean;
  /** The cache key (sha256 hex). */
  key: string;
}

/** Always passed, before the caller's options; --std is left out if the caller passes one. */
export const FIXED_OPTIONS = ['-default-device', '--std=c++17', '--ptxas-options=-v'] as const;

export async function compile(source: string, opts: CompileOptions = {}): Promise<CompileResult> {
  if (typeof source !== 'string' || source.length === 0) throw new TypeError('compile: source must be a non-empty string');
  const name = opts.name ?? 'kernel.cu';
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('compile: name must be a non-empty string');
  const headers = opts.headers ?? {};
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
    throw new TypeError('compile: headers must be an object of include name -> source');
  for (const [h, text] of Object.entries(headers))
    if (typeof text !== 'string') throw new TypeError(`compile: header '${h}' must be a string`);
  const extra = opts.options ?? [];
  if (!Array.isArray(extra) || extra.some((o) => typeof o !== 'string')) throw new TypeError('compile: options must be an array of strings');
  if (extra.some((o) => /^(--gpu-architecture|-arch)\b/.test(o)))
    throw new TypeError("compile: pass the architecture as opts.arch, not in options");
  const arch = opts.arch ?? 'sm_90a';
  if (typeof arch !== 'string' || !/^sm_\d+[a-z]?$/.test(arch))
    throw new RangeError(`compile: arch must look like 'sm_90a' (an sm_ target gives a cubin; compute_ gives PTX only), got '${arch}'`);

  const fixed = FIXED_OPTIONS.filter((o) => !(o.startsWith('--std') && extra.some((e) => e.startsWith('--std') || e.startsWith('-std'))));
  const options = [`--gpu-architecture=${arch}`, ...fixed, ...extra];

  const addon = addonProblem();
  if (addon) throw new Error(`compile: ${addon}`);
  const nvrtc = nvrtcInfo();
  if (!nvrtc.loaded) throw new Error(`compile: ${nvrtc.reason}; ${NVRTC_FIX}`);
  const key = cacheKey({ source, headers, options, arch, nvrtcVersion: `${nvrtc.version}` });

  const cache = cacheSettings();
  if (cache.enabled) {
    const hit = await readCache(cache.dir, key);
    if (hit) return { ...hit, cached: true, key };
    if (cache.strict) throw new CacheMissError(name, key, cache.dir);
  }

  const names = Object.keys(headers);
  let result: { cubin: Uint8Array; log: string };
  try {
    result = await native().compile(source, name, names, names.map((n) => headers[n]), options);
  } catch (err) {
    if (err instanceof Error && typeof (err as { log?: unknown }).log === 'string')
      throw new CompileError(`compile '${name}': ${err.message}`, (err as unknown as { log: string }).log);
    throw err;
  }
  const cubin = new Uint8Array(result.cubin.buffer, result.cubin.byteOffset, result.cubin.byteLength);
  if (cache.enabled) await writeCache(cache.dir, key, { cubin, log: result.log });
  return { cubin, log: result.log, cached: false, key };
}
