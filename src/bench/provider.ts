import type { BenchProvider } from './types.js';

/**
 * Loads src/api lazily, so `stagewise bench --help` and bad flags never touch the native
 * addon. The specifier is a variable on purpose: the bench must not depend at compile
 * time on a module that is written in parallel and needs a GPU to load. What is missing
 * comes from src/runtime's readiness(), as in `stagewise info`.
 */
export async function loadDefaultProvider(): Promise<BenchProvider> {
  const specifier = '../api/index.js';
  const api = (await import(specifier)) as Partial<BenchProvider>;
  for (const name of ['prepareAttention', 'flops', 'deviceName'] as const) {
    if (typeof api[name] !== 'function') {
      throw new Error(`stagewise api (${specifier}) does not export ${name}()`);
    }
  }
  const { readiness } = await import('../runtime/devices.js');
  const presetSpecifier = './preset_gpu.js';
  const presets = (await import(presetSpecifier)) as Pick<BenchProvider, 'preparePreset'>;
  return {
    preparePreset: presets.preparePreset,
    missing: () => readiness(),
    prepareAttention: api.prepareAttention!.bind(api),
    flops: api.flops!.bind(api),
    deviceName: api.deviceName!.bind(api),
  };
}
