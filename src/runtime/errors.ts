// Error classes of the runtime. Driver and NVRTC failures are plain Errors whose message is
// "<call>: <CUDA error name>" and whose `code` is that name (and `call` the call).

/** NVRTC rejected the source; `log` is NVRTC's whole log, which the message also carries. */
export class CompileError extends Error {
  readonly log: string;
  readonly code = 'NVRTC_ERROR_COMPILATION';
  constructor(message: string, log: string) {
    super(message);
    this.name = 'CompileError';
    this.log = log;
  }
}

/** STAGEWISE_CACHE_STRICT=1 and the kernel was not in the cache. */
export class CacheMissError extends Error {
  readonly key: string;
  constructor(name: string, key: string, dir: string) {
    super(`compile cache miss for '${name}' (key ${key}) in ${dir} with STAGEWISE_CACHE_STRICT=1`);
    this.name = 'CacheMissError';
    this.key = key;
  }
}
