// Gating for tests that need hardware or NVRTC, shared by every test file:
//   describeGpu(name, fn)    runs only with a Hopper GPU (cc 9.x) and NVRTC
//   describeNvrtc(name, fn)  runs only where NVRTC loads (no GPU needed: compile to cubin)
// Otherwise the suite is skipped and the reason printed. STAGEWISE_REQUIRE_GPU=1 turns a
// missing GPU (or NVRTC) into a failing test; STAGEWISE_REQUIRE_NVRTC=1 does so for NVRTC.
import { describe, it } from 'vitest';
import { devices, isHopper, nvrtcInfo, type DeviceInfo } from '../src/runtime/index.js';

export interface Capability {
  available: boolean;
  /** Why not, when !available. */
  reason?: string;
  /** Whether the environment demands it (the skip becomes a failure). */
  required: boolean;
}

export interface GpuCapability extends Capability {
  device?: DeviceInfo;
}

export function detectNvrtc(env: NodeJS.ProcessEnv = process.env): Capability {
  const info = nvrtcInfo();
  const required = env.STAGEWISE_REQUIRE_NVRTC === '1' || env.STAGEWISE_REQUIRE_GPU === '1';
  return info.loaded ? { available: true, required } : { available: false, reason: info.reason, required };
}

export function detectGpu(env: NodeJS.ProcessEnv = process.env): GpuCapability {
  const required = env.STAGEWISE_REQUIRE_GPU === '1';
  const report = devices();
  const device = report.devices.find(isHopper);
  if (!device) {
    const found = report.devices.map((d) => `${d.name} (sm_${d.computeCapability.join('')})`).join(', ');
    const reason = report.devices.length ? `no Hopper GPU (cc 9.x); found ${found}` : `no CUDA device: ${report.reason}`;
    return { available: false, reason, required };
  }
  const nvrtc = nvrtcInfo();
  if (!nvrtc.loaded) return { available: false, reason: nvrtc.reason, required, device };
  return { available: true, required, device };
}

export const nvrtc = detectNvrtc();
export const gpu = detectGpu();

/** describe() gated on a capability: runs, skips with the reason printed, or fails if required. */
export function describeIf(capability: Capability, what: string, name: string, fn: () => void): void {
  if (capability.available) {
    describe(name, fn);
  } else if (capability.required) {
    describe(name, () => {
      it(`needs ${what}`, () => {
        throw new Error(`${what} required (STAGEWISE_REQUIRE_*=1) but unavailable: ${capability.reason}`);
      });
    });
  } else {
    console.warn(`[stagewise] skipping '${name}': ${capability.reason}`);
    describe.skip(name, fn);
  }
}

export function describeGpu(name: string, fn: () => void): void {
  describeIf(gpu, 'a Hopper GPU with NVRTC', name, fn);
}

export function describeNvrtc(name: string, fn: () => void): void {
  describeIf(nvrtc, 'NVRTC', name, fn);
}
